// Classification quality figures computed from a confusion matrix.
#pragma once

#include <cstddef>
#include <vector>

namespace gl::nn {

struct Metrics {
  std::size_t samples = 0;
  double accuracy = 0;           // correct / samples
  double macro_f1 = 0;           // mean F1 over labels that occur in truth or prediction
  double balanced_accuracy = 0;  // mean recall over labels that occur in truth
  double mean_loss = 0;          // mean cross-entropy
  std::vector<double> recall;    // per label; 0 where the label never occurs
  std::vector<std::vector<std::size_t>> confusion;  // [truth][predicted]
};

// Fills every field but mean_loss from confusion[truth][predicted].
Metrics MetricsFromConfusion(std::vector<std::vector<std::size_t>> confusion);

}  // namespace gl::nn
