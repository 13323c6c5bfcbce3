#include "nn/alphabet.h"

#include <gtest/gtest.h>

#include "nn/utf8.h"

namespace gl::nn {
namespace {

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
