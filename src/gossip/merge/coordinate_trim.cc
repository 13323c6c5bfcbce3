#include "gossip/merge/coordinate_trim.h"

#include <algorithm>
#include <cmath>

namespace gl::gossip {

std::size_t TrimCount(std::size_t n, double beta) {
  if (n < 3) return 0;
  const auto k = static_cast<std::size_t>(std::floor(beta * static_cast<double>(n)));
  return std::min(std::max<std::size_t>(k, 1), (n - 1) / 2);
}

std::vector<float> CoordinateTrimmedMean(const std::vector<const std::vector<float>*>& models, std::size_t trim) {
  const std::size_t kept = models.size() - 2 * trim;
  std::vector<float> result(models.front()->size());
  std::vector<float> column(models.size());
  for (std::size_t i = 0; i < result.size(); ++i) {
    for (std::size_t j = 0; j < models.size(); ++j) column[j] = (*models[j])[i];
    std::sort(column.begin(), column.end());
    double sum = 0;
    for (std::size_t j = trim; j < trim + kept; ++j) sum += column[j];
    result[i] = static_cast<float>(sum / static_cast<double>(kept));
  }
  return result;
}

}  // namespace gl::gossip
