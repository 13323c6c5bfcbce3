#include "node/status_server.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

namespace gl::node {
namespace {
namespace fs = std::filesystem;

// The socket's mode under a given process umask (restored afterwards).
class StatusServerModeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/status_server_test_" + std::to_string(::getpid());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  mode_t SocketModeUnder(mode_t mask) {
    const mode_t old = ::umask(mask);
    asio::io_context io;
    StatusServer server(io, dir_ + "/status.sock", [] { return std::string("{}"); });
    const Status started = server.Start();
    ::umask(old);
    EXPECT_TRUE(started.ok()) << started.message();
    struct stat info {};
    EXPECT_EQ(::stat((dir_ + "/status.sock").c_str(), &info), 0);
    return info.st_mode & 0777;
  }

  std::string dir_;
};

TEST_F(StatusServerModeTest, OwnerOnlyUnderAnOrdinaryUmask) {
  // 0640 and 0600: the group cannot connect (connecting needs write permission)
  EXPECT_EQ(SocketModeUnder(022), 0640u);
  EXPECT_EQ(SocketModeUnder(077), 0600u);
}

TEST_F(StatusServerModeTest, TheGroupMayConnectUnderTheServiceUmask) {
  EXPECT_EQ(SocketModeUnder(007), 0660u);
}

TEST_F(StatusServerModeTest, OthersNeverGetAccess) {
  EXPECT_EQ(SocketModeUnder(0), 0660u);
}

}  // namespace
}  // namespace gl::node
