#include "node/server_optimizer_file.h"

#include <bit>
#include <string_view>
#include <utility>
#include <vector>

#include "common/atomic_file.h"
#include "common/little_endian.h"
#include "common/read_file.h"
#include "nn/hash.h"

namespace gl::node {
namespace {

constexpr std::string_view kMagic("GLSOPT1\n", 8);
constexpr std::size_t kMaxKindBytes = 16;
constexpr std::uint64_t kMaxValues = 1ull << 28;  // 2 GiB of f64
constexpr std::uint64_t kMaxFileBytes = 2 * (kMaxValues * 8 + 8) + kMaxKindBytes + 1024;

std::string FilePath(const std::string& state_dir) { return state_dir + "/server_optimizer"; }

void PutValues(std::string& out, const std::vector<double>& values) {
  PutLe(out, values.size(), 8);
  for (double v : values) PutLe(out, std::bit_cast<std::uint64_t>(v), 8);
}

// Empty, with the reader marked truncated, when the count is absurd or the values run past the end.
std::vector<double> ReadValues(LeReader& r) {
  const std::uint64_t count = r.Le(8);
  if (count > kMaxValues || !r.Has(count * 8)) return {};
  std::vector<double> values(count);
  for (double& v : values) v = std::bit_cast<double>(r.Le(8));
  return values;
}

}  // namespace

Status SaveServerOptimizerState(const std::string& state_dir, std::uint64_t round,
                                const gossip::ServerOptimizerState& state) {
  std::string bytes(kMagic);
  PutLe(bytes, round, 8);
  PutText(bytes, state.kind);
  PutValues(bytes, state.first);
  PutValues(bytes, state.second);
  PutLe(bytes, nn::Fnv1a64(bytes), 8);
  return WriteFileAtomically(FilePath(state_dir), bytes);
}

Result<SavedServerOptimizerState> LoadServerOptimizerState(const std::string& state_dir) {
  const std::string path = FilePath(state_dir);
  Result<std::string> read = ReadWholeFile(path, kMaxFileBytes);
  if (!read.ok()) return read.status();
  const std::string& bytes = *read;
  if (std::string_view(bytes).substr(0, kMagic.size()) != kMagic) {
    return Status::Corruption(path + ": not a server optimizer state file (bad magic)");
  }
  LeReader r(std::string_view(bytes).substr(kMagic.size()));
  SavedServerOptimizerState saved;
  saved.round = r.Le(8);
  saved.state.kind = r.Text(kMaxKindBytes);
  saved.state.first = ReadValues(r);
  saved.state.second = ReadValues(r);
  const std::size_t checked = kMagic.size() + r.offset();
  const std::uint64_t checksum = r.Le(8);
  if (r.truncated()) return Status::Corruption(path + ": truncated (" + std::to_string(bytes.size()) + " bytes)");
  if (checksum != nn::Fnv1a64(std::string_view(bytes).substr(0, checked))) {
    return Status::Corruption(path + ": checksum mismatch");
  }
  if (checked + 8 != bytes.size()) {
    return Status::Corruption(path + ": " + std::to_string(bytes.size() - checked - 8) + " unexpected trailing bytes");
  }
  return saved;
}

Status ResumeServerOptimizer(const std::string& state_dir, std::uint64_t last_round, std::size_t parameters,
                             gossip::Strategy& strategy) {
  Result<SavedServerOptimizerState> saved = LoadServerOptimizerState(state_dir);
  if (!saved.ok()) return saved.status();
  if (saved->round != last_round) {
    return Status::Rejected(FilePath(state_dir) + " was saved after round " + std::to_string(saved->round) +
                            ", the last completed round is " + std::to_string(last_round));
  }
  return strategy.RestoreServerState(std::move(saved->state), parameters);
}

}  // namespace gl::node
