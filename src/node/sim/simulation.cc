#include "node/sim/simulation.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <numeric>
#include <ostream>

#include "common/process_stats.h"
#include "nn/split.h"
#include "node/options_from_config.h"
#include "node/sim/event_queue.h"
#include "node/sim/sim_coordinator.h"

namespace gl::node::sim {
namespace {

using gossip::Clock;

constexpr const char* kCoordinatorAddress = "coordinator:7070";

Clock::duration Seconds(double s) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}

// The gossip engine seed of node `node` in its session `session` (the coordinator is node N):
// SplitMix64 over the three, so neighbouring nodes and sessions draw unrelated sequences, and
// never 0, which asks the engine for a random seed.
std::uint64_t EngineSeed(std::uint64_t seed, std::uint64_t node, std::uint64_t session) {
  std::uint64_t z = seed;
  for (const std::uint64_t part : {node, session}) {
    z += 0x9e3779b97f4a7c15ULL + part;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
  }
  return z != 0 ? z : 1;
}

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const std::size_t index = static_cast<std::size_t>(std::floor(p * static_cast<double>(values.size() - 1)));
  return values[index];
}

double Median(const std::vector<double>& values) {
  if (values.empty()) return 0;
  std::vector<double> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  const std::size_t n = sorted.size();
  return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

Status CheckOptions(const SimulationOptions& o) {
  if (o.nodes < 1) return Status::InvalidArgument("--nodes must be >= 1");
  if (o.mode != "gossip" && o.mode != "rounds" && o.mode != "local" && o.mode != "central") {
    return Status::InvalidArgument("--mode " + o.mode + ": expected gossip, rounds, local or central");
  }
  if (o.scheme != "iid" && o.scheme != "dirichlet") {
    return Status::InvalidArgument("--scheme " + o.scheme + ": expected iid or dirichlet");
  }
  if (o.duration_s <= 0 && o.epochs <= 0) {
    return Status::InvalidArgument("give a limit: --duration SECONDS (virtual) or --epochs E");
  }
  if (o.sample_every_s <= 0) return Status::InvalidArgument("--sample-every must be > 0 seconds");
  if (o.tick_ms <= 0) return Status::InvalidArgument("--tick-ms must be > 0");
  if (o.samples_per_s <= 0) return Status::InvalidArgument("--samples-per-s must be > 0");
  if (o.links.loss < 0 || o.links.loss >= 1) return Status::InvalidArgument("--loss must be in [0, 1)");
  if (o.churn.online_share <= 0 || o.churn.online_share > 1) {
    return Status::InvalidArgument("--online-share must be in (0, 1]");
  }
  if (o.churn.session_s <= 0) return Status::InvalidArgument("--session must be > 0 seconds");
  if (o.links.latency.count() < 0 || o.links.bytes_per_s < 0) {
    return Status::InvalidArgument("--latency-ms and --bandwidth-mbit must be >= 0");
  }
  if (o.eval_data.empty()) return Status::InvalidArgument("--eval-data FILE is required: every node is scored on it");
  return Status::Ok();
}

class Driver {
 public:
  Driver(const SimulationOptions& o, std::vector<nn::Dataset> shards, nn::Dataset eval, std::ostream& progress)
      : o_(o), eval_(std::move(eval)), progress_(progress), rng_(o.seed), start_(time_.now()) {
    schedule_.loop = TrainingLoopOptionsFor(o.node);
    schedule_.loop.smoothing_merges = o.smoothing_merges;
    schedule_.samples_per_s = o.samples_per_s;
    const bool central = o.mode == "central";
    if (central) schedule_.loop.min_epoch_duration = std::chrono::milliseconds::zero();
    if (central) {
      nn::Dataset all = std::move(shards.front());
      for (std::size_t i = 1; i < shards.size(); ++i) {
        all.examples.insert(all.examples.end(), shards[i].examples.begin(), shards[i].examples.end());
      }
      shards.assign(1, std::move(all));
    }
    for (std::size_t i = 0; i < shards.size(); ++i) {
      nn::ModelOptions model;
      model.hidden_size = o.node.hidden;
      model.seed = o.seed + i;  // as tools/cluster seeds its nodes
      Result<std::unique_ptr<nn::Model>> created = nn::Model::Create(model);
      if (!created.ok()) {
        status_ = created.status();
        return;
      }
      nodes_.push_back(std::make_unique<SimNode>("node-" + std::to_string(i), std::move(created).value(),
                                                 std::move(shards[i]), schedule_, o.seed + i));
    }
    gossip_options_ = GossipOptionsFor(o.node, nodes_.front()->Snapshot().params.size());
    network_.SetLinks(o.links, o.seed);
    active_.assign(nodes_.size(), false);
    gone_.assign(nodes_.size(), false);
    generation_.assign(nodes_.size(), 0);
    ChoosePeers();
  }

  Result<Summary> Run() {
    if (!status_.ok()) return status_;
    const auto wall_start = std::chrono::steady_clock::now();
    if (Status s = curves_.Open(o_.out); !s.ok()) return s;
    if (o_.mode == "rounds") {
      std::vector<std::string> addresses;
      for (const auto& node : nodes_) addresses.push_back(node->address());
      gossip::ModelSnapshot initial = nodes_.front()->Snapshot();
      gossip::Options options = gossip_options_;
      options.seed = EngineSeed(o_.seed, nodes_.size(), 0);
      Result<std::unique_ptr<SimCoordinator>> coordinator =
          SimCoordinator::Start(io_, network_, kCoordinatorAddress, o_.node, options, initial.signature,
                                std::move(initial.params), addresses);
      if (!coordinator.ok()) return coordinator.status();
      coordinator_ = std::move(coordinator).value();
    }
    PlanChurn();
    const Clock::time_point end =
        o_.duration_s > 0 ? start_ + Seconds(o_.duration_s) : Clock::time_point::max();
    for (double t = 0; start_ + Seconds(t) < end && t < 1e9; t += o_.sample_every_s) {
      if (o_.duration_s <= 0 && t > 0) break;  // epoch limit: samples are scheduled as time goes
      At(start_ + Seconds(t), [this] { Sample(); });
    }
    auto guard = asio::make_work_guard(io_);
    const Clock::duration tick = Networked() ? Seconds(o_.tick_ms / 1000) : Clock::duration::zero();
    while (!stop_ && time_.now() < end) {
      Step(time_, io_, events_, end, tick);
      // Checked at every step, not only at scorings: rounds train many epochs between two.
      if (o_.epochs > 0 && MeanEpochs() >= o_.epochs) stop_ = true;
    }
    if (last_sample_ != time_.now()) Sample();
    Summary summary = Summarize();
    summary.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
    summary.peak_rss_mb = static_cast<double>(PeakRssKb()) / 1024.0;
    coordinator_.reset();  // engines stop before the network and the clock go
    nodes_.clear();
    if (Status s = curves_.Close(); !s.ok()) return s;
    if (Status s = WriteSummary(o_.out, summary); !s.ok()) return s;
    return summary;
  }

 private:
  bool Networked() const { return o_.mode == "gossip" || o_.mode == "rounds"; }

  double MeanEpochs() const {
    std::uint64_t total = 0;
    for (const auto& node : nodes_) total += node->epochs();
    return static_cast<double>(total) / static_cast<double>(nodes_.size());
  }

  double Now_s() const { return std::chrono::duration<double>(time_.now() - start_).count(); }

  void At(Clock::time_point at, std::function<void()> run) { events_.At(at, std::move(run)); }

  void ChoosePeers() {
    peers_.resize(nodes_.size());
    const std::size_t n = nodes_.size();
    const std::size_t k = std::min(o_.peers, n - 1);
    for (std::size_t i = 0; i < n && Networked(); ++i) {
      std::vector<std::size_t> others;
      for (std::size_t j = 0; j < n; ++j) {
        if (j != i) others.push_back(j);
      }
      for (std::size_t c = 0; c < k; ++c) {
        std::swap(others[c], others[c + std::uniform_int_distribution<std::size_t>(0, others.size() - 1 - c)(rng_)]);
        peers_[i].push_back(nodes_[others[c]]->address());
      }
      if (o_.mode == "rounds") peers_[i].push_back(kCoordinatorAddress);
    }
  }

  // Nodes start (now or when they join), crash, leave, come and go, and partitions open and heal.
  void PlanChurn() {
    const ChurnPlan& churn = o_.mode == "central" ? ChurnPlan{} : o_.churn;
    std::vector<double> start_s(nodes_.size(), 0);
    std::vector<std::size_t> order(nodes_.size());
    std::iota(order.begin(), order.end(), 0);
    for (const ShareAt& join : churn.joins) {
      std::shuffle(order.begin(), order.end(), rng_);
      const auto count = static_cast<std::size_t>(std::lround(join.share * static_cast<double>(nodes_.size())));
      for (std::size_t c = 0; c < count; ++c) start_s[order[c]] = std::max(start_s[order[c]], join.at_s);
    }
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      At(start_ + Seconds(start_s[i]), [this, i, share = churn.online_share, session = churn.session_s] {
        if (share >= 1) return SetUp(i, true);
        SetUp(i, std::bernoulli_distribution(share)(rng_));
        Toggle(i, share, session);
      });
    }
    for (const auto* steps : {&churn.crashes, &churn.leaves}) {
      for (const ShareAt& step : *steps) At(start_ + Seconds(step.at_s), [this, share = step.share] { Remove(share); });
    }
    for (const Window& window : churn.partitions) {
      At(start_ + Seconds(window.from_s), [this] {
        for (const auto& node : nodes_) network_.SetGroup(node->address(), std::bernoulli_distribution(0.5)(rng_));
      });
      At(start_ + Seconds(window.to_s), [this] { network_.ClearGroups(); });
    }
  }

  // The next session change of node i, which alternates online and offline sessions.
  void Toggle(std::size_t i, double share, double session_s) {
    const double mean = active_[i] ? session_s : session_s * (1 - share) / share;
    const double length = std::exponential_distribution<double>(1 / mean)(rng_);
    At(time_.now() + Seconds(length), [this, i, share, session_s] {
      if (gone_[i]) return;
      SetUp(i, !active_[i]);
      Toggle(i, share, session_s);
    });
  }

  // `share` of all nodes, among those online, stop for good.
  void Remove(double share) {
    std::vector<std::size_t> online;
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      if (active_[i]) online.push_back(i);
    }
    std::shuffle(online.begin(), online.end(), rng_);
    const auto count = std::min(online.size(),
                                static_cast<std::size_t>(std::lround(share * static_cast<double>(nodes_.size()))));
    for (std::size_t c = 0; c < count; ++c) {
      gone_[online[c]] = true;
      SetUp(online[c], false);
    }
  }

  void SetUp(std::size_t i, bool up) {
    if (gone_[i] && up) return;
    if (active_[i] == up) return;
    active_[i] = up;
    ++generation_[i];
    if (Networked()) {
      if (up) {
        gossip::Options options = gossip_options_;
        options.seed = EngineSeed(o_.seed, i, generation_[i]);
        if (Status s = nodes_[i]->GoOnline(io_, network_, options, peers_[i], o_.mode == "rounds"); !s.ok()) {
          progress_ << "simulate: " << nodes_[i]->id() << " cannot start: " << s.ToString() << "\n";
        }
      } else {
        nodes_[i]->GoOffline();
      }
    }
    if (up) Train(i, generation_[i]);
  }

  void Train(std::size_t i, std::uint64_t generation) {
    if (generation != generation_[i]) return;  // the node went down since
    const Clock::time_point next = nodes_[i]->TrainStep(time_.now());
    At(next, [this, i, generation] { Train(i, generation); });
  }

  void Sample() {
    last_sample_ = time_.now();
    std::vector<double> accuracies;
    double mb_total = 0;
    std::size_t up = 0;
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      SimNode& node = *nodes_[i];
      CurveRow row;
      row.t_s = Now_s();
      row.node = node.id();
      row.up = active_[i];
      row.mb_sent = static_cast<double>(node.bytes_sent()) / 1e6;
      mb_total += row.mb_sent;
      if (active_[i]) {
        ++up;
        row.accuracy = node.Score(eval_);
        accuracies.push_back(*row.accuracy);
        if (Networked()) row.dead_peers = node.dead_peers();
      }
      curves_.Write(row);
    }
    last_accuracies_ = accuracies;
    mb_per_node_ = mb_total / static_cast<double>(nodes_.size());
    mean_epochs_ = MeanEpochs();
    char line[256];
    std::snprintf(line, sizeof line,
                  "t %7.0f s  wall %6.1f s  up %zu/%zu  epochs %.1f  accuracy median %5.1f%%  min %5.1f%%  "
                  "%.2f MB sent/node%s\n",
                  Now_s(), std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start_).count(), up,
                  nodes_.size(), mean_epochs_, 100 * Median(accuracies),
                  100 * (accuracies.empty() ? 0 : *std::min_element(accuracies.begin(), accuracies.end())),
                  mb_per_node_,
                  coordinator_ ? ("  rounds " + std::to_string(coordinator_->rounds())).c_str() : "");
    progress_ << line << std::flush;
    if (o_.epochs > 0 && mean_epochs_ >= o_.epochs) stop_ = true;
    if (o_.duration_s <= 0 && !stop_) At(time_.now() + Seconds(o_.sample_every_s), [this] { Sample(); });
  }

  Summary Summarize() const {
    Summary s;
    s.nodes = o_.nodes;
    s.mode = o_.mode;
    s.median_accuracy = Median(last_accuracies_);
    s.min_accuracy = last_accuracies_.empty() ? 0 : *std::min_element(last_accuracies_.begin(), last_accuracies_.end());
    s.p10_accuracy = Percentile(last_accuracies_, 0.1);
    s.mb_sent_per_node = mb_per_node_;
    s.virtual_s = Now_s();
    s.mean_epochs = mean_epochs_;
    s.samples_per_s = o_.samples_per_s;
    return s;
  }

  const SimulationOptions& o_;
  nn::Dataset eval_;
  std::ostream& progress_;
  std::mt19937_64 rng_;
  // Declared before everything that reads the clock, so it is there from their start to their end.
  gossip::VirtualTime time_{Clock::time_point{} + std::chrono::hours(1)};
  const Clock::time_point start_;
  const std::chrono::steady_clock::time_point wall_start_ = std::chrono::steady_clock::now();
  asio::io_context io_;
  gossip::InMemoryNetwork network_{io_};
  TrainingSchedule schedule_;
  gossip::Options gossip_options_;
  std::vector<std::unique_ptr<SimNode>> nodes_;
  std::unique_ptr<SimCoordinator> coordinator_;  // rounds mode
  std::vector<std::vector<std::string>> peers_;
  std::vector<bool> active_, gone_;
  std::vector<std::uint64_t> generation_;
  EventQueue events_;
  CurvesWriter curves_;
  Status status_;
  bool stop_ = false;
  Clock::time_point last_sample_{};
  std::vector<double> last_accuracies_;
  double mb_per_node_ = 0, mean_epochs_ = 0;
};

}  // namespace

