// Helpers shared by the round tests (RoundDriver, RoundParticipant) on InMemoryNetwork: a
// worker whose training is faked (global + delta), a node with a tiny model, a RoundRequest
// sent by hand and its outcome, and a wait for a participant to verify its coordinator.
// Single-threaded: the test drives the io_context itself.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cluster_util.h"
#include "gossip/rounds/round_worker.h"
#include "gossip/wire/codec.h"
#include "gossip/wire/in_memory_transport.h"
#include "gossip/wire/round_messages.h"

namespace gl::gossip {

inline constexpr char kSignature[] = "test-model";
inline constexpr std::size_t kParams = 4;

// Trains by adding `delta` to every parameter; can hold its answers back (a straggler).
class FakeWorker : public RoundWorker {
 public:
  FakeWorker(float delta, std::uint64_t samples) : delta_(delta), samples_(samples) {}
  void Train(std::uint64_t /*round*/, std::vector<float> global, const RoundConfig& config,
             TrainDone done) override {
    ++trained_;
    received_.push_back(global);
    configs_.push_back(config);
    if (hold_) return held_.push_back(std::move(done));
    for (float& v : global) v += delta_;
    done(LocalTraining{std::move(global), samples_, 1});
  }
  void SetFederated(bool federated, const std::vector<float>& last_global) override {
    federated_ = federated;
    if (!federated) resumed_from_ = last_global;
  }
  void PublishGlobal(std::uint64_t round, const std::vector<float>& global, ServerOptimizerState server_state) override {
    published_.emplace_back(round, global);
    published_server_states_.push_back(std::move(server_state));
  }

  float delta_;
  std::uint64_t samples_;
  bool hold_ = false;
  int trained_ = 0;
  std::vector<std::vector<float>> received_;  // the global model of each round, as decoded
  std::vector<RoundConfig> configs_;          // each round's instructions, as received
  std::vector<TrainDone> held_;
  bool federated_ = false;
  std::vector<float> resumed_from_;
  std::vector<std::pair<std::uint64_t, std::vector<float>>> published_;
  std::vector<ServerOptimizerState> published_server_states_;
};

// Engine options for round tests: gossip and probes every 20 ms, so that failures show at once.
inline Options FastRoundEngineOptions(const std::string& id) {
  Options options = DefaultLocalOptions();
  options.node_id = id;
  options.gossip_interval = std::chrono::milliseconds(20);
  options.probe_interval = std::chrono::milliseconds(20);
  options.probe_timeout = std::chrono::milliseconds(50);
  return options;
}

// A node at `address` with a kParams model of zeros, not started.
inline TestNode MakeRoundTestNode(InMemoryNetwork& network, asio::io_context& io, const std::string& address,
                                  Options options) {
  TestNode node;
  node.address = address;
  node.transport = network.NewTransport(address);
  node.store = std::make_unique<MergingStore>(ModelSnapshot{kSignature, std::vector<float>(kParams, 0.0f), 1, 10});
  node.engine = std::make_unique<Engine>(io, std::move(options), *node.transport, *node.store);
  return node;
}

inline RoundRequest MakeRoundRequest(const std::string& id, const std::string& address, std::vector<float> model,
                                     std::uint64_t round = 1) {
  return RoundRequest{id, address, round, ModelSnapshot{kSignature, std::move(model), 0, 0}};
}

// Sends `request` (a RoundRequest, or any frame) from `from` to `to` and runs `io` until it is
// answered: the RoundReply, or Rejected with an Error reply's reason, or the transport's failure.
inline Result<RoundReply> AskRound(asio::io_context& io, Transport& from, const std::string& to, Frame request) {
  std::optional<Result<RoundReply>> outcome;
  from.Request(to, std::move(request), std::chrono::milliseconds(1000), [&outcome](Status status, Frame reply) {
    if (!status.ok()) {
      outcome = status;
    } else if (reply.type == MessageType::kError) {
      Result<Error> error = DecodeMessage<Error>(reply);
      outcome = Status::Rejected(error.ok() ? error->reason : "undecodable error");
    } else {
      outcome = DecodeMessage<RoundReply>(reply);
    }
  });
  EXPECT_TRUE(RunUntil(io, [&] { return outcome.has_value(); }, std::chrono::milliseconds(2000)));
  return outcome.value_or(Status::Timeout("no answer"));
}
inline Result<RoundReply> AskRound(asio::io_context& io, Transport& from, const std::string& to,
                                   const RoundRequest& request) {
  return AskRound(io, from, to, EncodeMessage(request));
}

// True once `engine` learned, from its own Hello, that the peer at `address` is a coordinator.
inline bool SeesCoordinatorAt(const Engine& engine, const std::string& address) {
  for (const PeerStatus& peer : engine.Peers()) {
    if (peer.address == address && peer.role == "coordinator") return true;
  }
  return false;
}

}  // namespace gl::gossip
