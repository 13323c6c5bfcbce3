#include "node/round_state.h"

#include <fstream>

#include "common/atomic_file.h"

namespace gl::node {
namespace {
std::string RoundPath(const std::string& state_dir) { return state_dir + "/round"; }
}  // namespace

Status SaveLastRound(const std::string& state_dir, std::uint64_t round) {
  return WriteFileAtomically(RoundPath(state_dir), std::to_string(round) + "\n");
}

Result<std::uint64_t> LoadLastRound(const std::string& state_dir) {
  const std::string path = RoundPath(state_dir);
  std::ifstream in(path);
  if (!in) return std::uint64_t{0};
  std::uint64_t round = 0;
  if (!(in >> round)) return Status::Corruption(path + " does not hold a round number");
  return round;
}

}  // namespace gl::node
