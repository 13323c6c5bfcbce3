#include "nn/split.h"

#include <algorithm>
#include <random>

#include "nn/random.h"

namespace gl::nn {
namespace {

// Example indices grouped by label, each group shuffled.
std::vector<std::vector<std::size_t>> ShuffledByLabel(const Dataset& data, std::mt19937_64& rng) {
  std::vector<std::vector<std::size_t>> groups(data.labels.size());
  for (std::size_t i = 0; i < data.examples.size(); ++i) groups.at(data.examples[i].label).push_back(i);
  for (auto& group : groups) Shuffle(group, rng);
  return groups;
}

// Proportions drawn from Dirichlet(alpha, ..., alpha) via normalised Gamma draws.
std::vector<double> DirichletDraw(int n, double alpha, std::mt19937_64& rng) {
  std::gamma_distribution<double> gamma(alpha, 1.0);
  std::vector<double> p(n);
  double sum = 0;
  for (double& x : p) sum += (x = gamma(rng));
  if (sum <= 0) return std::vector<double>(n, 1.0 / n);  // all draws underflowed
  for (double& x : p) x /= sum;
  return p;
}

Dataset Subset(const Dataset& data, const std::vector<std::size_t>& indices) {
  Dataset out;
  out.labels = data.labels;
  out.examples.reserve(indices.size());
  for (std::size_t i : indices) out.examples.push_back(data.examples[i]);
  return out;
}

// Moves one example at a time from the largest shard into each empty one.
void FillEmptyShards(std::vector<std::vector<std::size_t>>& shards) {
  for (auto& shard : shards) {
    if (!shard.empty()) continue;
    auto largest = std::max_element(shards.begin(), shards.end(),
                                    [](const auto& a, const auto& b) { return a.size() < b.size(); });
    shard.push_back(largest->back());
    largest->pop_back();
  }
}

}  // namespace

std::pair<Dataset, Dataset> TrainValidationSplit(const Dataset& data, double validation_fraction,
                                                 std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::size_t> train, validation;
  for (const auto& group : ShuffledByLabel(data, rng)) {
    const auto n_validation = static_cast<std::size_t>(validation_fraction * group.size() + 0.5);
    for (std::size_t k = 0; k < group.size(); ++k) (k < n_validation ? validation : train).push_back(group[k]);
  }
  return {Subset(data, train), Subset(data, validation)};
}

Result<std::vector<Dataset>> MakeShards(const Dataset& data, const ShardOptions& options) {
  if (options.nodes < 1) return Status::InvalidArgument("--nodes must be at least 1");
  if (static_cast<std::size_t>(options.nodes) > data.examples.size()) {
    return Status::InvalidArgument("cannot make " + std::to_string(options.nodes) + " non-empty shards of " +
                                   std::to_string(data.examples.size()) + " names: use fewer nodes");
  }
  if (options.scheme == ShardScheme::kDirichlet && !(options.alpha > 0)) {
    return Status::InvalidArgument("--alpha must be > 0 (e.g. 0.3: skewed, 100: nearly IID)");
  }
  std::mt19937_64 rng(options.seed);
  std::vector<std::vector<std::size_t>> shards(options.nodes);
  if (options.scheme == ShardScheme::kIid) {
    std::vector<std::size_t> all(data.examples.size());
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
    Shuffle(all, rng);
    for (std::size_t i = 0; i < all.size(); ++i) shards[i % options.nodes].push_back(all[i]);
  } else {
    for (const auto& group : ShuffledByLabel(data, rng)) {
      const std::vector<double> p = DirichletDraw(options.nodes, options.alpha, rng);
      double cumulative = 0;
      std::size_t begin = 0;
      for (int node = 0; node < options.nodes; ++node) {
        cumulative += p[node];
        const std::size_t end = node + 1 == options.nodes
                                    ? group.size()
                                    : std::min(group.size(), static_cast<std::size_t>(cumulative * group.size() + 0.5));
        for (std::size_t k = begin; k < end; ++k) shards[node].push_back(group[k]);
        begin = std::max(begin, end);
      }
    }
    FillEmptyShards(shards);
  }
  std::vector<Dataset> out;
  for (const auto& shard : shards) out.push_back(Subset(data, shard));
  return out;
}

}  // namespace gl::nn
