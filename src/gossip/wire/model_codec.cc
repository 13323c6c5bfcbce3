#include "gossip/wire/model_codec.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>

namespace gl::gossip {
namespace {

constexpr std::size_t kScaleBytes = sizeof(float);
constexpr std::size_t kBlockCountBytes = sizeof(std::uint32_t);

// Most compact first: the order BestCommonCodec prefers.
constexpr std::array<ModelCodec, 3> kByCompactness = {ModelCodec::kInt8, ModelCodec::kFp16, ModelCodec::kFp32};

std::size_t BlockCount(std::size_t count) { return (count + kInt8BlockValues - 1) / kInt8BlockValues; }

void PutU32(std::uint8_t* out, std::uint32_t value) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<std::uint8_t>(value >> (8 * i));
}

std::uint32_t GetU32(const std::uint8_t* in) {
  return std::uint32_t{in[0]} | std::uint32_t{in[1]} << 8 | std::uint32_t{in[2]} << 16 | std::uint32_t{in[3]} << 24;
}

// Whether every value is finite and within what fp16 and int8 frames carry.
bool Codable(std::span<const float> values) {
  bool codable = true;
  for (const float v : values) codable &= std::fabs(v) <= kMaxCodedMagnitude;  // false for NaN
  return codable;
}

// binary32 -> binary16, round to nearest even, for |f| <= kMaxCodedMagnitude (F. Giesen's
// float_to_half_fast3_rtne without the Inf/NaN case, which Codable excludes). Both branches
// are computed and one selected, so the loop vectorises.
std::uint16_t ToHalf(float f) {
  constexpr std::uint32_t kSmallestNormalHalf = 113u << 23;  // 2^-14 as binary32 bits
  constexpr float kDenormMagic = 0.5f;                         // aligns a subnormal's 10 bits at the bottom
  const std::uint32_t bits = std::bit_cast<std::uint32_t>(f);
  const std::uint32_t sign = (bits >> 16) & 0x8000u;
  const std::uint32_t magnitude = bits & 0x7FFFFFFFu;
  const std::uint32_t subnormal =
      std::bit_cast<std::uint32_t>(std::bit_cast<float>(magnitude) + kDenormMagic) - std::bit_cast<std::uint32_t>(kDenormMagic);
  const std::uint32_t mantissa_odd = (magnitude >> 13) & 1u;
  const std::uint32_t normal = (magnitude + (static_cast<std::uint32_t>(15 - 127) << 23) + 0xFFFu + mantissa_odd) >> 13;
  return static_cast<std::uint16_t>(sign | (magnitude < kSmallestNormalHalf ? subnormal : normal));
}

// binary16 -> binary32 for finite halves (the caller rejects exponent 31).
float FromHalf(std::uint16_t half) {
  constexpr float kSubnormalMagic = std::bit_cast<float>(113u << 23);
  const std::uint32_t shifted = static_cast<std::uint32_t>(half & 0x7FFFu) << 13;
  const std::uint32_t rebiased = shifted + (static_cast<std::uint32_t>(127 - 15) << 23);
  const float subnormal = std::bit_cast<float>(rebiased + (1u << 23)) - kSubnormalMagic;
  const std::uint32_t magnitude = (shifted & (0x7C00u << 13)) == 0 ? std::bit_cast<std::uint32_t>(subnormal) : rebiased;
  return std::bit_cast<float>(magnitude | static_cast<std::uint32_t>(half & 0x8000u) << 16);
}

void EncodeFp16(std::span<const float> values, std::uint8_t* out) {
  for (std::size_t i = 0; i < values.size(); ++i) {
    const std::uint16_t half = ToHalf(values[i]);
    out[2 * i] = static_cast<std::uint8_t>(half);
    out[2 * i + 1] = static_cast<std::uint8_t>(half >> 8);
  }
}

Status DecodeFp16(std::span<const std::uint8_t> payload, std::span<float> values) {
  bool finite = true;
  for (std::size_t i = 0; i < values.size(); ++i) {
    const auto half = static_cast<std::uint16_t>(payload[2 * i] | payload[2 * i + 1] << 8);
    finite &= (half & 0x7C00u) != 0x7C00u;
    values[i] = FromHalf(half);
  }
  if (!finite) return Status::Corruption("fp16 model holds an Inf or NaN value");
  return Status::Ok();
}

// Layout: u32 block count, the blocks' f32 scales, then one int8 per value.
void EncodeInt8(std::span<const float> values, std::uint8_t* out) {
  const std::size_t blocks = BlockCount(values.size());
  PutU32(out, static_cast<std::uint32_t>(blocks));
  std::uint8_t* scales = out + kBlockCountBytes;
  std::uint8_t* quantized = scales + blocks * kScaleBytes;
  for (std::size_t b = 0; b < blocks; ++b) {
    const std::span<const float> block =
        values.subspan(b * kInt8BlockValues, std::min(kInt8BlockValues, values.size() - b * kInt8BlockValues));
    float largest = 0;
    for (const float v : block) largest = std::max(largest, std::fabs(v));
    // Any positive scale decodes an all-zero block to zeros; 1 keeps it a normal number.
    const float scale = largest > 0 ? largest / 127.0f : 1.0f;
    const float inverse = largest > 0 ? 127.0f / largest : 0.0f;
    PutU32(scales + b * kScaleBytes, std::bit_cast<std::uint32_t>(scale));
    std::uint8_t* q = quantized + b * kInt8BlockValues;
    for (std::size_t i = 0; i < block.size(); ++i) {
      const float scaled = std::clamp(block[i] * inverse, -127.0f, 127.0f);
      const auto rounded = static_cast<std::int32_t>(scaled + (scaled < 0 ? -0.5f : 0.5f));  // half away from 0
      q[i] = static_cast<std::uint8_t>(rounded);
    }
  }
}

Status DecodeInt8(std::span<const std::uint8_t> payload, std::span<float> values) {
  const std::size_t blocks = BlockCount(values.size());
  const std::uint32_t claimed = GetU32(payload.data());
  if (claimed != blocks) {
    return Status::Corruption("int8 model has " + std::to_string(claimed) + " blocks, " +
                              std::to_string(values.size()) + " values need " + std::to_string(blocks));
  }
  const std::uint8_t* scales = payload.data() + kBlockCountBytes;
  const std::uint8_t* quantized = scales + blocks * kScaleBytes;
  for (std::size_t b = 0; b < blocks; ++b) {
    const float scale = std::bit_cast<float>(GetU32(scales + b * kScaleBytes));
    if (!(scale > 0 && scale <= kMaxInt8Scale)) {  // also refuses NaN, Inf, -0
      return Status::Corruption("int8 block " + std::to_string(b) + " has scale " + std::to_string(scale) +
                                ", outside (0, " + std::to_string(kMaxInt8Scale) + "]");
    }
    const std::size_t first = b * kInt8BlockValues;
    const std::size_t end = std::min(first + kInt8BlockValues, values.size());
    bool in_range = true;
    for (std::size_t i = first; i < end; ++i) {
      const auto q = static_cast<std::int8_t>(quantized[i]);  // modular since C++20: no char-signedness question
      in_range &= q != -128;
      values[i] = static_cast<float>(q) * scale;
    }
    if (!in_range) return Status::Corruption("int8 block " + std::to_string(b) + " holds -128, outside [-127, 127]");
  }
  return Status::Ok();
}

}  // namespace

