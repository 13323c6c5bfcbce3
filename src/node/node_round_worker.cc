#include "node/node_round_worker.h"

#include <utility>

#include "common/log.h"
#include "node/round_state.h"
#include "node/server_optimizer_file.h"

namespace gl::node {

NodeRoundWorker::NodeRoundWorker(TrainingLoop& training, std::string state_dir)
    : training_(training), state_dir_(std::move(state_dir)) {}

void NodeRoundWorker::Train(std::uint64_t /*round*/, std::vector<float> global, const gossip::RoundConfig& config,
                            TrainDone done) {
  RoundTask task;
  task.params = std::move(global);
  task.epochs = config.epochs;
  task.batch_size = config.batch_size;
  task.learning_rate = config.learning_rate;
  task.optimizer = OptimizerFor(config.optimizer);
  task.done = [done = std::move(done)](Result<RoundTaskResult> result) {
    if (!result.ok()) return done(result.status());
    done(gossip::LocalTraining{std::move(result->params), result->samples, result->train_ms});
  };
  training_.Submit(std::move(task));
}

void NodeRoundWorker::SetFederated(bool federated, const std::vector<float>& last_global) {
  training_.SetFederated(federated, last_global);
}

void NodeRoundWorker::PublishGlobal(std::uint64_t round, const std::vector<float>& global,
                                    gossip::ServerOptimizerState server_state) {
  RoundTask task;
  task.params = global;
  task.evaluate = true;
  task.checkpoint = true;
  task.done = [this, round, server_state = std::move(server_state)](Result<RoundTaskResult> result) {
    if (!result.ok()) return;
    if (Status s = SaveServerOptimizerState(state_dir_, round, server_state); !s.ok()) {
      GL_LOG(kError, "round") << "server optimizer state not saved: " << s.ToString();
    }
    if (Status s = SaveLastRound(state_dir_, round); !s.ok()) {
      GL_LOG(kError, "round") << "round number not saved: " << s.ToString();
    }
    std::lock_guard<std::mutex> lock(mutex_);
    scores_.round = round;
    scores_.on_eval_data = result->eval.has_value();
    scores_.metrics = result->eval ? result->eval : result->validation;
    if (scores_.history.size() == kGlobalHistory) scores_.history.erase(scores_.history.begin());
    scores_.history.emplace_back(round, scores_.metrics->accuracy);
  };
  training_.Submit(std::move(task));
}

GlobalScores NodeRoundWorker::Scores() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return scores_;
}

}  // namespace gl::node
