#include "gossip/wire/model_codec.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace gl::gossip {
namespace {

constexpr std::size_t kScaleBytes = sizeof(float);
constexpr std::size_t kBlockCountBytes = sizeof(std::uint32_t);
constexpr float kNegligible = 1e-30f;  // int8: a block whose values are all smaller is sent as zeros

// Most compact first: the order BestCommonCodec prefers.
constexpr std::array<ModelCodec, 3> kByCompactness = {ModelCodec::kInt8, ModelCodec::kFp16, ModelCodec::kFp32};

std::size_t BlockCount(std::size_t count) { return (count + kInt8BlockValues - 1) / kInt8BlockValues; }

void PutU32(std::uint8_t* out, std::uint32_t value) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<std::uint8_t>(value >> (8 * i));
}

std::uint32_t GetU32(const std::uint8_t* in) {
  return std::uint32_t{in[0]} | std::uint32_t{in[1]} << 8 | std::uint32_t{in[2]} << 16 | std::uint32_t{in[3]} << 24;
}

// The bits of the largest |value|. For non-negative binary32 the integer order of the bits is
// the numeric order, with Inf and NaN above every finite value, and an integer maximum
// vectorises where a float one (NaN-aware) does not.
std::uint32_t MaxMagnitudeBits(std::span<const float> values) {
  std::uint32_t largest = 0;
  for (const float v : values) largest = std::max(largest, std::bit_cast<std::uint32_t>(v) & 0x7FFFFFFFu);
  return largest;
}

// Whether every value is finite and within what fp16 and int8 frames carry.
bool Codable(std::span<const float> values) {
  return MaxMagnitudeBits(values) <= std::bit_cast<std::uint32_t>(kMaxCodedMagnitude);
}

// A u16 as it goes on the wire, little-endian, in host order for a plain store.
std::uint16_t WireOrder(std::uint16_t value) {
  if constexpr (std::endian::native == std::endian::little) return value;
  return static_cast<std::uint16_t>(value << 8 | value >> 8);
}

// Rounds to the nearest integer, ties to even, for |x| <= 2^22: adding and removing 1.5 x 2^23
// leaves no fraction bits. Plain arithmetic, so it vectorises on every target; it needs strict
// IEEE evaluation (no -ffast-math, which would fold it away; model_codec_test checks the bound).
float RoundToInteger(float x) {
  constexpr float kMagic = 12582912.0f;  // 1.5 x 2^23
  return (x + kMagic) - kMagic;
}

// All ones if `condition`, else 0: a select by masks, which compilers keep branch-free (a
// ternary over a float result is compiled as a branch unless math may be reordered), so the
// loops around it vectorise.
std::uint32_t MaskIf(bool condition) { return 0u - static_cast<std::uint32_t>(condition); }

// binary32 -> binary16, round to nearest even, for |f| <= kMaxCodedMagnitude (F. Giesen's
// float_to_half_fast3_rtne without the Inf/NaN case, which Codable excludes).
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
  const std::uint32_t is_subnormal = MaskIf(magnitude < kSmallestNormalHalf);
  return static_cast<std::uint16_t>(sign | (subnormal & is_subnormal) | (normal & ~is_subnormal));
}

// binary16 -> binary32 for finite halves (the caller rejects exponent 31).
float FromHalf(std::uint16_t half) {
  constexpr float kSubnormalMagic = std::bit_cast<float>(113u << 23);
  const std::uint32_t shifted = static_cast<std::uint32_t>(half & 0x7FFFu) << 13;
  const std::uint32_t rebiased = shifted + (static_cast<std::uint32_t>(127 - 15) << 23);
  const float subnormal = std::bit_cast<float>(rebiased + (1u << 23)) - kSubnormalMagic;
  const std::uint32_t is_subnormal = MaskIf((shifted & (0x7C00u << 13)) == 0);
  const std::uint32_t magnitude = (std::bit_cast<std::uint32_t>(subnormal) & is_subnormal) | (rebiased & ~is_subnormal);
  return std::bit_cast<float>(magnitude | static_cast<std::uint32_t>(half & 0x8000u) << 16);
}

void EncodeFp16(std::span<const float> values, std::uint8_t* out) {
  for (std::size_t i = 0; i < values.size(); ++i) {
    const std::uint16_t half = WireOrder(ToHalf(values[i]));
    std::memcpy(out + 2 * i, &half, sizeof half);
  }
}

Status DecodeFp16(std::span<const std::uint8_t> payload, std::span<float> values) {
  std::uint32_t special = 0;  // nonzero once a half has exponent 31 (Inf or NaN)
  for (std::size_t i = 0; i < values.size(); ++i) {
    std::uint16_t half;
    std::memcpy(&half, payload.data() + 2 * i, sizeof half);
    half = WireOrder(half);
    special |= (half & 0x7C00u) == 0x7C00u;
    values[i] = FromHalf(half);
  }
  if (special != 0) return Status::Corruption("fp16 model holds an Inf or NaN value");
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
    const float largest = std::bit_cast<float>(MaxMagnitudeBits(block));
    // A block of values all below kNegligible goes as zeros (127 / largest would overflow for
    // the tiniest); any positive scale decodes zeros, and 1 keeps it a normal number.
    const bool negligible = largest < kNegligible;
    const float scale = negligible ? 1.0f : largest / 127.0f;
    const float inverse = negligible ? 0.0f : 127.0f / largest;
    PutU32(scales + b * kScaleBytes, std::bit_cast<std::uint32_t>(scale));
    std::uint8_t* q = quantized + b * kInt8BlockValues;
    for (std::size_t i = 0; i < block.size(); ++i) {
      // |x| x 127 / largest is at most 127 but for rounding: the bounds keep it in [-127, 127].
      const float scaled = std::min(std::max(RoundToInteger(block[i] * inverse), -127.0f), 127.0f);
      q[i] = static_cast<std::uint8_t>(static_cast<std::int32_t>(scaled));  // two's complement
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
      char why[96];
      std::snprintf(why, sizeof why, " has scale %g, outside (0, %g]", static_cast<double>(scale),
                    static_cast<double>(kMaxInt8Scale));
      return Status::Corruption("int8 block " + std::to_string(b) + why);
    }
    const std::size_t first = b * kInt8BlockValues;
    const std::size_t end = std::min(first + kInt8BlockValues, values.size());
    std::uint32_t minus_128 = 0;
    for (std::size_t i = first; i < end; ++i) {
      const auto q = static_cast<std::int8_t>(quantized[i]);  // modular since C++20: no char-signedness question
      minus_128 |= quantized[i] == 0x80;
      values[i] = static_cast<float>(q) * scale;
    }
    if (minus_128 != 0) return Status::Corruption("int8 block " + std::to_string(b) + " holds -128, outside [-127, 127]");
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
