// A folder lock refuses a second holder, naming the first one's pid, and frees on release.
#include "common/dir_lock.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace gl {
namespace {

TEST(DirLockTest, SecondHolderIsRefusedWithTheFirstOnesPid) {
  const std::string dir = ::testing::TempDir() + "/dir_lock_test_" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  {
    Result<std::unique_ptr<DirLock>> first = DirLock::Acquire(dir);
    ASSERT_TRUE(first.ok()) << first.status().ToString();
    // flock is per open file: a second Acquire, even in this process, is refused.
    Result<std::unique_ptr<DirLock>> second = DirLock::Acquire(dir);
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.status().code(), Status::Code::kUnavailable);
    EXPECT_NE(second.status().message().find("process " + std::to_string(::getpid())), std::string::npos)
        << second.status().ToString();
  }
  EXPECT_TRUE(DirLock::Acquire(dir).ok()) << "released with its holder";
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace gl
