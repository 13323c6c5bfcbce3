// The answering half of Engine: requests that peers start.
#include <utility>

#include "common/log.h"
#include "gossip/wire/codec.h"
#include "gossip/engine.h"
#include "gossip/merge/peer_key.h"
#include "gossip/wire/model_codec.h"

namespace gl::gossip {
namespace {
constexpr const char* kLog = "gossip";
}  // namespace

void Engine::OnRequest(const std::string& from, Frame request, Transport::Respond respond) {
  switch (request.type) {
    case MessageType::kHello:
      return AnswerHello(from, request, respond);
    case MessageType::kExchangeRequest:
      return AnswerExchange(from, request, respond);
    case MessageType::kPush:
      return AnswerPush(from, request, respond);
    case MessageType::kPing: {
      Result<Ping> ping = DecodeMessage<Ping>(request);
      if (!ping.ok()) return RejectMalformed(from, ping.status(), respond);
      return respond(EncodeMessage(Pong{options_.node_id}));
    }
    case MessageType::kRoundRequest:
      if (round_handler_) return round_handler_(from, std::move(request), std::move(respond));
      return respond(EncodeMessage(Error{"this node does not serve rounds"}));
    default:
      respond(EncodeMessage(Error{"message type " + std::to_string(static_cast<int>(request.type)) +
                                  " is not a request"}));
  }
}

void Engine::AnswerHello(const std::string& from, const Frame& request, const Transport::Respond& respond) {
  Result<Hello> hello = DecodeMessage<Hello>(request);
  if (!hello.ok()) return RejectMalformed(from, hello.status(), respond);
  // Our Hello goes back either way: the peer decides about us on its own. Nothing is recorded:
  // the sender cannot prove the id and listen address it claims (a forged Hello naming an
  // honest peer must not get that peer marked); our own Hello to a peer decides about it.
  const HelloLevel level =
      hello->features != 0 ? HelloLevel::kFull : (hello->codecs.empty() ? HelloLevel::kPlain : HelloLevel::kCodecs);
  respond(EncodeMessage(MyHello(level)));
  if (Status compatible = CheckCompatible(*hello); !compatible.ok()) {
    std::uint64_t suppressed = 0;
    if (hello_log_gate_.ShouldLog(from.substr(0, from.rfind(':')), Now(), suppressed)) {
      GL_LOG(kWarn, kLog) << "incompatible Hello from " << from << " answered, nothing recorded: "
                          << compatible.message()
                          << (suppressed > 0 ? " (+" + std::to_string(suppressed) + " like it not logged)" : "");
    }
  }
}

template <class Message>
std::optional<Message> Engine::ReceiveModel(const std::string& from, const Frame& request,
                                            const Transport::Respond& respond) {
  Result<Message> received = DecodeMessage<Message>(request);
  if (!received.ok()) {
    RejectMalformed(from, received.status(), respond);
    return std::nullopt;
  }
  if (Status accepted = CheckAccepted(received->codec); !accepted.ok()) {
    RejectMalformed(from, accepted, respond);
    return std::nullopt;
  }
  if (Status valid = CheckReceived(received->sender_id, from, received->model); !valid.ok()) {
    GL_LOG(kWarn, kLog) << "model from " << received->sender_id << " at " << from << " not merged: "
                        << valid.message();
    respond(EncodeMessage(Error{valid.message()}));
    return std::nullopt;
  }
  return std::move(received).value();
}

void Engine::AnswerExchange(const std::string& from, const Frame& request, const Transport::Respond& respond) {
  std::optional<ExchangeRequest> exchange = ReceiveModel<ExchangeRequest>(from, request, respond);
  if (!exchange) return;
  respond(EncodeMessage(ReplyTo(*exchange)));
  store_.Offer(ReceivedModel{PeerKey(exchange->sender_id, from), std::move(exchange->model)});
  ++counters_.exchanges_ok;
  OnModelReceived();
}

ExchangeReply Engine::ReplyTo(const ExchangeRequest& exchange) {
  // In the request's codec: the requester chose it as the best both accept.
  ExchangeReply reply{options_.node_id, store_.Snapshot(), exchange.codec};
  if (exchange.reply_codec != ModelCodec::kInt4Delta || !CheckAccepted(ModelCodec::kInt4Delta).ok()) return reply;
  // The request's values as decoded are what the requester adds back.
  std::optional<std::vector<float>> difference = DifferenceFrom(reply.model.params, exchange.model.params);
  if (!difference) return reply;
  reply.model.params = std::move(*difference);
  reply.codec = ModelCodec::kInt4Delta;
  return reply;
}

void Engine::AnswerPush(const std::string& from, const Frame& request, const Transport::Respond& respond) {
  // As a build that predates pushes would, but with an answer instead of a closed connection.
  if (!options_.accept_pushes) return respond(EncodeMessage(Error{"this node does not accept pushes"}));
  std::optional<Push> push = ReceiveModel<Push>(from, request, respond);
  if (!push) return;
  respond(EncodeMessage(PushAck{options_.node_id}));
  store_.Offer(ReceivedModel{PeerKey(push->sender_id, from), std::move(push->model)});
  ++counters_.exchanges_ok;
  OnModelReceived();
}

void Engine::RejectMalformed(const std::string& from, const Status& why, const Transport::Respond& respond) {
  ++counters_.frames_rejected;
  GL_LOG(kWarn, kLog) << "closing connection from " << from << ": " << why.message();
  respond(EncodeMessage(Error{why.message()}));
}

}  // namespace gl::gossip
