// Little-endian encoding of the project's binary files (nn/model_file.h,
// node/server_optimizer_file.h): fixed-width unsigned integers and length-prefixed text
// appended to a byte string, and a reader that takes them back front to back. A read past
// the end returns 0 / "" and marks the reader truncated, so a parser checks once at the end.
// Header-only; pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace gl {

inline void PutLe(std::string& out, std::uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}

// A u32 byte count, then the bytes.
inline void PutText(std::string& out, std::string_view text) {
  PutLe(out, text.size(), 4);
  out += text;
}

class LeReader {
 public:
  explicit LeReader(std::string_view bytes) : bytes_(bytes) {}
  bool truncated() const { return truncated_; }
  std::size_t offset() const { return offset_; }

  std::uint64_t Le(int bytes) {
    if (!Has(bytes)) return 0;
    std::uint64_t value = 0;
    for (int i = 0; i < bytes; ++i) {
      value |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes_[offset_ + i])) << (8 * i);
    }
    offset_ += bytes;
    return value;
  }
  // Text written by PutText; longer than `max_bytes` counts as truncated.
  std::string Text(std::size_t max_bytes) {
    const std::uint64_t size = Le(4);
    if (size > max_bytes || !Has(size)) return truncated_ = true, "";
    std::string text(bytes_.substr(offset_, size));
    offset_ += size;
    return text;
  }
  // Whether `bytes` more are left (if not, the reader is marked truncated).
  bool Has(std::uint64_t bytes) {
    if (bytes_.size() - offset_ < bytes) truncated_ = true;
    return !truncated_;
  }

 private:
  std::string_view bytes_;
  std::size_t offset_ = 0;
  bool truncated_ = false;
};

}  // namespace gl
