// TcpTransport and round requests: a RoundRequest's reply may take longer than io_timeout
// (the participant trains first), other requests may not.
#include <gtest/gtest.h>

#include <optional>

#include "cluster_util.h"
#include "gossip/wire/codec.h"
#include "gossip/wire/round_messages.h"
#include "gossip/wire/tcp_transport.h"

namespace gl::gossip {
namespace {

using std::chrono::milliseconds;

class RoundTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TcpOptions options;
    options.io_timeout = milliseconds(200);
    options.round_reply_timeout = milliseconds(3000);
    for (std::unique_ptr<TcpTransport>* transport : {&server_, &client_}) {
      Result<std::unique_ptr<TcpTransport>> created = TcpTransport::Create(io_, "127.0.0.1:0", options);
      ASSERT_TRUE(created.ok()) << created.status().ToString();
      *transport = std::move(created).value();
    }
    // Answers every request 600 ms late (a participant busy training), echoing its type's reply.
    server_->Listen([this](const std::string&, Frame request, Transport::Respond respond) {
      auto timer = std::make_shared<asio::steady_timer>(io_, milliseconds(600));
      const MessageType reply = request.type == MessageType::kRoundRequest ? MessageType::kRoundReply
                                                                           : MessageType::kPong;
      timer->async_wait([timer, reply, respond = std::move(respond)](const std::error_code& ec) {
        if (!ec) respond(Frame{reply, {}});
      });
    });
  }

  void TearDown() override {
    server_->Shutdown();
    client_->Shutdown();
  }

  // Sends `request` and runs the io_context until the reply handler reports.
  Status Ask(Frame request) {
    std::optional<Status> outcome;
    client_->Request(server_->LocalAddress(), std::move(request), milliseconds(5000),
                     [&outcome](Status status, Frame) { outcome = status; });
    EXPECT_TRUE(RunUntil(io_, [&] { return outcome.has_value(); }, milliseconds(6000)));
    return outcome.value_or(Status::Timeout("no outcome"));
  }

  asio::io_context io_;
  std::unique_ptr<TcpTransport> server_;
  std::unique_ptr<TcpTransport> client_;
};

TEST_F(RoundTransportTest, RoundRequestMayBeAnsweredAfterTheIoTimeout) {
  RoundRequest request{"coord", "127.0.0.1:1", 1, ModelSnapshot{"sig", {1.0f, 2.0f}, 1, 0}};
  EXPECT_TRUE(Ask(EncodeMessage(request)).ok());
}

TEST_F(RoundTransportTest, OtherRequestsStillTimeOutOnTheServingSide) {
  EXPECT_FALSE(Ask(EncodeMessage(Ping{"client"})).ok());
}

}  // namespace
}  // namespace gl::gossip
