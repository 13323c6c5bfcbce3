// StatusServer on a real Unix socket: a client that never reads is dropped at the write
// deadline, an accept that fails for want of file descriptors is retried with a pause
// rather than in a loop, and the socket is never open to others.
#include "node/status_server.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <thread>
#include <vector>

namespace gl::node {
namespace {

using std::chrono::milliseconds;

double ProcessCpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

class StatusServerTest : public ::testing::Test {
 protected:
  void Start(std::string document, milliseconds write_timeout) {
    path_ = (std::filesystem::temp_directory_path() / ("gl-status-test-" + std::to_string(::getpid()))).string();
    server_ = std::make_unique<StatusServer>(io_, path_, [document] { return document; }, write_timeout);
    ASSERT_TRUE(server_->Start().ok());
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    asio::post(io_, [this] {
      server_->Stop();
      work_.reset();
    });
    if (thread_.joinable()) thread_.join();
  }
  // A connected client socket (blocking, with a receive timeout so that no test hangs).
  int Connect() {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof address.sun_path, "%s", path_.c_str());
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    timeval wait{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
    return fd;
  }
  // Reads until EOF, reset or the receive timeout; returns the bytes read.
  static std::size_t Drain(int fd) {
    std::vector<char> buffer(1 << 16);
    std::size_t total = 0;
    for (;;) {
      const ssize_t n = ::read(fd, buffer.data(), buffer.size());
      if (n <= 0) return total;
      total += static_cast<std::size_t>(n);
    }
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  std::string path_;
  std::unique_ptr<StatusServer> server_;
  std::thread thread_;
};

TEST_F(StatusServerTest, ClientThatDoesNotReadIsDroppedAtTheWriteDeadline) {
  const std::string big(20u << 20, 'x');  // far more than a socket buffer holds
  Start(big, milliseconds(300));
  const int lazy = Connect();
  std::this_thread::sleep_for(milliseconds(800));  // past the deadline, reading nothing
  EXPECT_LT(Drain(lazy), big.size()) << "the server kept the connection open for a client that did not read";
  ::close(lazy);

  const int reader = Connect();  // a client that reads gets the whole document
  EXPECT_EQ(Drain(reader), big.size() + 1);
  ::close(reader);
}

TEST_F(StatusServerTest, OutOfDescriptorsTheAcceptLoopPausesInsteadOfSpinning) {
  Start("{}", milliseconds(1000));
  const int waiting = ::socket(AF_UNIX, SOCK_STREAM, 0);  // made before the descriptors run out
  rlimit saved{};
  ::getrlimit(RLIMIT_NOFILE, &saved);
  rlimit tight = saved;
  tight.rlim_cur = 64;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &tight), 0);
  std::vector<int> fillers;
  for (int fd; (fd = ::open("/dev/null", O_RDONLY)) >= 0;) fillers.push_back(fd);

  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::snprintf(address.sun_path, sizeof address.sun_path, "%s", path_.c_str());
  ASSERT_EQ(::connect(waiting, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);  // queued, not accepted
  const double cpu_before = ProcessCpuSeconds();
  std::this_thread::sleep_for(milliseconds(1000));
  const double cpu_used = ProcessCpuSeconds() - cpu_before;

  for (int fd : fillers) ::close(fd);
  ::setrlimit(RLIMIT_NOFILE, &saved);
  EXPECT_LT(cpu_used, 0.3) << "the accept loop spun";
  // With descriptors back, the queued client is answered (after at most the longest pause).
  timeval wait{5, 0};
  ::setsockopt(waiting, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
  EXPECT_EQ(Drain(waiting), 3u);  // "{}\n"
  ::close(waiting);
}


// The socket's mode under a given process umask (restored afterwards).
class StatusServerModeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/status_server_test_" + std::to_string(::getpid());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

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
