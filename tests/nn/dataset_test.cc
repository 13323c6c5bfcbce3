#include "nn/dataset.h"

#include <gtest/gtest.h>

#include "temp_dir.h"

namespace gl::nn {
namespace {

using testing::TempDir;

int Label(const std::string& language) {
  const auto& labels = DefaultLabels();
  return static_cast<int>(std::find(labels.begin(), labels.end(), language) - labels.begin());
}

class LoaderTest : public ::testing::Test {
 protected:
  // Loads `content` as a TSV file; expects failure and returns the message.
  std::string TsvError(const std::string& content) {
    Result<Dataset> r = LoadDataset(dir_.Write("data.tsv", content));
    EXPECT_FALSE(r.ok());
    return r.status().message();
  }
  TempDir dir_;
};

TEST_F(LoaderTest, ReadsAFolderOfLanguageFiles) {
  dir_.Write("Greek.txt", "Papadopoulos\nAntonopoulos\n");
  dir_.Write("Japanese.txt", "Nakamura\r\n\nSato");  // CRLF, blank line, no final newline
  dir_.Write("README.md", "not data");
  Result<Dataset> r = LoadDataset(dir_.path());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->labels, DefaultLabels());
  ASSERT_EQ(r->examples.size(), 4u);
  EXPECT_EQ(r->examples[0].name, "Papadopoulos");
  EXPECT_EQ(r->examples[0].label, Label("Greek"));
  EXPECT_EQ(r->examples[2].name, "Nakamura");
  EXPECT_EQ(r->examples[3].label, Label("Japanese"));
}

TEST_F(LoaderTest, ReadsTsvAndRoundTripsThroughWriteTsv) {
  Result<Dataset> r = LoadDataset(dir_.Write("in.tsv", "Müller\tGerman\nO'Neill\tIrish\n"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->examples.size(), 2u);
  EXPECT_EQ(r->examples[0].name, "Müller");
  EXPECT_EQ(r->examples[1].label, Label("Irish"));
  ASSERT_TRUE(WriteTsv(*r, dir_.File("out.tsv")).ok());
  Result<Dataset> again = LoadDataset(dir_.File("out.tsv"));
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(again->examples.size(), 2u);
  EXPECT_EQ(again->examples[0].name, "Müller");
  EXPECT_EQ(again->examples[1].label, r->examples[1].label);
}

TEST_F(LoaderTest, AByteOrderMarkIsNotPartOfTheFirstName) {
  dir_.Write("Czech.txt", "\xEF\xBB\xBFNovak\nDvorak\n");
  Result<Dataset> folder = LoadDataset(dir_.path());
  ASSERT_TRUE(folder.ok()) << folder.status().message();
  EXPECT_EQ(folder->examples.at(0).name, "Novak");
  Result<Dataset> tsv = LoadDataset(dir_.Write("data.tsv", "\xEF\xBB\xBFRossi\tItalian\r\n"));
  ASSERT_TRUE(tsv.ok()) << tsv.status().message();
  EXPECT_EQ(tsv->examples.at(0).name, "Rossi");
}

TEST_F(LoaderTest, MissingPathIsNotFound) {
  Result<Dataset> r = LoadDataset(dir_.File("nope"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kNotFound);
  EXPECT_NE(r.status().message().find("nope"), std::string::npos);
}

TEST_F(LoaderTest, EmptyFileNamesTheFile) {
  dir_.Write("Greek.txt", "");
  Result<Dataset> r = LoadDataset(dir_.path());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("Greek.txt: empty file"), std::string::npos) << r.status().message();
}

TEST_F(LoaderTest, FolderWithoutLanguageFilesFails) {
  dir_.Write("README.md", "x");
  EXPECT_FALSE(LoadDataset(dir_.path()).ok());
}

TEST_F(LoaderTest, UnknownLanguageFileFails) {
  dir_.Write("Klingon.txt", "Worf\n");
  Result<Dataset> r = LoadDataset(dir_.path());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("unknown language 'Klingon'"), std::string::npos);
}

TEST_F(LoaderTest, UnknownLanguageInTsvNamesFileAndLine) {
  EXPECT_NE(TsvError("Sato\tJapanese\nWorf\tKlingon\n").find("data.tsv:2: unknown language 'Klingon'"),
            std::string::npos);
}

TEST_F(LoaderTest, LineWithoutTabNamesFileAndLine) {
  EXPECT_NE(TsvError("Sato\tJapanese\n\nSato Japanese\n").find("data.tsv:3: no tab"), std::string::npos);
}

TEST_F(LoaderTest, InvalidUtf8NamesFileAndLine) {
  EXPECT_NE(TsvError("M\xFCller\tGerman\n").find("data.tsv:1: invalid UTF-8"), std::string::npos);
}

TEST_F(LoaderTest, OverlongLineNamesFileAndLine) {
  EXPECT_NE(TsvError(std::string(5000, 'a') + "\tGerman\n").find("data.tsv:1: line longer than the limit of 256 bytes"),
            std::string::npos);
}

TEST_F(LoaderTest, HugeLineWithoutNewlineFailsCleanly) {
  EXPECT_NE(TsvError(std::string(10'000'000, 'x')).find("data.tsv:1: line longer"), std::string::npos);
}

TEST_F(LoaderTest, EmptyNameIsBad) { EXPECT_NE(TsvError("\tGerman\n").find("empty name"), std::string::npos); }

TEST_F(LoaderTest, SkipBadLinesCountsAndReportsThem) {
  const std::string path = dir_.Write("data.tsv", "Sato\tJapanese\nbad\nWorf\tKlingon\nM\xFCller\tGerman\nRossi\tItalian\n");
  LoadOptions options;
  options.skip_bad_lines = true;
  LoadReport report;
  Result<Dataset> r = LoadDataset(path, options, &report);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->examples.size(), 2u);
  EXPECT_EQ(report.lines_read, 5u);
  EXPECT_EQ(report.lines_skipped, 3u);
  ASSERT_EQ(report.problems.size(), 3u);
  EXPECT_NE(report.problems[0].find("data.tsv:2:"), std::string::npos);
}

TEST_F(LoaderTest, SkippingEverythingStillFails) {
  LoadOptions options;
  options.skip_bad_lines = true;
  EXPECT_FALSE(LoadDataset(dir_.Write("data.tsv", "bad\nworse\n"), options).ok());
}

TEST(CountPerLabel, CountsEachLabel) {
  Dataset d{DefaultLabels(), {{"a", 0}, {"b", 2}, {"c", 2}}};
  const std::vector<std::size_t> counts = CountPerLabel(d);
  ASSERT_EQ(counts.size(), DefaultLabels().size());
  EXPECT_EQ(counts[0], 1u);
  EXPECT_EQ(counts[1], 0u);
  EXPECT_EQ(counts[2], 2u);
}

}  // namespace
}  // namespace gl::nn
