// TcpTransport on real loopback sockets. The io_context runs on its own thread; the test
// thread plays a raw, misbehaving client with blocking sockets.
#include "transport_test_util.h"
#include "gossip/wire/tcp_transport.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <future>
#include <thread>

#include "gossip/wire/codec.h"

namespace gl::gossip {
using test_util::ClosedByServer;
namespace {

using asio::ip::tcp;
using std::chrono::milliseconds;

constexpr auto kWait = std::chrono::seconds(5);  // deadline for anything that should be quick

class TcpTransportTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer(ServerOptions()); }
  virtual TcpOptions ServerOptions() const { return TcpOptions{1u << 20, 4, milliseconds(300)}; }

  void StartServer(const TcpOptions& options, const std::string& listen = "127.0.0.1:0") {
    auto server = TcpTransport::Create(io_, listen, options);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    auto client = TcpTransport::Create(io_, listen, options);
    ASSERT_TRUE(client.ok());
    client_ = std::move(client).value();
    // Echo server: answers a Ping with a Pong carrying the same body; keeps a Hello unanswered.
    server_->Listen([this](const std::string&, Frame request, Transport::Respond respond) {
      ++requests_served_;
      if (request.type == MessageType::kHello) {
        held_responses_.push_back(std::move(respond));  // the requester must time out
        return;
      }
      respond(Frame{MessageType::kPong, std::move(request.body)});
    });
    thread_ = std::thread([this] { io_.run(); });
  }

  void TearDown() override {
    asio::post(io_, [this] {
      held_responses_.clear();
      server_->Shutdown();
      client_->Shutdown();
      work_.reset();
    });
    if (thread_.joinable()) thread_.join();
  }

  // Runs `f` on the io thread and waits for its result.
  template <class F>
  auto OnIo(F f) {
    return test_util::RunOnIo(io_, std::move(f));
  }

  // Sends a request from the client transport; returns the status and reply.
  std::pair<Status, Frame> Request(const std::string& to, Frame request, milliseconds timeout = milliseconds(2000)) {
    std::promise<std::pair<Status, Frame>> done;
    auto result = done.get_future();
    asio::post(io_, [&, request = std::move(request)]() mutable {
      client_->Request(to, std::move(request), timeout,
                       [&done](Status status, Frame reply) { done.set_value({status, std::move(reply)}); });
    });
    EXPECT_EQ(result.wait_for(kWait), std::future_status::ready);
    return result.get();
  }

  std::string ServerAddress() { return OnIo([this] { return server_->LocalAddress(); }); }
  TransportStats ServerStats() { return OnIo([this] { return server_->Stats(); }); }

  tcp::socket RawConnect() { return test_util::RawConnect(raw_io_, ServerAddress(), kWait); }

  static std::vector<std::uint8_t> PingBytes() { return EncodeFrame(EncodeMessage(Ping{"raw"})); }

  // Sends a Ping on `raw` and reads the whole reply frame; returns its type.
  static MessageType PingAndReadReply(tcp::socket& raw) {
    asio::write(raw, asio::buffer(PingBytes()));
    std::array<std::uint8_t, kFrameHeaderSize> header{};
    asio::read(raw, asio::buffer(header));
    Result<FrameHeader> reply = ParseHeader(header, 1024);
    EXPECT_TRUE(reply.ok()) << reply.status().ToString();
    if (!reply.ok()) return MessageType::kError;
    std::vector<std::uint8_t> body(reply->body_length);
    asio::read(raw, asio::buffer(body));
    return reply->type;
  }

