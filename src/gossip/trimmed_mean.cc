#include "gossip/trimmed_mean.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace gl::gossip {

TrimmedMean::TrimmedMean(FedAvgOptions options, double beta) : FedAvg(std::move(options)), beta_(beta) {}

std::size_t TrimmedMean::TrimCount(std::size_t n) const {
  if (n < 3) return 0;
  const auto k = static_cast<std::size_t>(std::floor(beta_ * static_cast<double>(n)));
  return std::min(std::max<std::size_t>(k, 1), (n - 1) / 2);
}

std::vector<double> TrimmedMean::Combine(std::uint64_t /*round*/, const std::vector<float>& global,
                                         const std::vector<RoundResult>& ok) {
  const std::size_t k = TrimCount(ok.size());
  const std::size_t kept = ok.size() - 2 * k;
  std::vector<double> result(global.size());
  std::vector<float> column(ok.size());
  for (std::size_t i = 0; i < result.size(); ++i) {
    for (std::size_t j = 0; j < ok.size(); ++j) column[j] = ok[j].params[i];
    std::sort(column.begin(), column.end());
    double sum = 0;
    for (std::size_t j = k; j < k + kept; ++j) sum += column[j];
    result[i] = sum / static_cast<double>(kept);
  }
  return result;
}

std::string TrimmedMean::Summary() const {
  std::ostringstream out;
  out << "trimmed-mean (beta " << beta_ << ", " << SettingsText() << ")";
  return out.str();
}

}  // namespace gl::gossip
