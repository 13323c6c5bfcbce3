// TcpTransport with a cluster key, on real loopback sockets: keyed peers talk, everyone else
// (wrong key, no key, replayed frames, floods) is refused and counted per host.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <future>
#include <thread>

#include "transport_test_util.h"
#include "gossip/wire/auth.h"
#include "gossip/wire/codec.h"
#include "gossip/wire/tcp_transport.h"

namespace gl::gossip {
using test_util::ClosedByServer;
namespace {

using asio::ip::tcp;
using std::chrono::milliseconds;

constexpr auto kWait = std::chrono::seconds(5);

ClusterKey NewKey() { return *GenerateClusterKey(); }

class AuthTcpTest : public ::testing::Test {
 protected:
  void TearDown() override {
    asio::post(io_, [this] {
      for (auto& transport : transports_) transport->Shutdown();
      work_.reset();
    });
    if (thread_.joinable()) thread_.join();
  }

  // A transport that answers every request with a Pong carrying the request's body.
  TcpTransport& Add(std::optional<ClusterKey> key, double max_frames_per_second = 200, bool encrypt = false) {
    TcpOptions options{1u << 20, 8, milliseconds(500)};
    options.cluster_key = key;
    options.encrypt = encrypt;
    options.max_frames_per_second = max_frames_per_second;
    auto transport = TcpTransport::Create(io_, "127.0.0.1:0", options);
    EXPECT_TRUE(transport.ok()) << transport.status().ToString();
    (*transport)->Listen([](const std::string&, Frame request, Transport::Respond respond) {
      respond(Frame{MessageType::kPong, std::move(request.body)});
    });
    transports_.push_back(std::move(transport).value());
    return *transports_.back();
  }
  void Run() { thread_ = std::thread([this] { io_.run(); }); }

  template <class F>
  auto OnIo(F f) {
    return test_util::RunOnIo(io_, std::move(f));
  }

  Status Ping(TcpTransport& from, TcpTransport& to) {
    std::promise<Status> done;
    auto result = done.get_future();
    asio::post(io_, [&] {
      from.Request(to.LocalAddress(), EncodeMessage(gossip::Ping{"p"}), milliseconds(2000),
                   [&done](Status status, Frame reply) {
                     done.set_value(status.ok() && reply.type != MessageType::kPong
                                        ? Status::Corruption("unexpected reply type")
                                        : status);
                   });
    });
    EXPECT_EQ(result.wait_for(kWait), std::future_status::ready);
    return result.get();
  }

  std::uint64_t AuthFailures(TcpTransport& transport) {
    return OnIo([&] {
      const auto failures = transport.Security().auth_failures;
      const auto found = failures.find("127.0.0.1");
      return found == failures.end() ? std::uint64_t{0} : found->second;
    });
  }

