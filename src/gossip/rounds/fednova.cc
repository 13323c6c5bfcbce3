#include "gossip/rounds/fednova.h"

#include <cmath>

namespace gl::gossip {

double FedNova::LocalSteps(std::uint64_t samples, const RoundConfig& config) {
  return config.epochs * std::ceil(static_cast<double>(samples) / config.batch_size);
}

std::vector<double> FedNova::Combine(std::uint64_t round, const std::vector<float>& global,
                                     const std::vector<RoundResult>& ok) {
  double total = 0;
  for (const RoundResult& r : ok) total += static_cast<double>(r.samples);
  if (total == 0) return FedAvg::Combine(round, global, ok);
  const RoundConfig config = ConfigFor(round);
  double tau_eff = 0;
  for (const RoundResult& r : ok) tau_eff += static_cast<double>(r.samples) / total * LocalSteps(r.samples, config);
  std::vector<double> aggregate(global.begin(), global.end());
  for (const RoundResult& r : ok) {
    if (r.samples == 0) continue;
    const double scale = tau_eff * static_cast<double>(r.samples) / total / LocalSteps(r.samples, config);
    for (std::size_t i = 0; i < aggregate.size(); ++i) aggregate[i] += scale * (r.params[i] - global[i]);
  }
  return aggregate;
}

std::string FedNova::Summary() const { return "fednova (" + SettingsText() + ")"; }

}  // namespace gl::gossip
