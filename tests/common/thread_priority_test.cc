// The calling thread's nice value goes up by the increment, and only that thread's.
#include "common/thread_priority.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

namespace gl {
namespace {

int NiceOfThisThread() { return ::getpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid))); }

TEST(ThreadPriorityTest, LowersOnlyTheCallingThread) {
  const int before = NiceOfThisThread();
  int in_thread_before = 0, in_thread_after = 0;
  Status status;
  std::thread([&] {
    in_thread_before = NiceOfThisThread();
    status = LowerThisThreadPriority(5);
    in_thread_after = NiceOfThisThread();
  }).join();
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(in_thread_before, before);
  EXPECT_EQ(in_thread_after, std::min(19, before + 5));
  EXPECT_EQ(NiceOfThisThread(), before);
}

TEST(ThreadPriorityTest, ZeroLeavesThePriorityAlone) {
  int before = 0, after = 0;
  std::thread([&] {
    before = NiceOfThisThread();
    EXPECT_TRUE(LowerThisThreadPriority(0).ok());
    after = NiceOfThisThread();
  }).join();
  EXPECT_EQ(after, before);
}

}  // namespace
}  // namespace gl
