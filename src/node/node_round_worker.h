// NodeRoundWorker: gossip::RoundWorker on top of the node's TrainingLoop. Round training,
// evaluation of the global model and its checkpoint all become RoundTasks on the training
// thread, so the io thread never waits for them. As a coordinator it also records, after
// each global model's checkpoint, the server optimizer's state (server_optimizer_file.h) and
// then the round number in <state_dir>/round (round_state.h), and keeps the global model's
// latest scores for the status document.
//
// Threading: the RoundWorker methods are called on the io thread; Scores() from any
// thread. Ownership: `training` must outlive this object (stop training first).
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gossip/rounds/round_worker.h"
#include "node/training_loop.h"

namespace gl::node {

struct GlobalScores {
  std::uint64_t round = 0;              // round whose global model was scored (0 = none yet)
  std::optional<nn::Metrics> metrics;   // on eval data when the node has it, else validation
  bool on_eval_data = false;
  // (round, accuracy) of the last kGlobalHistory scored rounds, oldest first.
  std::vector<std::pair<std::uint64_t, double>> history;
};
inline constexpr std::size_t kGlobalHistory = 100;

class NodeRoundWorker : public gossip::RoundWorker {
 public:
  NodeRoundWorker(TrainingLoop& training, std::string state_dir);

  void Train(std::uint64_t round, std::vector<float> global, const gossip::RoundConfig& config,
             TrainDone done) override;
  void SetFederated(bool federated, const std::vector<float>& last_global) override;
  void PublishGlobal(std::uint64_t round, const std::vector<float>& global,
                     gossip::ServerOptimizerState server_state) override;

  GlobalScores Scores() const;

 private:
  TrainingLoop& training_;
  const std::string state_dir_;
  mutable std::mutex mutex_;
  GlobalScores scores_;  // guarded by mutex_
};

}  // namespace gl::node
