// The symbols a name is encoded to for the GRU's one-hot input.
//
// Base symbols: a-z, A-Z, space and . , ; ' - (58). Two variants:
//  * kFoldAccents (the default): accented Latin letters are folded to their ASCII base
//    letter (é -> e, ß -> s, Ł -> L), as the PyTorch reference does.
//  * kKeepAccents: the accented letters that occur in data/names get symbols of their own.
// Measured on data/names (bench/RESULTS.md, "Model"): folding was as accurate
// as keeping accents (validation accuracy 0.8169 vs 0.8120 with default train; 0.9% of
// names carry an accent), with a smaller input layer, so it is the default.
// Both variants fold Vietnamese letters (ễ -> e, Đ -> D) and drop combining diacritical
// marks (U+0300..U+036F), so that decomposed (NFD) input encodes as its base letters:
// "Mu\u0308ller" as "Muller", which kFoldAccents also makes of "Müller". Folding maps
// into the symbols above and never adds one, so model signatures stay the same.
// Every other character (digits, other scripts, emoji, invalid UTF-8) maps to the unknown
// symbol, the last one, so nothing else is silently dropped.
//
// Immutable after construction; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace gl::nn {

enum class AlphabetKind : std::uint32_t { kFoldAccents = 0, kKeepAccents = 1 };  // values are file format

class Alphabet {
 public:
  explicit Alphabet(AlphabetKind kind);

  AlphabetKind kind() const { return kind_; }
  // Number of symbols, the unknown symbol included.
  int size() const { return static_cast<int>(symbols_.size()) + 1; }
  int unknown_symbol() const { return static_cast<int>(symbols_.size()); }
  // Symbol indices of the first `max_length` characters of `name`. Invalid UTF-8 ends
  // the name with one unknown symbol.
  std::vector<int> Encode(std::string_view name, int max_length) const;
  // How many characters of `name` encode to a letter (not to space, punctuation or the
  // unknown symbol): a name with none gives the model nothing to go on.
  int CountLetters(std::string_view name) const;
  // A short stable hash of the symbol table (for model signatures).
  std::uint32_t Fingerprint() const;

 private:
  AlphabetKind kind_;
  std::u32string symbols_;
  std::unordered_map<char32_t, int> index_;
};

}  // namespace gl::nn
