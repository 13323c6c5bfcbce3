// ReadWholeFile and CheckCanWriteFile against real files, folders and permissions.
#include "common/read_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "common/writable_path.h"

namespace gl {
namespace {

namespace fs = std::filesystem;

class FileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = fs::path(::testing::TempDir()) / ("gl-common-" + std::to_string(rd()) + std::to_string(rd()));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    fs::permissions(dir_, fs::perms::owner_all);
    fs::remove_all(dir_);
  }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }
  std::string Write(const std::string& name, const std::string& bytes) const {
    std::ofstream(dir_ / name, std::ios::binary) << bytes;
    return Path(name);
  }
  fs::path dir_;
};

TEST_F(FileTest, ReadsAFileWhole) {
  const std::string bytes("a\0b\nc", 5);
  Result<std::string> read = ReadWholeFile(Write("f", bytes), 100);
  ASSERT_TRUE(read.ok()) << read.status().message();
  EXPECT_EQ(*read, bytes);
}

TEST_F(FileTest, MissingIsNotFound) {
  EXPECT_EQ(ReadWholeFile(Path("none"), 100).status().code(), Status::Code::kNotFound);
}

TEST_F(FileTest, FolderIsAnIoErrorThatSaysSo) {
  fs::create_directory(Path("sub"));
  Result<std::string> read = ReadWholeFile(Path("sub"), 100);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), Status::Code::kIoError);
  EXPECT_NE(read.status().message().find("is a folder"), std::string::npos) << read.status().message();
}

TEST_F(FileTest, LargerThanTheLimitIsRefused) {
  EXPECT_FALSE(ReadWholeFile(Write("big", std::string(101, 'x')), 100).ok());
  EXPECT_TRUE(ReadWholeFile(Write("fits", std::string(100, 'x')), 100).ok());
}

TEST_F(FileTest, WritableFolderPassesAndLeavesNothingBehind) {
  EXPECT_TRUE(CheckCanWriteFile(Path("model.glm")).ok());
  EXPECT_TRUE(fs::is_empty(dir_));
}

TEST_F(FileTest, MissingFolderOrAFolderAsTheFileFails) {
  const Status missing = CheckCanWriteFile(Path("no/such/model.glm"));
  EXPECT_EQ(missing.code(), Status::Code::kIoError);
  EXPECT_NE(missing.message().find("no/such"), std::string::npos) << missing.message();
  EXPECT_EQ(CheckCanWriteFile(dir_.string()).code(), Status::Code::kInvalidArgument);
  EXPECT_FALSE(CheckCanWriteFile("").ok());
}

TEST_F(FileTest, ReadOnlyFolderFails) {
  if (::geteuid() == 0) GTEST_SKIP() << "root writes into read-only folders";
  fs::permissions(dir_, fs::perms::owner_read | fs::perms::owner_exec);
  EXPECT_EQ(CheckCanWriteFile(Path("model.glm")).code(), Status::Code::kIoError);
}

}  // namespace
}  // namespace gl