  void ExpectNormalRequestStillWorks() {
    auto [status, reply] = Request(ServerAddress(), EncodeMessage(Ping{"after"}));
    ASSERT_TRUE(status.ok()) << status.ToString();
    EXPECT_EQ(reply.type, MessageType::kPong);
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  asio::io_context raw_io_;
  std::unique_ptr<TcpTransport> server_;
  std::unique_ptr<TcpTransport> client_;
  std::thread thread_;
  std::atomic<int> requests_served_{0};
  std::vector<Transport::Respond> held_responses_;  // io thread only
};

TEST_F(TcpTransportTest, BindsARealPort) {
  const std::string address = ServerAddress();
  EXPECT_EQ(address.rfind("127.0.0.1:", 0), 0u);
  EXPECT_NE(address, "127.0.0.1:0");
}

TEST_F(TcpTransportTest, RoundTrip) {
  auto [status, reply] = Request(ServerAddress(), EncodeMessage(Ping{"hello"}));
  ASSERT_TRUE(status.ok()) << status.ToString();
  Result<Pong> pong = DecodeMessage<Pong>(reply);
  ASSERT_TRUE(pong.ok());
  EXPECT_EQ(pong->node_id, "hello");
  const TransportStats stats = ServerStats();
  EXPECT_EQ(stats.bytes_received, stats.bytes_sent);
  EXPECT_EQ(stats.connections, 1u);
}

TEST_F(TcpTransportTest, LargeModelRoundTrip) {
  ExchangeRequest request{"a", ModelSnapshot{"sig", std::vector<float>(75000, 0.25f), 1, 1}};
  Frame frame = EncodeMessage(request);
  const std::size_t body = frame.body.size();
  auto [status, reply] = Request(ServerAddress(), std::move(frame));
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(reply.body.size(), body);
}

TEST_F(TcpTransportTest, RefusedConnectionIsUnavailable) {
  tcp::acceptor closed(raw_io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const auto port = closed.local_endpoint().port();
  closed.close();
  auto [status, reply] = Request("127.0.0.1:" + std::to_string(port), EncodeMessage(Ping{"x"}));
  EXPECT_EQ(status.code(), Status::Code::kUnavailable) << status.ToString();
}

TEST_F(TcpTransportTest, BadAddressIsInvalidArgument) {
  auto [status, reply] = Request("no-port-here", EncodeMessage(Ping{"x"}));
  EXPECT_EQ(status.code(), Status::Code::kInvalidArgument) << status.ToString();
}

TEST_F(TcpTransportTest, UnansweredRequestTimesOut) {
  const auto start = std::chrono::steady_clock::now();
  auto [status, reply] = Request(ServerAddress(), EncodeMessage(Hello{}), milliseconds(200));
  EXPECT_EQ(status.code(), Status::Code::kTimeout) << status.ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST_F(TcpTransportTest, GarbageClosesTheConnection) {
  tcp::socket raw = RawConnect();
  asio::write(raw, asio::buffer(std::string("GET / HTTP/1.0\r\n\r\n")));
  EXPECT_TRUE(ClosedByServer(raw));
  ExpectNormalRequestStillWorks();
  EXPECT_EQ(ServerStats().frames_rejected, 1u);
}

TEST_F(TcpTransportTest, BadFrameGetsAResetAndAHangUpBetweenFramesAFin) {
  std::array<char, 256> buffer{};
  std::error_code ec;
  tcp::socket bad = RawConnect();
  asio::write(bad, asio::buffer(std::string("GET / HTTP/1.0\r\n\r\n")));
  bad.read_some(asio::buffer(buffer), ec);
  EXPECT_EQ(ec, asio::error::connection_reset);

  tcp::socket polite = RawConnect();
  EXPECT_EQ(PingAndReadReply(polite), MessageType::kPong);
  polite.shutdown(tcp::socket::shutdown_send);
  polite.read_some(asio::buffer(buffer), ec);
  EXPECT_EQ(ec, asio::error::eof);
}

TEST_F(TcpTransportTest, WrongVersionClosesTheConnection) {
  auto bytes = PingBytes();
  bytes[4] = kProtocolVersion + 1;
  tcp::socket raw = RawConnect();
  asio::write(raw, asio::buffer(bytes));
  EXPECT_TRUE(ClosedByServer(raw));
  ExpectNormalRequestStillWorks();
  EXPECT_EQ(ServerStats().frames_rejected, 1u);
}

TEST_F(TcpTransportTest, HugeLengthClosesTheConnectionWithoutReadingOn) {
  const auto header = EncodeHeader(MessageType::kExchangeRequest, 0xFFFFFFFFu);
  tcp::socket raw = RawConnect();
  asio::write(raw, asio::buffer(header));
  EXPECT_TRUE(ClosedByServer(raw));
  ExpectNormalRequestStillWorks();
  EXPECT_EQ(ServerStats().frames_rejected, 1u);
  EXPECT_EQ(requests_served_, 1);  // only the normal one
}

TEST_F(TcpTransportTest, TruncatedFrameClosesTheConnectionAtTheDeadline) {
  auto bytes = PingBytes();
  bytes.resize(bytes.size() - 2);  // the body never completes
  tcp::socket raw = RawConnect();
  asio::write(raw, asio::buffer(bytes));
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(ClosedByServer(raw));
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(250));  // io_timeout is 300 ms
  ExpectNormalRequestStillWorks();
  EXPECT_EQ(ServerStats().frames_rejected, 1u);
}

TEST_F(TcpTransportTest, TruncatedFrameThenHangUpIsRejected) {
  auto bytes = PingBytes();
  bytes.resize(kFrameHeaderSize + 1);
  tcp::socket raw = RawConnect();
  asio::write(raw, asio::buffer(bytes));
  raw.shutdown(tcp::socket::shutdown_send);
  EXPECT_TRUE(ClosedByServer(raw));
  ExpectNormalRequestStillWorks();
  EXPECT_EQ(ServerStats().frames_rejected, 1u);
}

TEST_F(TcpTransportTest, ServedConnectionCarriesSeveralRequests) {
  tcp::socket raw = RawConnect();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(PingAndReadReply(raw), MessageType::kPong);
  EXPECT_EQ(requests_served_, 3);
}

TEST_F(TcpTransportTest, ConnectionsBeyondTheLimitAreClosed) {
  std::vector<tcp::socket> idle;
  for (int i = 0; i < 4; ++i) idle.push_back(RawConnect());  // the limit is 4
  // Wait until the server has accepted all four.
  const auto end = std::chrono::steady_clock::now() + kWait;
  while (ServerStats().connections < 4 && std::chrono::steady_clock::now() < end) std::this_thread::yield();
  tcp::socket extra = RawConnect();
  EXPECT_TRUE(ClosedByServer(extra));
  EXPECT_EQ(ServerStats().connections_refused, 1u);
  idle.clear();  // closing them frees the slots
  const auto again = std::chrono::steady_clock::now() + kWait;
  Status status = Status::Unavailable("not tried");
  while (!status.ok() && std::chrono::steady_clock::now() < again) {
    status = Request(ServerAddress(), EncodeMessage(Ping{"x"})).first;
  }
  EXPECT_TRUE(status.ok()) << status.ToString();
}

// A whole listen queue of half-sent frames from one address: past its host's
// max_connections_per_host they are reset on accept, so a request from another host is
// still served at once (without the cap, all 32 slots were held until io_timeout).
class TcpTransportSlotTest : public TcpTransportTest {
 protected:
  TcpOptions ServerOptions() const override {
    TcpOptions options;  // defaults: 32 connections, 8 per host
    options.io_timeout = milliseconds(10000);
    options.first_frame_timeout = milliseconds(300);
    return options;
  }
};

TEST_F(TcpTransportSlotTest, OneHostCannotHoldEverySlot) {
  const auto half_header = PingBytes();
  std::vector<tcp::socket> attacker;
  for (int i = 0; i < 32; ++i) {
    attacker.push_back(test_util::RawConnect(raw_io_, ServerAddress(), kWait, "127.0.0.2"));
    std::error_code refused;  // those past the cap are reset at once
    asio::write(attacker.back(), asio::buffer(half_header.data(), kFrameHeaderSize / 2), refused);
  }
  const auto end = std::chrono::steady_clock::now() + kWait;
  while (ServerStats().connections + ServerStats().connections_refused < 32 && std::chrono::steady_clock::now() < end) {
    std::this_thread::yield();
  }
  EXPECT_EQ(ServerStats().connections, 8u);  // the default max_connections_per_host
  EXPECT_EQ(ServerStats().connections_refused, 24u);
  const auto start = std::chrono::steady_clock::now();
  ExpectNormalRequestStillWorks();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

// A connection that sends nothing loses its slot at first_frame_timeout, long before
// io_timeout; after its first frame, the usual io_timeout applies between requests.
TEST_F(TcpTransportSlotTest, SilentConnectionIsClosedAtTheFirstFrameDeadline) {
  tcp::socket silent = RawConnect();
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(ClosedByServer(silent));
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_GE(waited, milliseconds(250));
  EXPECT_LT(waited, milliseconds(3000));

  tcp::socket polite = RawConnect();
  EXPECT_EQ(PingAndReadReply(polite), MessageType::kPong);
  // Served once: the next request may take io_timeout, so the connection is still open
  // well after the first-frame deadline.
  timeval short_wait{1, 0};
  setsockopt(polite.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &short_wait, sizeof short_wait);
  std::array<char, 16> buffer{};
  const ssize_t got = ::recv(polite.native_handle(), buffer.data(), buffer.size(), 0);
  EXPECT_EQ(got, -1);
  EXPECT_TRUE(errno == EAGAIN || errno == EWOULDBLOCK) << "closed: recv returned " << got;
}

TEST_F(TcpTransportTest, ShutdownIsIdempotentAndFailsLaterRequests) {
  const std::string address = ServerAddress();
  OnIo([this] {
    client_->Shutdown();
    client_->Shutdown();
    return 0;
  });
  auto [status, reply] = Request(address, EncodeMessage(Ping{"x"}));
  EXPECT_EQ(status.code(), Status::Code::kUnavailable);
  EXPECT_NE(status.message().find("shut down"), std::string::npos);
}

// IPv6 addresses are read as everywhere else (common/host_port.h): in brackets.
class TcpTransportIpv6Test : public TcpTransportTest {
 protected:
  void SetUp() override {
    std::error_code ec;
    tcp::acceptor probe(raw_io_);
    probe.open(tcp::v6(), ec);
    if (!ec) probe.bind(tcp::endpoint(asio::ip::address_v6::loopback(), 0), ec);
    if (ec) GTEST_SKIP() << "no IPv6 loopback (::1) on this machine: " << ec.message();
    StartServer(ServerOptions(), "[::1]:0");
  }
};

TEST_F(TcpTransportIpv6Test, ListensAndAnswersOnABracketedAddress) {
  const std::string address = ServerAddress();
  EXPECT_EQ(address.rfind("[::1]:", 0), 0u) << address;
  auto [status, reply] = Request(address, EncodeMessage(Ping{"v6"}));
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(DecodeMessage<Pong>(reply).value().node_id, "v6");
}

TEST_F(TcpTransportIpv6Test, UnbracketedAddressIsRefusedSayingTheForm) {
  const std::string address = ServerAddress();
  const std::string unbracketed = "::1" + address.substr(address.find("]:") + 1);  // "::1:PORT"
  auto [status, reply] = Request(unbracketed, EncodeMessage(Ping{"x"}));
  EXPECT_EQ(status.code(), Status::Code::kInvalidArgument) << status.ToString();
  EXPECT_NE(status.message().find("brackets"), std::string::npos) << status.ToString();
  EXPECT_EQ(requests_served_, 0);
  Status listen = TcpTransport::Create(raw_io_, "::1:0", TcpOptions{}).status();
  EXPECT_EQ(listen.code(), Status::Code::kInvalidArgument) << listen.ToString();
  EXPECT_NE(listen.message().find("HOST:PORT"), std::string::npos) << listen.ToString();
}

TEST(TcpTransportCreateTest, RejectsBadListenAddresses) {
  asio::io_context io;
  EXPECT_EQ(TcpTransport::Create(io, "localhost", TcpOptions{}).status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(TcpTransport::Create(io, "1.2.3:80", TcpOptions{}).status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(TcpTransport::Create(io, "127.0.0.1:80:1", TcpOptions{}).status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(TcpTransport::Create(io, "192.0.2.1:0", TcpOptions{}).status().code(), Status::Code::kIoError);
}

}  // namespace
}  // namespace gl::gossip