  tcp::socket RawConnect(TcpTransport& to) {
    return test_util::RawConnect(raw_io_, OnIo([&] { return to.LocalAddress(); }), kWait);
  }
  static Frame ReadRaw(tcp::socket& socket) {
    std::array<std::uint8_t, kFrameHeaderSize> header{};
    asio::read(socket, asio::buffer(header));
    Result<FrameHeader> parsed = ParseHeader(header, 1u << 20);
    EXPECT_TRUE(parsed.ok());
    Frame frame{parsed->type, std::vector<std::uint8_t>(parsed->body_length), parsed->flags};
    asio::read(socket, asio::buffer(frame.body));
    return frame;
  }
  // Raw client handshake: returns the established session.
  std::unique_ptr<AuthSession> RawHandshake(tcp::socket& socket, const ClusterKey& key, bool encrypt = false) {
    auto session = std::make_unique<AuthSession>(key, AuthRole::kClient, encrypt);
    asio::write(socket, asio::buffer(EncodeFrame(session->NonceFrame())));
    EXPECT_TRUE(session->AcceptPeerNonce(ReadRaw(socket)).ok());
    return session;
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  asio::io_context raw_io_;
  std::vector<std::unique_ptr<TcpTransport>> transports_;
  std::thread thread_;
  ClusterKey key_ = NewKey();
};

TEST_F(AuthTcpTest, SameKeyTalksAndStaysUncounted) {
  TcpTransport& a = Add(key_);
  TcpTransport& b = Add(key_);
  Run();
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(Ping(a, b).ok());
  EXPECT_EQ(AuthFailures(a) + AuthFailures(b), 0u);
}

TEST_F(AuthTcpTest, EncryptingNodesTalk) {
  TcpTransport& a = Add(key_, 200, /*encrypt=*/true);
  TcpTransport& b = Add(key_, 200, /*encrypt=*/true);
  Run();
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(Ping(a, b).ok());
  EXPECT_EQ(AuthFailures(a) + AuthFailures(b), 0u);
}

TEST_F(AuthTcpTest, EncryptionMismatchIsRefusedBothWays) {
  TcpTransport& encrypting = Add(key_, 200, /*encrypt=*/true);
  TcpTransport& plain = Add(key_);
  Run();
  EXPECT_FALSE(Ping(plain, encrypting).ok());
  EXPECT_EQ(AuthFailures(encrypting), 1u);
  EXPECT_EQ(AuthFailures(plain), 1u);  // the connecting side counts it too
  EXPECT_FALSE(Ping(encrypting, plain).ok());
  EXPECT_EQ(AuthFailures(plain), 2u);
  EXPECT_EQ(AuthFailures(encrypting), 2u);
}

TEST_F(AuthTcpTest, WrongKeyIsRefusedAndCountedOnBothSides) {
  TcpTransport& server = Add(key_);
  TcpTransport& intruder = Add(NewKey());
  Run();
  Status status = Ping(intruder, server);
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(AuthFailures(server), 1u);
  // The connecting side sees only a reset; it names the likely cause and counts it.
  EXPECT_EQ(status.code(), Status::Code::kRejected);
  EXPECT_NE(status.message().find("authentication failed"), std::string::npos) << status.ToString();
  EXPECT_NE(status.message().find("same --key-file"), std::string::npos) << status.ToString();
  EXPECT_EQ(AuthFailures(intruder), 1u);
  EXPECT_FALSE(Ping(server, intruder).ok());
  EXPECT_EQ(AuthFailures(intruder), 2u) << "the intruder cannot read the server's request either";
  EXPECT_EQ(AuthFailures(server), 2u);
}

TEST_F(AuthTcpTest, OpenAndKeyedNodesDoNotTalk) {
  TcpTransport& keyed = Add(key_);
  TcpTransport& open = Add(std::nullopt);
  Run();
  EXPECT_FALSE(Ping(open, keyed).ok());
  EXPECT_EQ(AuthFailures(keyed), 1u);
  const Status refused = Ping(keyed, open);
  EXPECT_EQ(refused.code(), Status::Code::kRejected) << refused.ToString();
  EXPECT_NE(refused.message().find("without a key"), std::string::npos) << refused.message();
}

TEST_F(AuthTcpTest, ReplayedFrameOnANewConnectionIsRefused) {
  TcpTransport& server = Add(key_);
  Run();
  tcp::socket first = RawConnect(server);
  std::unique_ptr<AuthSession> session = RawHandshake(first, key_);
  const std::vector<std::uint8_t> sealed = session->Seal(EncodeMessage(gossip::Ping{"original"})).Wire();
  asio::write(first, asio::buffer(sealed));
  Frame reply = ReadRaw(first);
  ASSERT_TRUE(session->Open(std::move(reply)).ok());

  tcp::socket second = RawConnect(server);
  RawHandshake(second, key_);
  asio::write(second, asio::buffer(sealed));
  EXPECT_TRUE(ClosedByServer(second));
  EXPECT_EQ(AuthFailures(server), 1u);

  asio::write(first, asio::buffer(sealed));  // the same frame again on its own connection
  EXPECT_TRUE(ClosedByServer(first));
  EXPECT_EQ(AuthFailures(server), 2u);
}

TEST_F(AuthTcpTest, FrameWithATamperedMiddlePieceIsRefused) {
  TcpTransport& mac_only = Add(key_);
  TcpTransport& encrypting = Add(key_, 200, /*encrypt=*/true);
  Run();
  const Frame large{MessageType::kPing, std::vector<std::uint8_t>(3 << 16, 'x')};  // read in four 64 KiB pieces
  for (TcpTransport* server : {&mac_only, &encrypting}) {
    tcp::socket raw = RawConnect(*server);
    std::unique_ptr<AuthSession> session = RawHandshake(raw, key_, /*encrypt=*/server == &encrypting);
    asio::write(raw, asio::buffer(session->Seal(large).Wire()));
    Result<Frame> reply = session->Open(ReadRaw(raw));
    ASSERT_TRUE(reply.ok()) << reply.status().ToString();
    EXPECT_EQ(reply->type, MessageType::kPong);

    std::vector<std::uint8_t> tampered = session->Seal(large).Wire();
    tampered[kFrameHeaderSize + 100000] ^= 0x01;  // in the second piece
    asio::write(raw, asio::buffer(tampered));
    EXPECT_TRUE(ClosedByServer(raw));
    EXPECT_EQ(AuthFailures(*server), 1u);
  }
}

TEST_F(AuthTcpTest, UnsealedFrameAfterTheHandshakeIsRefused) {
  TcpTransport& server = Add(key_);
  Run();
  tcp::socket raw = RawConnect(server);
  RawHandshake(raw, key_);
  asio::write(raw, asio::buffer(EncodeFrame(EncodeMessage(gossip::Ping{"no tag, long enough body..."}))));
  EXPECT_TRUE(ClosedByServer(raw));
  EXPECT_EQ(AuthFailures(server), 1u);
}

TEST_F(AuthTcpTest, FloodingHostIsThrottled) {
  TcpTransport& server = Add(std::nullopt, /*max_frames_per_second=*/5);
  TcpTransport& client = Add(std::nullopt);
  Run();
  int ok = 0;
  for (int i = 0; i < 30; ++i) ok += Ping(client, server).ok();
  EXPECT_GE(ok, 10);  // the burst, and what refills while the loop runs
  EXPECT_LT(ok, 30);
  EXPECT_GT(OnIo([&] { return server.Security().frames_throttled; }), 0u);
}

TEST_F(AuthTcpTest, ThrottledHostIsResetAtAcceptBeforeTheHandshake) {
  TcpTransport& server = Add(key_, /*max_frames_per_second=*/0.01);  // a burst of 1, no refill in the test
  Run();
  tcp::socket spent = RawConnect(server);
  asio::write(spent, asio::buffer(std::string(kFrameHeaderSize, 'x')));  // a bad frame takes the token
  EXPECT_TRUE(ClosedByServer(spent));
  const auto served = [&] { return OnIo([&] { return server.Stats().connections; }); };
  const auto throttled = [&] { return OnIo([&] { return server.Security().frames_throttled; }); };
  const std::uint64_t served_before = served(), throttled_before = throttled();

  for (int i = 0; i < 3; ++i) {
    tcp::socket refused = RawConnect(server);  // sends nothing: only the accept can close it
    EXPECT_TRUE(ClosedByServer(refused));
  }
  EXPECT_EQ(served(), served_before);  // never served: no handshake, no read
  EXPECT_EQ(throttled(), throttled_before + 3);
  EXPECT_EQ(AuthFailures(server), 0u);
}

TEST_F(AuthTcpTest, EveryQueuedConnectionIsTakenAndCounted) {
  TcpTransport& server = Add(key_, /*max_frames_per_second=*/0.01);
  Run();
  tcp::socket spent = RawConnect(server);
  asio::write(spent, asio::buffer(std::string(kFrameHeaderSize, 'x')));
  EXPECT_TRUE(ClosedByServer(spent));
  // More connections than one accept batch, all queued at once while the server is busy.
  const std::string address = OnIo([&] { return server.LocalAddress(); });
  std::vector<tcp::socket> queued;
  OnIo([&] {
    for (int i = 0; i < 100; ++i) queued.push_back(test_util::RawConnect(raw_io_, address, kWait));
    return 0;
  });
  for (tcp::socket& socket : queued) EXPECT_TRUE(ClosedByServer(socket));
  EXPECT_EQ(OnIo([&] { return server.Security().frames_throttled; }), 100u);
}

}  // namespace
}  // namespace gl::gossip
