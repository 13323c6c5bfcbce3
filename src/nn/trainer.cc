#include "nn/trainer.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <numeric>

#include "nn/random.h"

namespace gl::nn {

void ParameterAverage::Add(const std::vector<float>& params) {
  if (count_ == 0) sum_.assign(params.size(), 0.0);
  for (std::size_t i = 0; i < params.size() && i < sum_.size(); ++i) sum_[i] += params[i];
  ++count_;
}

std::vector<float> ParameterAverage::Mean() const {
  std::vector<float> mean(sum_.size());
  for (std::size_t i = 0; i < sum_.size(); ++i) mean[i] = static_cast<float>(sum_[i] / count_);
  return mean;
}

EpochStats TrainEpoch(Model& model, const Dataset& data, int batch_size, std::mt19937_64& rng,
                      ParameterAverage* average) {
  const auto start = std::chrono::steady_clock::now();
  const std::clock_t cpu_start = std::clock();
  std::vector<std::size_t> order(data.examples.size());
  std::iota(order.begin(), order.end(), 0);
  Shuffle(order, rng);
  const std::size_t step = static_cast<std::size_t>(std::max(batch_size, 1));
  EpochStats stats;
  double loss_sum = 0;
  std::vector<Example> batch;
  for (std::size_t begin = 0; begin < order.size(); begin += step) {
    batch.clear();
    for (std::size_t i = begin; i < std::min(begin + step, order.size()); ++i) batch.push_back(data.examples[order[i]]);
    loss_sum += static_cast<double>(model.TrainBatch(batch)) * batch.size();
    if (average != nullptr) average->Add(model.GetParameters());
    stats.samples += batch.size();
  }
  if (stats.samples > 0) stats.mean_loss = loss_sum / stats.samples;
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  stats.cpu_seconds = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
  return stats;
}

}  // namespace gl::nn
