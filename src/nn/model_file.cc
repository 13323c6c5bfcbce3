#include "nn/model_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string_view>

#include "nn/hash.h"

namespace gl::nn {
namespace {

constexpr std::string_view kMagic("GLMODEL\n", 8);
constexpr std::size_t kMaxTextBytes = 1 << 16;       // labels or signature
constexpr std::uint64_t kMaxParameters = 1ull << 28;  // 1 GiB of fp32

void PutLe(std::string& out, std::uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}

void PutText(std::string& out, const std::string& text) {
  PutLe(out, text.size(), 4);
  out += text;
}

// Reads fields front to back; any read past the end marks the reader truncated.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}
  bool truncated() const { return truncated_; }
  std::size_t offset() const { return offset_; }

  std::uint64_t Le(int bytes) {
    if (!Has(bytes)) return 0;
    std::uint64_t value = 0;
    for (int i = 0; i < bytes; ++i) value |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes_[offset_ + i])) << (8 * i);
    offset_ += bytes;
    return value;
  }
  std::string Text() {
    const std::uint64_t size = Le(4);
    if (size > kMaxTextBytes || !Has(size)) return truncated_ = true, "";
    std::string text(bytes_.substr(offset_, size));
    offset_ += size;
    return text;
  }
  bool Has(std::uint64_t bytes) {
    if (bytes_.size() - offset_ < bytes) truncated_ = true;
    return !truncated_;
  }

 private:
  std::string_view bytes_;
  std::size_t offset_ = 0;
  bool truncated_ = false;
};

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

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

Status FsyncPath(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags);
  if (fd < 0) return Status::IoError(Errno(path));
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok ? Status::Ok() : Status::IoError(Errno("fsync " + path));
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

  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return Status::IoError(Errno(tmp) + " (does the folder exist and is it writable?)");
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) return Status::IoError(Errno("writing " + tmp) + " (disk full?)");
  }
  if (Status s = FsyncPath(tmp, O_RDONLY); !s.ok()) return s;
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Status failed = Status::IoError(Errno("renaming " + tmp + " to " + path));
    ::unlink(tmp.c_str());
    return failed;
  }
  std::string folder = std::filesystem::path(path).parent_path().string();
  return FsyncPath(folder.empty() ? "." : folder, O_RDONLY | O_DIRECTORY);
}

Result<ModelFileContents> ReadModelFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound(Errno(path) + " (train one with `gossip-learner train --out FILE`)");
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() < kMagic.size() || std::string_view(bytes).substr(0, kMagic.size()) != kMagic) {
    return Status::Corruption(path + ": not a gossip-learner model file (bad magic)");
  }
  Reader r(std::string_view(bytes).substr(kMagic.size()));
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
  c.labels = SplitLabels(r.Text());
  c.signature = r.Text();
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
