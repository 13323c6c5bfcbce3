#include "gossip/rounds/trimmed_mean.h"

#include <sstream>

#include "gossip/merge/coordinate_trim.h"

namespace gl::gossip {

TrimmedMean::TrimmedMean(FedAvgOptions options, double beta) : FedAvg(std::move(options)), beta_(beta) {}

std::size_t TrimmedMean::TrimmedPerSide(std::size_t n) const { return gossip::TrimCount(n, beta_); }

std::vector<double> TrimmedMean::Combine(std::uint64_t /*round*/, const std::vector<float>& /*global*/,
                                         const std::vector<RoundResult>& ok) {
  std::vector<const std::vector<float>*> models;
  for (const RoundResult& result : ok) models.push_back(&result.params);
  const std::vector<float> trimmed = CoordinateTrimmedMean(models, TrimmedPerSide(ok.size()));
  return std::vector<double>(trimmed.begin(), trimmed.end());
}

std::string TrimmedMean::Summary() const {
  std::ostringstream out;
  out << "trimmed-mean (beta " << beta_ << ", " << SettingsText() << ")";
  return out.str();
}

}  // namespace gl::gossip
