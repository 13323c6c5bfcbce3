// Trimmed mean (Yin et al. 2018), a robust aggregation: participants are chosen as in FedAvg,
// but each coordinate of the new global model is the plain mean of the participants' values
// for it after dropping the k smallest and the k largest, k = max(1, floor(beta x n)) when
// n >= 3 replies (k = 0 below that: two values cannot outvote each other). One absurd update
// among three or more is thus ignored. Sample counts are not used: a liar could inflate
// them. The global model then steps toward that point through FedAvg's server optimizer
// (default: all the way). No I/O; not thread-safe (see strategy.h).
#pragma once

#include "gossip/rounds/fedavg.h"

namespace gl::gossip {

class TrimmedMean : public FedAvg {
 public:
  // `beta`: share trimmed at each end, in [0, 0.5). Default 0.2.
  TrimmedMean(FedAvgOptions options, double beta = 0.2);

  std::string Summary() const override;

  // Values trimmed at each end for `n` replies.
  std::size_t TrimmedPerSide(std::size_t n) const;

 protected:
  std::vector<double> Combine(std::uint64_t round, const std::vector<float>& global,
                              const std::vector<RoundResult>& ok) override;

 private:
  double beta_;
};

}  // namespace gl::gossip
