#include "gossip/rounds/fedavg.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "common/log.h"

namespace gl::gossip {

Status FedAvgOptions::Validate() const {
  if (!(fraction > 0.0 && fraction <= 1.0)) return Status::InvalidArgument("fraction must be in (0, 1]");
  if (min_nodes < 1) return Status::InvalidArgument("min_nodes must be >= 1");
  if (Status valid = server.Validate(); !valid.ok()) return valid;
  if (!(lr_decay > 0.0 && lr_decay <= 1.0)) return Status::InvalidArgument("lr decay must be in (0, 1]");
  if (config.epochs < 1) return Status::InvalidArgument("local epochs must be >= 1");
  if (config.batch_size < 1) return Status::InvalidArgument("batch size must be >= 1");
  if (!(config.learning_rate > 0.0f && config.learning_rate < 1.0f)) {
    return Status::InvalidArgument("learning rate must be in (0, 1)");
  }
  return Status::Ok();
}

FedAvg::FedAvg(FedAvgOptions options)
    : options_(std::move(options)), rng_(options_.seed), server_(options_.server) {}

RoundConfig FedAvg::ConfigFor(std::uint64_t round) const {
  RoundConfig config = options_.config;
  const double decay = std::pow(options_.lr_decay, static_cast<double>(round > 0 ? round - 1 : 0));
  config.learning_rate = static_cast<float>(config.learning_rate * decay);
  return config;
}

std::vector<PeerPlan> FedAvg::ConfigureRound(std::uint64_t round, const std::vector<RoundCandidate>& live) {
  const auto wanted = static_cast<std::size_t>(std::ceil(options_.fraction * static_cast<double>(live.size())));
  const std::size_t count = std::min(live.size(), std::max<std::size_t>(wanted, options_.min_nodes));
  std::vector<RoundCandidate> shuffled = live;
  std::shuffle(shuffled.begin(), shuffled.end(), rng_);
  const RoundConfig config = ConfigFor(round);
  std::vector<PeerPlan> plans;
  for (std::size_t i = 0; i < count; ++i) plans.push_back(PeerPlan{shuffled[i].address, shuffled[i].id, config});
  return plans;
}

std::optional<std::vector<float>> FedAvg::Aggregate(std::uint64_t round, const std::vector<float>& global,
                                                    const std::vector<RoundResult>& ok,
                                                    const std::vector<RoundFailure>& /*failed*/) {
  if (ok.empty()) return std::nullopt;
  return server_.Step(global, Combine(round, global, ok));
}

std::vector<double> FedAvg::Combine(std::uint64_t round, const std::vector<float>& global,
                                    const std::vector<RoundResult>& ok) {
  double total = 0;
  for (const RoundResult& r : ok) total += static_cast<double>(r.samples);
  std::vector<double> sum(global.size(), 0.0);
  for (const RoundResult& r : ok) {
    const double weight = total > 0 ? static_cast<double>(r.samples) / total : 1.0 / static_cast<double>(ok.size());
    for (std::size_t i = 0; i < sum.size(); ++i) sum[i] += weight * r.params[i];
  }
  GL_LOG(kDebug, "round") << "round " << round << ": FedAvg of " << ok.size() << " models, " << total << " samples";
  return sum;
}

std::string FedAvg::SettingsText() const {
  std::ostringstream out;
  out << "fraction " << options_.fraction << " min_nodes " << options_.min_nodes << " epochs "
      << options_.config.epochs << " batch " << options_.config.batch_size << " client "
      << (options_.config.optimizer == LocalOptimizer::kSgd ? "sgd" : "adam") << " lr "
      << options_.config.learning_rate << " lr_decay " << options_.lr_decay << " " << server_.Summary();
  return out.str();
}

std::string FedAvg::Summary() const { return "fedavg (" + SettingsText() + ")"; }

}  // namespace gl::gossip
