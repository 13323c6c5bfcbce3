#include "nn/alphabet.h"

#include <algorithm>
#include <limits>

#include "nn/hash.h"
#include "nn/utf8.h"

namespace gl::nn {
namespace {

constexpr std::string_view kNonLetters = " .,;'-";
constexpr std::string_view kBaseSymbols =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ .,;'-";

// Pairs (accented letter, ASCII base letter): first those that occur in data/names,
// then the rest of Latin-1 and the common Central European letters.
constexpr std::string_view kPairsSeenInData = "éeöoíióoäaáaüuàaßsúuñnŚSòoèeãażzŻZńnłląaùuõoìiêeçcÉEÁA";
constexpr std::string_view kOtherPairs =
    "âaåaæaëeïiîiôoøoûuýyÿyÀAÂAÄAÅAÈEÊEËEÌIÍIÎIÏIÑNÒOÓOÔOÕOÖOØOÙUÚUÛUÜUÝYÇC"
    "ćcĆCęeĘEśsźzŹZŁLŃNĄAčcČCřrŘRšsŠSžzŽZěeďdťtňnůu"
    "ĂAăaĐDđdĨIĩiŨUũuƠOơoƯUưu";

// The Vietnamese block of Latin Extended Additional: letters with tone marks, capital and
// small in turn (Ạ ạ Ả ả ...), each range built on one base letter.
struct FoldRange {
  char32_t first, last;
  char base_capital;
};
constexpr FoldRange kVietnameseRanges[] = {{0x1EA0, 0x1EB7, 'A'}, {0x1EB8, 0x1EC7, 'E'}, {0x1EC8, 0x1ECB, 'I'},
                                           {0x1ECC, 0x1EE3, 'O'}, {0x1EE4, 0x1EF1, 'U'}, {0x1EF2, 0x1EF9, 'Y'}};

bool IsCombiningMark(char32_t cp) { return cp >= 0x0300 && cp <= 0x036F; }

std::u32string Decode(std::string_view text) {
  std::u32string out;
  DecodeUtf8(text, &out);
  return out;
}

}  // namespace

Alphabet::Alphabet(AlphabetKind kind) : kind_(kind) {
  symbols_ = Decode(kBaseSymbols);
  for (std::size_t i = 0; i < symbols_.size(); ++i) index_[symbols_[i]] = static_cast<int>(i);
  const std::u32string seen = Decode(kPairsSeenInData);
  const std::u32string pairs = seen + Decode(kOtherPairs);
  // kKeepAccents gives its own symbol to each letter seen in data/names.
  const std::size_t kept = kind == AlphabetKind::kKeepAccents ? seen.size() : 0;
  for (std::size_t i = 0; i + 1 < pairs.size(); i += 2) {
    if (i < kept) {
      index_[pairs[i]] = static_cast<int>(symbols_.size());
      symbols_.push_back(pairs[i]);
    } else {
      index_[pairs[i]] = index_.at(pairs[i + 1]);
    }
  }
  for (const FoldRange& range : kVietnameseRanges) {
    const int capital = index_.at(static_cast<unsigned char>(range.base_capital));
    const int small = index_.at(static_cast<unsigned char>(range.base_capital - 'A' + 'a'));
    for (char32_t cp = range.first; cp <= range.last; ++cp) index_[cp] = (cp - range.first) % 2 == 0 ? capital : small;
  }
}

std::vector<int> Alphabet::Encode(std::string_view name, int max_length) const {
  std::u32string code_points;
  const bool valid = DecodeUtf8(name, &code_points);
  if (!valid) code_points.push_back(U'\uFFFD');
  std::vector<int> out;
  out.reserve(std::min<std::size_t>(code_points.size(), static_cast<std::size_t>(max_length)));
  for (char32_t cp : code_points) {
    if (static_cast<int>(out.size()) >= max_length) break;
    if (IsCombiningMark(cp)) continue;
    const auto it = index_.find(cp);
    out.push_back(it == index_.end() ? unknown_symbol() : it->second);
  }
  return out;
}

int Alphabet::CountLetters(std::string_view name) const {
  int letters = 0;
  for (int symbol : Encode(name, std::numeric_limits<int>::max())) {
    if (symbol == unknown_symbol()) continue;
    const char32_t cp = symbols_[symbol];
    if (cp >= 0x80 || kNonLetters.find(static_cast<char>(cp)) == std::string_view::npos) ++letters;
  }
  return letters;
}

std::uint32_t Alphabet::Fingerprint() const {
  std::string bytes;
  for (char32_t cp : symbols_) {
    for (int shift = 0; shift < 32; shift += 8) bytes.push_back(static_cast<char>((cp >> shift) & 0xFF));
  }
  return static_cast<std::uint32_t>(Fnv1a64(bytes));
}

}  // namespace gl::nn
