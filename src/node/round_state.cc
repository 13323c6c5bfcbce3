#include "node/round_state.h"

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace gl::node {
namespace {
std::string RoundPath(const std::string& state_dir) { return state_dir + "/round"; }
}  // namespace

Status SaveLastRound(const std::string& state_dir, std::uint64_t round) {
  const std::string path = RoundPath(state_dir);
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << round << "\n";
    out.flush();
    if (!out) return Status::IoError("cannot write " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Status::IoError("cannot rename " + tmp + ": " + ec.message());
  return Status::Ok();
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
