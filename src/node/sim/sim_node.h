// SimNode: one virtual node of `gossip-learner simulate`: the node's model, its local training
// set and the node's training schedule (minibatches, merges between them, epoch pacing,
// learning-rate decay, smoothed weights for scoring), and, while it is online, the node's real
// gossip Engine over an in-memory transport (and, following a coordinator, its RoundParticipant,
// whose round training it does as the node's training thread would, timed on the virtual clock). Training is timed by the caller (the
// simulation's event queue): TrainStep trains one minibatch and says when the next is due.
// Threading: the simulation's thread only (the engine's io_context runs there too).
#pragma once

#include <asio.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "gossip/clock.h"
#include "gossip/engine.h"
#include "gossip/rounds/round_participant.h"
#include "gossip/rounds/round_worker.h"
#include "gossip/wire/in_memory_transport.h"
#include "nn/model.h"
#include "node/parameter_ema.h"
#include "node/sim/sim_merge.h"
#include "node/training_loop.h"

namespace gl::node::sim {

// The node's training options (TrainingLoopOptionsFor: batch size, epoch pacing, learning-rate
// schedule, trainer, merge policy, smoothing) and what only a simulation has.
struct TrainingSchedule {
  TrainingLoopOptions loop;
  double samples_per_s = 2000;          // virtual training speed of one node
  std::size_t max_pending_offers = 8;   // as the node's SharedModel
};

class SimNode : public gossip::ModelStore, public gossip::RoundWorker {
 public:
  SimNode(std::string id, std::unique_ptr<nn::Model> model, nn::Dataset train, const TrainingSchedule& schedule,
          std::uint64_t seed);
  ~SimNode() override;

  // gossip::ModelStore, called by the engine.
  gossip::ModelSnapshot Snapshot() override;
  void Offer(gossip::ReceivedModel remote) override;

  // gossip::RoundWorker, called by the RoundParticipant: trains at once, and answers when the
  // virtual training time has passed. While federated the node does no free training.
  void Train(std::uint64_t round, std::vector<float> global, const gossip::RoundConfig& config,
             TrainDone done) override;
  void SetFederated(bool federated, const std::vector<float>& last_global) override;
  void PublishGlobal(std::uint64_t, const std::vector<float>&, gossip::ServerOptimizerState) override {}

  // Trains one minibatch (starting an epoch if one is due), then merges the models received
  // meanwhile. Returns the virtual time after `now` at which the next minibatch is due.
  gossip::Clock::time_point TrainStep(gossip::Clock::time_point now);
  // Accuracy on `data` of what the node would report: its smoothed weights, else its raw ones;
  // while it follows a coordinator, the latest global model it received.
  double Score(const nn::Dataset& data);

  // Starts the engine at address() on `network`, knowing `peers` (static), and with
  // `serve_rounds` a RoundParticipant. Starting an online node is an error.
  Status GoOnline(asio::io_context& io, gossip::InMemoryNetwork& network, const gossip::Options& options,
                  const std::vector<std::string>& peers, bool serve_rounds);
  // Stops the engine (its peers then find it unreachable); the model and its training state stay.
  void GoOffline();

  const std::string& id() const { return id_; }
  const std::string& address() const { return address_; }
  bool online() const { return engine_ != nullptr; }
  std::uint64_t bytes_sent() const;
  std::size_t dead_peers() const;  // peers its engine holds dead; 0 when offline
  std::uint64_t epochs() const { return epochs_; }
  std::uint64_t merges() const { return merges_; }

 private:
  void StartEpoch(gossip::Clock::time_point now);
  // The gossip trainer settings (optimizer, scheduled learning rate) back on the model.
  void ApplyScheduledTrainer();
  // Trains the minibatch order[begin, begin + size) (into batch_); returns where the next one begins.
  std::size_t TrainSlice(const std::vector<std::size_t>& order, std::size_t begin, std::size_t size);

  std::string id_;
  std::string address_;  // id:7070, as a node's HOST:PORT
  std::unique_ptr<nn::Model> model_;
  nn::Dataset train_;
  const TrainingSchedule& schedule_;
  std::mt19937_64 rng_;
  std::vector<std::size_t> order_;
  std::size_t next_in_epoch_ = 0;  // == order_.size(): an epoch is due (also at the start)
  gossip::Clock::time_point epoch_started_{};
  std::uint64_t merges_at_epoch_start_ = 0;
  std::uint64_t epochs_without_merge_ = 0;
  double interval_stretch_ = 1;  // of the current epoch (interval_stretch.h)
  std::vector<nn::Example> batch_;
  gossip::ModelSnapshot local_;  // signature and age; params only while merging
  std::uint64_t samples_trained_ = 0;
  std::uint64_t epochs_ = 0;
  std::uint64_t merges_ = 0;
  MergeState merge_state_;
  ParameterEma smoothed_;
  std::vector<gossip::ReceivedModel> pending_;
  std::unique_ptr<gossip::Transport> transport_;
  std::unique_ptr<gossip::Engine> engine_;
  std::unique_ptr<gossip::RoundParticipant> participant_;
  asio::io_context* io_ = nullptr;  // while online
  bool federated_ = false;
  std::vector<float> last_global_;
  std::uint64_t bytes_sent_offline_ = 0;  // by the engines of earlier sessions
};

}  // namespace gl::node::sim
