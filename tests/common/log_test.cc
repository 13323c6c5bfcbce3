// The log's bounds: a call site writes at most its budget per window, later says how many
// lines it suppressed, and an over-long message is cut. Real stderr, captured by gtest.
#include "common/log.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

namespace gl {
namespace {

int CountLines(const std::string& text, const std::string& containing) {
  int lines = 0;
  for (std::size_t at = text.find(containing); at != std::string::npos; at = text.find(containing, at + 1)) ++lines;
  return lines;
}

class LogTest : public ::testing::Test {
 protected:
  void TearDown() override { SetLogRateLimit(20, std::chrono::seconds(10)); }  // the default
};

TEST_F(LogTest, RepeatedLinesFromOneSiteAreCappedAndTheRestSummed) {
  SetLogRateLimit(5, std::chrono::milliseconds(300));
  const auto log_from_one_site = [](const std::string& text) { GL_LOG(kWarn, "test") << text; };
  ::testing::internal::CaptureStderr();
  for (int i = 0; i < 1000; ++i) log_from_one_site("hostile line " + std::to_string(i));
  GL_LOG(kWarn, "test") << "another site";  // its own budget
  std::string out = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(CountLines(out, "hostile line"), 5) << out;
  EXPECT_EQ(CountLines(out, "another site"), 1) << out;

  // The window passes (a fixed 300 ms: waiting for time itself, not for a condition).
  std::this_thread::sleep_for(std::chrono::milliseconds(350));
  ::testing::internal::CaptureStderr();
  for (int i = 0; i < 2; ++i) log_from_one_site("hostile line again");
  out = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(CountLines(out, "hostile line again"), 2) << out;
  EXPECT_EQ(CountLines(out, "[995 similar lines suppressed]"), 1) << out;
}

TEST_F(LogTest, OverlongMessageIsCut) {
  ::testing::internal::CaptureStderr();
  GL_LOG(kWarn, "test") << std::string(300000, 'x');
  const std::string out = ::testing::internal::GetCapturedStderr();
  EXPECT_LT(out.size(), kMaxLogMessageBytes + 200);
  EXPECT_NE(out.find("... [" + std::to_string(300000 - kMaxLogMessageBytes) + " bytes cut]"), std::string::npos);
}

}  // namespace
}  // namespace gl
