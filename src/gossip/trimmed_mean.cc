#include "gossip/trimmed_mean.h"

#include <sstream>

#include "gossip/coordinate_trim.h"

namespace gl::gossip {

TrimmedMean::TrimmedMean(FedAvgOptions options, double beta) : FedAvg(std::move(options)), beta_(beta) {}

std::size_t TrimmedMean::TrimCount(std::size_t n) const { return gossip::TrimCount(n, beta_); }

std::optional<std::vector<float>> TrimmedMean::Aggregate(std::uint64_t /*round*/, const std::vector<float>& /*global*/,
                                                         const std::vector<RoundResult>& ok,
                                                         const std::vector<RoundFailure>& /*failed*/) {
  if (ok.empty()) return std::nullopt;
  std::vector<const std::vector<float>*> models;
  for (const RoundResult& result : ok) models.push_back(&result.params);
  return CoordinateTrimmedMean(models, TrimCount(ok.size()));
}

std::string TrimmedMean::Summary() const {
  std::ostringstream out;
  out << "trimmed-mean (beta " << beta_ << ", " << SettingsText() << ")";
  return out.str();
}

}  // namespace gl::gossip
