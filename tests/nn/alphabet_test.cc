#include "nn/alphabet.h"

#include <gtest/gtest.h>

#include "nn/utf8.h"

namespace gl::nn {
namespace {

// Alphabet::Fingerprint() of each kind; a model's signature embeds it, so a change here
// makes every saved model and every running peer incompatible.
constexpr std::uint32_t kFoldFingerprint = 1295298358;
constexpr std::uint32_t kKeepFingerprint = 648015512;

TEST(Utf8, DecodesValidText) {
  std::u32string out;
  ASSERT_TRUE(DecodeUtf8("Müller-Łuk", &out));
  EXPECT_EQ(out, U"Müller-Łuk");
}

TEST(Utf8, RejectsMalformedSequences) {
  for (const std::string bad : {"\xC3", "\xC3\x28", "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xFF", "ab\xE2\x82"}) {
    std::u32string out;
    EXPECT_FALSE(DecodeUtf8(bad, &out)) << "accepted " << ::testing::PrintToString(bad);
  }
}

TEST(Utf8, StripsOnlyALeadingByteOrderMark) {
  EXPECT_EQ(StripUtf8Bom("\xEF\xBB\xBF" "Abe"), "Abe");
  EXPECT_EQ(StripUtf8Bom("Abe"), "Abe");
  EXPECT_EQ(StripUtf8Bom("A\xEF\xBB\xBF"), "A\xEF\xBB\xBF");
  EXPECT_EQ(StripUtf8Bom("\xEF\xBB"), "\xEF\xBB");
}

TEST(Alphabet, FoldsVietnameseLettersToTheirBaseLetter) {
  for (const AlphabetKind kind : {AlphabetKind::kFoldAccents, AlphabetKind::kKeepAccents}) {
    const Alphabet a(kind);
    EXPECT_EQ(a.Encode("Nguyễn", 20), a.Encode("Nguyen", 20));
    EXPECT_EQ(a.Encode("Trần Đức Lưu", 20), a.Encode("Tran Duc Luu", 20));
    EXPECT_EQ(a.Encode("Ạạ Ặặ Ẹẹ Ỉị Ọợ Ụự Ỳỹ", 40), a.Encode("Aa Aa Ee Ii Oo Uu Yy", 40));
    EXPECT_EQ(a.Encode("ĂăƠơƯưĨĩŨũ", 20), a.Encode("AaOoUuIiUu", 20));
  }
}

TEST(Alphabet, DecomposedInputEncodesLikeItsFoldedForm) {
  const std::string nfd_muller = "Mu\xCC\x88ller";             // u + COMBINING DIAERESIS
  const std::string nfd_nguyen = "Nguye\xCC\x82\xCC\x83n";  // e + circumflex + tilde
  const Alphabet fold(AlphabetKind::kFoldAccents);
  EXPECT_EQ(fold.Encode(nfd_muller, 20), fold.Encode("Müller", 20));
  EXPECT_EQ(fold.Encode(nfd_nguyen, 20), fold.Encode("Nguyen", 20));
  const Alphabet keep(AlphabetKind::kKeepAccents);
  EXPECT_EQ(keep.Encode(nfd_muller, 20), keep.Encode("Muller", 20));
  // The marks do not count against the length either.
  EXPECT_EQ(fold.Encode(nfd_muller, 3), fold.Encode("Mul", 20));
}

TEST(Alphabet, FoldingKeepsTheSymbolTableAndSoTheModelSignature) {
  // Models saved by earlier builds carry these fingerprints in their signatures.
  EXPECT_EQ(Alphabet(AlphabetKind::kFoldAccents).size(), 59);
  EXPECT_EQ(Alphabet(AlphabetKind::kFoldAccents).Fingerprint(), kFoldFingerprint);
  EXPECT_EQ(Alphabet(AlphabetKind::kKeepAccents).Fingerprint(), kKeepFingerprint);
}

TEST(Alphabet, CountLettersCountsOnlyLetters) {
  const Alphabet a(AlphabetKind::kFoldAccents);
  EXPECT_EQ(a.CountLetters("O'Neil-Smith"), 10);
  EXPECT_EQ(a.CountLetters("Müller"), 6);
  EXPECT_EQ(a.CountLetters(""), 0);
  EXPECT_EQ(a.CountLetters("  .-' "), 0);
  EXPECT_EQ(a.CountLetters("\xF0\x9F\x98\x80"), 0);  // an emoji
  EXPECT_EQ(a.CountLetters("123"), 0);
  EXPECT_EQ(a.CountLetters("Ab\xF0\x9F\x98\x80"), 2);
  EXPECT_EQ(Alphabet(AlphabetKind::kKeepAccents).CountLetters("Müller"), 6);
}

TEST(Alphabet, FoldsAccentsToTheirBaseLetter) {
  const Alphabet a(AlphabetKind::kFoldAccents);
  EXPECT_EQ(a.Encode("Méßner", 20), a.Encode("Mesner", 20));
  EXPECT_EQ(a.Encode("Śliż", 20), a.Encode("Sliz", 20));
}

TEST(Alphabet, KeepAccentsGivesThemTheirOwnSymbols) {
  const Alphabet keep(AlphabetKind::kKeepAccents);
  const Alphabet fold(AlphabetKind::kFoldAccents);
  EXPECT_GT(keep.size(), fold.size());
  EXPECT_NE(keep.Encode("é", 20), keep.Encode("e", 20));
  EXPECT_NE(keep.Fingerprint(), fold.Fingerprint());
}

TEST(Alphabet, UnknownCharactersMapToTheUnknownSymbol) {
  const Alphabet a(AlphabetKind::kFoldAccents);
  const std::vector<int> symbols = a.Encode("A1Ж", 20);
  ASSERT_EQ(symbols.size(), 3u);
  EXPECT_NE(symbols[0], a.unknown_symbol());
  EXPECT_EQ(symbols[1], a.unknown_symbol());
  EXPECT_EQ(symbols[2], a.unknown_symbol());
  EXPECT_EQ(a.Encode("ab\xFF", 20).back(), a.unknown_symbol());
}

TEST(Alphabet, TruncatesToMaxLength) {
  const Alphabet a(AlphabetKind::kFoldAccents);
  EXPECT_EQ(a.Encode("Abcdefghij", 4), a.Encode("Abcd", 20));
  for (int s : a.Encode("Zy Ab.,;'-", 20)) EXPECT_LT(s, a.unknown_symbol());
}

}  // namespace
}  // namespace gl::nn
