#include "gossip/token_account.h"

#include <algorithm>

namespace gl::gossip {

bool TokenAccount::OnTick(std::mt19937_64& rng) {
  const double proactive =
      balance_ < reactivity_ - 1
          ? 0.0
          : std::min(1.0, static_cast<double>(balance_ - reactivity_ + 1) / (capacity_ - reactivity_ + 1));
  if (std::uniform_real_distribution<double>(0.0, 1.0)(rng) < proactive) return true;
  Refund();
  return false;
}

int TokenAccount::OnReceived(std::mt19937_64& rng) {
  const int whole = balance_ / reactivity_;
  const double rest = static_cast<double>(balance_ % reactivity_) / reactivity_;
  const int sends = whole + (std::uniform_real_distribution<double>(0.0, 1.0)(rng) < rest ? 1 : 0);
  balance_ -= sends;
  return sends;
}

void TokenAccount::Refund() { balance_ = std::min(balance_ + 1, capacity_); }

}  // namespace gl::gossip