Result<Summary> RunSimulation(const SimulationOptions& options, std::ostream& progress) {
  if (Status s = CheckOptions(options); !s.ok()) return s;
  Result<nn::Dataset> data = nn::LoadDataset(options.data);
  if (!data.ok()) return data.status();
  if (options.nodes > data->examples.size()) {
    return Status::InvalidArgument("--nodes " + std::to_string(options.nodes) + ": " + options.data + " holds " +
                                   std::to_string(data->examples.size()) +
                                   " names and every node needs at least one; the most nodes possible is " +
                                   std::to_string(data->examples.size()));
  }
  Result<nn::Dataset> eval = nn::LoadDataset(options.eval_data);
  if (!eval.ok()) return eval.status();
  nn::ShardOptions shard;
  shard.nodes = static_cast<int>(options.nodes);
  shard.scheme = options.scheme == "dirichlet" ? nn::ShardScheme::kDirichlet : nn::ShardScheme::kIid;
  shard.alpha = options.alpha;
  shard.seed = options.seed;
  Result<std::vector<nn::Dataset>> shards = nn::MakeShards(*data, shard);
  if (!shards.ok()) return shards.status();
  if (Status s = PrepareOutDir(options.out); !s.ok()) return s;
  Driver driver(options, std::move(shards).value(), std::move(eval).value(), progress);
  return driver.Run();
}

}  // namespace gl::node::sim
