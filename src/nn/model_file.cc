#include "nn/model_file.h"

#include <bit>
#include <string_view>

#include "common/atomic_file.h"
#include "common/read_file.h"
#include "common/little_endian.h"
#include "nn/hash.h"

namespace gl::nn {
namespace {

constexpr std::string_view kMagic("GLMODEL\n", 8);
constexpr std::size_t kMaxTextBytes = 1 << 16;       // labels or signature
constexpr std::uint64_t kMaxParameters = 1ull << 28;  // 1 GiB of fp32
constexpr std::uint64_t kMaxFileBytes = kMaxParameters * 4 + 2 * kMaxTextBytes + 1024;

std::string JoinLabels(const std::vector<std::string>& labels) {
  std::string joined;
  for (const auto& label : labels) joined += (joined.empty() ? "" : "\n") + label;
  return joined;
}

std::vector<std::string> SplitLabels(const std::string& joined) {
  std::vector<std::string> labels;
  std::size_t begin = 0;
  while (begin <= joined.size()) {
    const std::size_t end = std::min(joined.find('\n', begin), joined.size());
    labels.push_back(joined.substr(begin, end - begin));
    begin = end + 1;
  }
  return labels;
}

}  // namespace

Status WriteModelFile(const std::string& path, const ModelFileContents& c) {
  std::string bytes(kMagic);
  PutLe(bytes, kModelFileVersion, 4);
  PutLe(bytes, static_cast<std::uint32_t>(c.hidden_size), 4);
  PutLe(bytes, static_cast<std::uint32_t>(c.max_name_length), 4);
  PutLe(bytes, static_cast<std::uint32_t>(c.alphabet), 4);
  PutText(bytes, JoinLabels(c.labels));
  PutText(bytes, c.signature);
  PutLe(bytes, c.parameters.size(), 8);
  for (float p : c.parameters) PutLe(bytes, std::bit_cast<std::uint32_t>(p), 4);
  PutLe(bytes, Fnv1a64(bytes), 8);
  return WriteFileAtomically(path, bytes);
}

Result<ModelFileContents> ReadModelFile(const std::string& path) {
  Result<std::string> read = ReadWholeFile(path, kMaxFileBytes);
  if (!read.ok()) {
    const Status& s = read.status();
    if (s.code() == Status::Code::kNotFound) {
      return Status::NotFound(s.message() + " (train one with `gossip-learner train --out FILE`)");
    }
    return Status::IoError(s.message() + " (give the path of a model file written by `train` or a node)");
  }
  const std::string& bytes = *read;
  if (bytes.size() < kMagic.size() || std::string_view(bytes).substr(0, kMagic.size()) != kMagic) {
    if (bytes.starts_with("GLCKPT")) {  // node/checkpoint.h
      return Status::Corruption(path + ": a node's training checkpoint, not a model file; the node's model is "
                                       "model.bin in the same state dir");
    }
    return Status::Corruption(path + ": not a gossip-learner model file (bad magic)");
  }
  LeReader r(std::string_view(bytes).substr(kMagic.size()));
  const auto version = static_cast<std::uint32_t>(r.Le(4));
  if (!r.truncated() && version != kModelFileVersion) {
    return Status::Rejected(path + ": unknown model format version " + std::to_string(version) +
                            " (this build reads version " + std::to_string(kModelFileVersion) +
                            "; use the gossip-learner that wrote it)");
  }
  ModelFileContents c;
  c.hidden_size = static_cast<int>(r.Le(4));
  c.max_name_length = static_cast<int>(r.Le(4));
  const auto alphabet = r.Le(4);
  c.labels = SplitLabels(r.Text(kMaxTextBytes));
  c.signature = r.Text(kMaxTextBytes);
  const std::uint64_t count = r.Le(8);
  if (count > kMaxParameters || !r.Has(count * 4 + 8)) {
    return Status::Corruption(path + ": truncated (" + std::to_string(bytes.size()) + " bytes)");
  }
  c.parameters.resize(count);
  for (float& p : c.parameters) p = std::bit_cast<float>(static_cast<std::uint32_t>(r.Le(4)));
  const std::size_t checked = kMagic.size() + r.offset();
  const std::uint64_t checksum = r.Le(8);
  if (checksum != Fnv1a64(std::string_view(bytes).substr(0, checked))) {
    return Status::Corruption(path + ": checksum mismatch (the file is damaged; copy or train it again)");
  }
  if (checked + 8 != bytes.size()) {
    return Status::Corruption(path + ": " + std::to_string(bytes.size() - checked - 8) + " unexpected trailing bytes");
  }
  if (alphabet > static_cast<std::uint32_t>(AlphabetKind::kKeepAccents)) {
    return Status::Corruption(path + ": unknown alphabet " + std::to_string(alphabet));
  }
  c.alphabet = static_cast<AlphabetKind>(alphabet);
  return c;
}

}  // namespace gl::nn
