// StatusServer on a real Unix socket: every client gets the whole document and a newline;
// what a client sends (garbage, megabytes) is never read and changes nothing; a client that
// never reads is dropped at the write deadline; at most kMaxStatusClients are served at once;
// a stale socket file is replaced, a live one is not taken over; an accept that fails for
// want of file descriptors is retried with a pause rather than in a loop; and the socket is
// never open to others.
#include "node/status_server.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/types.h>
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

TEST_F(StatusServerTest, EveryClientGetsTheWholeDocumentAndANewline) {
  const std::string document = R"({"id":"pi-1","peers":[]})";
  Start(document, milliseconds(1000));
  for (int i = 0; i < 3; ++i) {
    Result<std::string> read = ReadStatus(path_);
    ASSERT_TRUE(read.ok()) << read.status().ToString();
    EXPECT_EQ(*read, document + "\n");
  }
}

TEST_F(StatusServerTest, WhatAClientSendsIsIgnoredAndTheServerGoesOn) {
  // Larger than a socket buffer, so that the server is still writing while a client floods it.
  const std::string document = R"({"id":"pi-1","pad":")" + std::string(1u << 20, 'p') + R"("})";
  Start(document, milliseconds(2000));
  const int garbage = Connect();
  const std::string junk = "\x00\xff{not json\nGET / HTTP/1.0\r\n\r\nstatus --set role=coordinator\n";
  ASSERT_EQ(::send(garbage, junk.data(), junk.size(), MSG_NOSIGNAL), static_cast<ssize_t>(junk.size()));
  EXPECT_EQ(Drain(garbage), document.size() + 1);
  ::close(garbage);

  // Megabytes at once: as many as the socket takes without blocking (the server reads none).
  const int flooder = Connect();
  const std::vector<char> oversized(8u << 20, 'x');
  std::size_t sent = 0;
  for (ssize_t n; (n = ::send(flooder, oversized.data() + sent, oversized.size() - sent, MSG_DONTWAIT | MSG_NOSIGNAL)) > 0;) {
    sent += static_cast<std::size_t>(n);
  }
  EXPECT_GT(sent, 0u);
  EXPECT_EQ(Drain(flooder), document.size() + 1);
  ::close(flooder);

  Result<std::string> after = ReadStatus(path_);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(*after, document + "\n");
}

TEST_F(StatusServerTest, AtMostTheMaximumOfClientsAreServedAtOnce) {
  const std::string big(8u << 20, 'x');  // more than a socket buffer: a client that does not read stays
  Start(big, milliseconds(5000));
  std::vector<int> lazy;
  for (std::size_t i = 0; i < kMaxStatusClients; ++i) lazy.push_back(Connect());
  // Served in order: once the last lazy client has its first bytes, all of them hold a slot.
  char first = 0;
  ASSERT_EQ(::recv(lazy.back(), &first, 1, 0), 1);
  const int one_too_many = Connect();
  EXPECT_EQ(Drain(one_too_many), 0u) << "a client beyond the maximum was answered";
  ::close(one_too_many);
  // Slots are free again once the server saw those clients go (its pending writes fail).
  for (int fd : lazy) ::close(fd);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  std::size_t answered = 0;
  while (answered == 0 && std::chrono::steady_clock::now() < deadline) {
    const int reader = Connect();
    answered = Drain(reader);
    ::close(reader);
  }
  EXPECT_EQ(answered, big.size() + 1);
}

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


// A socket file a killed node left behind (nobody answers on it) is replaced; one a live
// node answers on is not taken over.
TEST(StatusServerPathTest, AStaleSocketFileIsReplacedALiveOneIsNot) {
  const std::string path = ::testing::TempDir() + "/gl-status-stale-" + std::to_string(::getpid());
  {
    const int stale = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof address.sun_path, "%s", path.c_str());
    ASSERT_EQ(::bind(stale, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    ::close(stale);  // the file stays, with nobody behind it
  }
  asio::io_context io;
  StatusServer first(io, path, [] { return std::string("{}"); });
  const Status started = first.Start();
  ASSERT_TRUE(started.ok()) << started.ToString();
  StatusServer second(io, path, [] { return std::string("{}"); });
  const Status taken = second.Start();
  EXPECT_FALSE(taken.ok()) << "a second server took over a live status socket";
  EXPECT_NE(taken.message().find(path), std::string::npos) << taken.message();
  first.Stop();
  EXPECT_FALSE(std::filesystem::exists(path)) << "Stop left the socket file";
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
