#include "nn/metrics.h"

namespace gl::nn {

Metrics MetricsFromConfusion(std::vector<std::vector<std::size_t>> confusion) {
  Metrics m;
  const std::size_t n = confusion.size();
  std::vector<std::size_t> truth(n, 0), predicted(n, 0);
  std::size_t correct = 0;
  for (std::size_t t = 0; t < n; ++t) {
    for (std::size_t p = 0; p < n; ++p) {
      truth[t] += confusion[t][p];
      predicted[p] += confusion[t][p];
      m.samples += confusion[t][p];
    }
    correct += confusion[t][t];
  }
  m.recall.assign(n, 0.0);
  double f1_sum = 0, recall_sum = 0;
  int f1_labels = 0, recall_labels = 0;
  for (std::size_t k = 0; k < n; ++k) {
    if (truth[k] > 0) {
      m.recall[k] = static_cast<double>(confusion[k][k]) / truth[k];
      recall_sum += m.recall[k];
      ++recall_labels;
    }
    if (truth[k] + predicted[k] > 0) {
      f1_sum += 2.0 * confusion[k][k] / static_cast<double>(truth[k] + predicted[k]);
      ++f1_labels;
    }
  }
  if (m.samples > 0) m.accuracy = static_cast<double>(correct) / m.samples;
  if (f1_labels > 0) m.macro_f1 = f1_sum / f1_labels;
  if (recall_labels > 0) m.balanced_accuracy = recall_sum / recall_labels;
  m.confusion = std::move(confusion);
  return m;
}

}  // namespace gl::nn
