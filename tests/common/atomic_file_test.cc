// Atomic writes on real files: a write that fails for lack of space leaves the old contents
// and no temporary file; the rotating write rotates only once the new file is complete.
#include "common/atomic_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "common/read_file.h"
#include "file_size_limit.h"

namespace gl {
namespace {
namespace fs = std::filesystem;

class AtomicFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/atomic_file_test_" + std::to_string(::getpid());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Read(const std::string& name) { return ReadWholeFile(dir_ + "/" + name, 1 << 20).value(); }
  int FilesInDir() { return static_cast<int>(std::distance(fs::directory_iterator(dir_), fs::directory_iterator())); }

  std::string dir_;
};

TEST_F(AtomicFileTest, FullDiskLeavesTheOldFileAndNoTemporary) {
  ASSERT_TRUE(WriteFileAtomically(dir_ + "/f", "old").ok());
  Status s;
  {
    FileSizeLimit full(1000);
    s = WriteFileAtomically(dir_ + "/f", std::string(5000, 'x'));
  }
  EXPECT_EQ(s.code(), Status::Code::kIoError);
  EXPECT_NE(s.message().find("disk full"), std::string::npos) << s.ToString();
  EXPECT_EQ(Read("f"), "old");
  EXPECT_EQ(FilesInDir(), 1) << "a temporary file was left behind";
}

TEST_F(AtomicFileTest, KeepingPreviousRotatesOnlyAfterACompleteWrite) {
  ASSERT_TRUE(WriteFileAtomicallyKeepingPrevious(dir_ + "/new", dir_ + "/prev", "one").ok());
  EXPECT_FALSE(fs::exists(dir_ + "/prev"));
  ASSERT_TRUE(WriteFileAtomicallyKeepingPrevious(dir_ + "/new", dir_ + "/prev", "two").ok());
  EXPECT_EQ(Read("new"), "two");
  EXPECT_EQ(Read("prev"), "one");
  {
    FileSizeLimit full(1000);
    EXPECT_FALSE(WriteFileAtomicallyKeepingPrevious(dir_ + "/new", dir_ + "/prev", std::string(5000, 'x')).ok());
  }
  EXPECT_EQ(Read("new"), "two");
  EXPECT_EQ(Read("prev"), "one");
  EXPECT_EQ(FilesInDir(), 2) << "a temporary file was left behind";
}

}  // namespace
}  // namespace gl
