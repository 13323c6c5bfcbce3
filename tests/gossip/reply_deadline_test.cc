// How long a transport waits for its handler's reply is the handler's to say, whatever the
// message type: on TcpTransport a handler that calls Respond::ExpectReplyWithin may answer after
// io_timeout, one that does not is cut off at io_timeout, a RoundRequest included. On
// InMemoryNetwork only the requester's timeout counts.
#include <gtest/gtest.h>

#include <optional>

#include "cluster_util.h"
#include "gossip/wire/codec.h"
#include "gossip/wire/in_memory_transport.h"
#include "gossip/wire/round_messages.h"
#include "gossip/wire/tcp_transport.h"

namespace gl::gossip {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kIoTimeout{200};
constexpr milliseconds kLateBy{600};  // the handler answers this late: after kIoTimeout

Frame RoundRequestFrame() {
  return EncodeMessage(RoundRequest{"coord", "127.0.0.1:1", 1, ModelSnapshot{"sig", {1.0f, 2.0f}, 1, 0}});
}

// Answers every request kLateBy late (a participant busy training); first extends the reply
// deadline if the request is a Ping, so that the type the transport sees decides nothing.
Transport::RequestHandler LateHandler(asio::io_context& io) {
  return [&io](const std::string&, Frame request, Transport::Respond respond) {
    if (request.type == MessageType::kPing) respond.ExpectReplyWithin(milliseconds(3000));
    auto timer = std::make_shared<asio::steady_timer>(io, kLateBy);
    timer->async_wait([timer, respond = std::move(respond)](const std::error_code& ec) {
      if (!ec) respond(EncodeMessage(Pong{"late"}));
    });
  };
}

class ReplyDeadlineTest : public ::testing::Test {
 protected:
  // Sends `request` from `client` to `server` and runs the io_context until the reply handler reports.
  Status Ask(Transport& client, const Transport& server, Frame request, milliseconds timeout = milliseconds(5000)) {
    std::optional<Status> outcome;
    io_.restart();  // an in-memory network leaves the io_context without work between requests
    client.Request(server.LocalAddress(), std::move(request), timeout,
                   [&outcome](Status status, Frame) { outcome = status; });
    EXPECT_TRUE(RunUntil(io_, [&] { return outcome.has_value(); }, timeout + milliseconds(1000)));
    return outcome.value_or(Status::Timeout("no outcome"));
  }

  asio::io_context io_;
};

class TcpReplyDeadlineTest : public ReplyDeadlineTest {
 protected:
  void SetUp() override {
    TcpOptions options;
    options.io_timeout = kIoTimeout;
    for (std::unique_ptr<TcpTransport>* transport : {&server_, &client_}) {
      Result<std::unique_ptr<TcpTransport>> created = TcpTransport::Create(io_, "127.0.0.1:0", options);
      ASSERT_TRUE(created.ok()) << created.status().ToString();
      *transport = std::move(created).value();
    }
    server_->Listen(LateHandler(io_));
  }
  void TearDown() override {
    server_->Shutdown();
    client_->Shutdown();
  }

  std::unique_ptr<TcpTransport> server_;
  std::unique_ptr<TcpTransport> client_;
};

TEST_F(TcpReplyDeadlineTest, AHandlerThatExpectsALateReplyMayAnswerAfterTheIoTimeout) {
  EXPECT_TRUE(Ask(*client_, *server_, EncodeMessage(Ping{"client"})).ok());
}

TEST_F(TcpReplyDeadlineTest, ARoundRequestGetsNoLongerDeadlineThanAnyOtherMessage) {
  const Status outcome = Ask(*client_, *server_, RoundRequestFrame());
  EXPECT_FALSE(outcome.ok()) << "the transport itself gave a RoundRequest a longer reply deadline";
}

TEST_F(TcpReplyDeadlineTest, TheRequesterTimeoutStillBoundsAnExtendedReply) {
  EXPECT_EQ(Ask(*client_, *server_, EncodeMessage(Ping{"client"}), milliseconds(300)).code(), Status::Code::kTimeout);
}

TEST_F(ReplyDeadlineTest, InMemoryOnlyTheRequesterTimeoutCounts) {
  InMemoryNetwork network(io_);
  std::unique_ptr<Transport> server = network.NewTransport("server:1");
  std::unique_ptr<Transport> client = network.NewTransport("client:1");
  server->Listen(LateHandler(io_));
  EXPECT_TRUE(Ask(*client, *server, RoundRequestFrame()).ok());
  EXPECT_TRUE(Ask(*client, *server, EncodeMessage(Ping{"client"})).ok());
  EXPECT_EQ(Ask(*client, *server, RoundRequestFrame(), milliseconds(300)).code(), Status::Code::kTimeout);
}

}  // namespace
}  // namespace gl::gossip