std::string CodecName(ModelCodec codec) {
  switch (codec) {
    case ModelCodec::kFp32:
      return "fp32";
    case ModelCodec::kFp16:
      return "fp16";
    case ModelCodec::kInt8:
      return "int8";
  }
  return "codec-" + std::to_string(static_cast<int>(codec));
}

std::optional<ModelCodec> ParseCodec(std::string_view name) {
  for (const ModelCodec codec : kByCompactness) {
    if (CodecName(codec) == name) return codec;
  }
  return std::nullopt;
}

bool IsKnownCodec(std::uint8_t id) {
  return std::any_of(kByCompactness.begin(), kByCompactness.end(),
                     [id](ModelCodec codec) { return static_cast<std::uint8_t>(codec) == id; });
}

std::size_t PayloadBytes(ModelCodec codec, std::size_t count) {
  switch (codec) {
    case ModelCodec::kFp32:
      return count * sizeof(float);
    case ModelCodec::kFp16:
      return count * sizeof(std::uint16_t);
    case ModelCodec::kInt8:
      return kBlockCountBytes + BlockCount(count) * kScaleBytes + count;
  }
  return 0;
}

bool EncodeValues(ModelCodec codec, std::span<const float> values, std::vector<std::uint8_t>& out) {
  if (codec == ModelCodec::kFp32 || !Codable(values)) return false;
  if (codec == ModelCodec::kInt8 && BlockCount(values.size()) > UINT32_MAX) return false;
  const std::size_t start = out.size();
  out.resize(start + PayloadBytes(codec, values.size()));
  if (codec == ModelCodec::kFp16) {
    EncodeFp16(values, out.data() + start);
  } else {
    EncodeInt8(values, out.data() + start);
  }
  return true;
}

Status DecodeValues(ModelCodec codec, std::span<const std::uint8_t> payload, std::span<float> values) {
  if (codec != ModelCodec::kFp16 && codec != ModelCodec::kInt8) {
    return Status::Corruption("model codec " + CodecName(codec) + " has no coded payload");
  }
  const std::size_t expected = PayloadBytes(codec, values.size());
  if (payload.size() != expected) {
    return Status::Corruption(CodecName(codec) + " payload of " + std::to_string(payload.size()) + " bytes, " +
                              std::to_string(values.size()) + " values need " + std::to_string(expected));
  }
  return codec == ModelCodec::kFp16 ? DecodeFp16(payload, values) : DecodeInt8(payload, values);
}

ModelCodec BestCommonCodec(std::span<const ModelCodec> mine, std::span<const std::uint8_t> theirs) {
  for (const ModelCodec codec : kByCompactness) {
    const bool mine_has = std::find(mine.begin(), mine.end(), codec) != mine.end();
    const bool theirs_has = std::find(theirs.begin(), theirs.end(), static_cast<std::uint8_t>(codec)) != theirs.end();
    if (mine_has && theirs_has) return codec;
  }
  return ModelCodec::kFp32;
}

}  // namespace gl::gossip
