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
constexpr float kNegligible = 1e-30f;  // int8, int4-delta: a block whose values are all smaller is sent as zeros

// The codecs a whole model goes in, most compact first: the order BestCommonCodec prefers.
constexpr std::array<ModelCodec, 3> kByCompactness = {ModelCodec::kInt8, ModelCodec::kFp16, ModelCodec::kFp32};
constexpr std::array<ModelCodec, 4> kKnown = {ModelCodec::kFp32, ModelCodec::kFp16, ModelCodec::kInt8,
                                              ModelCodec::kInt4Delta};

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
// float_to_half_fast3_rtne without the Inf/NaN case, which CanCode excludes).
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

// int8 and int4-delta: symmetric integers in [-max_level, max_level] times one scale per block.
struct IntegerShape {
  const char* name;
  std::size_t block_values;
  int max_level;    // 127 or 7: the most negative code (-128 or -8) is never written
  float max_scale;  // kMaxCodedMagnitude / max_level
  int bits;         // per value: 8, or 4 packed two a byte, the even value in the low nibble
};
constexpr IntegerShape kInt8Shape{"int8", kInt8BlockValues, 127, kMaxInt8Scale, 8};
constexpr IntegerShape kInt4Shape{"int4-delta", kInt4BlockValues, 7, kMaxInt4Scale, 4};
constexpr std::size_t kMaxBlockValues = std::max(kInt8BlockValues, kInt4BlockValues);
static_assert(kInt4BlockValues % 2 == 0, "an int4 byte never straddles two blocks");

const IntegerShape& ShapeOf(ModelCodec codec) { return codec == ModelCodec::kInt8 ? kInt8Shape : kInt4Shape; }

std::size_t BlockCount(const IntegerShape& shape, std::size_t count) {
  return (count + shape.block_values - 1) / shape.block_values;
}
std::size_t PackedBytes(const IntegerShape& shape, std::size_t count) { return (count * shape.bits + 7) / 8; }

// Stores a block's codes (each in [-max_level, max_level]) from value index `first`, in two's
// complement. Apart from the arithmetic, so that both loops vectorise.
void PackCodes(const IntegerShape& shape, const std::int8_t* codes, std::size_t count, std::size_t first,
               std::uint8_t* packed) {
  if (shape.bits == 8) {
    std::memcpy(packed + first, codes, count);
    return;
  }
  std::uint8_t* out = packed + first / 2;
  for (std::size_t i = 0; i + 1 < count; i += 2) {
    out[i / 2] = static_cast<std::uint8_t>((codes[i] & 0xF) | (codes[i + 1] & 0xF) << 4);
  }
  if (count % 2 == 1) out[count / 2] = static_cast<std::uint8_t>(codes[count - 1] & 0xF);  // high nibble 0
}

// The codes of `count` values from value index `first`, sign-extended.
void UnpackCodes(const IntegerShape& shape, const std::uint8_t* packed, std::size_t first, std::size_t count,
                 std::int8_t* codes) {
  if (shape.bits == 8) {
    std::memcpy(codes, packed + first, count);  // as int8_t: two's complement since C++20, whatever char is
    return;
  }
  const std::uint8_t* in = packed + first / 2;
  for (std::size_t i = 0; i < count; ++i) {
    const int nibble = (in[i / 2] >> (4 * (i % 2))) & 0xF;
    codes[i] = static_cast<std::int8_t>(nibble - ((nibble & 8) << 1));
  }
}

// Layout: u32 block count, the blocks' f32 scales, then the packed codes (an odd int4 count
// leaves the last byte's high nibble 0).
void EncodeIntegers(const IntegerShape& shape, std::span<const float> values, std::uint8_t* out) {
  const std::size_t blocks = BlockCount(shape, values.size());
  PutU32(out, static_cast<std::uint32_t>(blocks));
  std::uint8_t* scales = out + kBlockCountBytes;
  std::uint8_t* packed = scales + blocks * kScaleBytes;
  const auto levels = static_cast<float>(shape.max_level);
  std::int8_t codes[kMaxBlockValues];
  for (std::size_t b = 0; b < blocks; ++b) {
    const std::size_t first = b * shape.block_values;
    const std::span<const float> block = values.subspan(first, std::min(shape.block_values, values.size() - first));
    const float largest = std::bit_cast<float>(MaxMagnitudeBits(block));
    // A block of values all below kNegligible goes as zeros (levels / largest would overflow
    // for the tiniest); any positive scale decodes zeros, and 1 keeps it a normal number.
    const bool negligible = largest < kNegligible;
    const float scale = negligible ? 1.0f : largest / levels;
    const float inverse = negligible ? 0.0f : levels / largest;
    PutU32(scales + b * kScaleBytes, std::bit_cast<std::uint32_t>(scale));
    for (std::size_t i = 0; i < block.size(); ++i) {
      // |x| x levels / largest is at most levels but for rounding: the bounds keep it in range.
      const float scaled = std::min(std::max(RoundToInteger(block[i] * inverse), -levels), levels);
      codes[i] = static_cast<std::int8_t>(static_cast<std::int32_t>(scaled));
    }
    PackCodes(shape, codes, block.size(), first, packed);
  }
}

Status DecodeIntegers(const IntegerShape& shape, std::span<const std::uint8_t> payload, std::span<float> values) {
  const std::string name = shape.name;
  const std::size_t blocks = BlockCount(shape, values.size());
  const std::uint32_t claimed = GetU32(payload.data());
  if (claimed != blocks) {
    return Status::Corruption(name + " model has " + std::to_string(claimed) + " blocks, " +
                              std::to_string(values.size()) + " values need " + std::to_string(blocks));
  }
  const std::uint8_t* scales = payload.data() + kBlockCountBytes;
  const std::uint8_t* packed = scales + blocks * kScaleBytes;
  std::int8_t codes[kMaxBlockValues];
  for (std::size_t b = 0; b < blocks; ++b) {
    const float scale = std::bit_cast<float>(GetU32(scales + b * kScaleBytes));
    if (!(scale > 0 && scale <= shape.max_scale)) {  // also refuses NaN, Inf, -0
      char why[96];
      std::snprintf(why, sizeof why, " has scale %g, outside (0, %g]", static_cast<double>(scale),
                    static_cast<double>(shape.max_scale));
      return Status::Corruption(name + " block " + std::to_string(b) + why);
    }
    const std::size_t first = b * shape.block_values;
    const std::size_t count = std::min(shape.block_values, values.size() - first);
    UnpackCodes(shape, packed, first, count, codes);
    std::uint32_t below_range = 0;
    for (std::size_t i = 0; i < count; ++i) {
      below_range |= codes[i] < -shape.max_level;
      values[first + i] = static_cast<float>(codes[i]) * scale;
    }
    if (below_range != 0) {
      return Status::Corruption(name + " block " + std::to_string(b) + " holds " +
                                std::to_string(-shape.max_level - 1) + ", outside [-" +
                                std::to_string(shape.max_level) + ", " + std::to_string(shape.max_level) + "]");
    }
  }
  if (shape.bits == 4 && values.size() % 2 == 1 && (packed[values.size() / 2] >> 4) != 0) {
    return Status::Corruption(name + " model's padding nibble is not 0");
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
    case ModelCodec::kInt4Delta:
      return "int4-delta";
  }
  return "codec-" + std::to_string(static_cast<int>(codec));
}

std::optional<ModelCodec> ParseCodec(std::string_view name) {
  for (const ModelCodec codec : kKnown) {
    if (CodecName(codec) == name) return codec;
  }
  return std::nullopt;
}

bool IsKnownCodec(std::uint8_t id) {
  return std::any_of(kKnown.begin(), kKnown.end(),
                     [id](ModelCodec codec) { return static_cast<std::uint8_t>(codec) == id; });
}

std::size_t PayloadBytes(ModelCodec codec, std::size_t count) {
  switch (codec) {
    case ModelCodec::kFp32:
      return count * sizeof(float);
    case ModelCodec::kFp16:
      return count * sizeof(std::uint16_t);
    case ModelCodec::kInt8:
    case ModelCodec::kInt4Delta:
      return kBlockCountBytes + BlockCount(ShapeOf(codec), count) * kScaleBytes + PackedBytes(ShapeOf(codec), count);
  }
  return 0;
}

bool EncodeValues(ModelCodec codec, std::span<const float> values, std::vector<std::uint8_t>& out) {
  if (codec == ModelCodec::kFp32 || !CanCode(values)) return false;
  if (codec != ModelCodec::kFp16 && BlockCount(ShapeOf(codec), values.size()) > UINT32_MAX) return false;
  const std::size_t start = out.size();
  out.resize(start + PayloadBytes(codec, values.size()));
  if (codec == ModelCodec::kFp16) {
    EncodeFp16(values, out.data() + start);
  } else {
    EncodeIntegers(ShapeOf(codec), values, out.data() + start);
  }
  return true;
}

Status DecodeValues(ModelCodec codec, std::span<const std::uint8_t> payload, std::span<float> values) {
  if (codec == ModelCodec::kFp32 || !IsKnownCodec(static_cast<std::uint8_t>(codec))) {
    return Status::Corruption("model codec " + CodecName(codec) + " has no coded payload");
  }
  const std::size_t expected = PayloadBytes(codec, values.size());
  if (payload.size() != expected) {
    return Status::Corruption(CodecName(codec) + " payload of " + std::to_string(payload.size()) + " bytes, " +
                              std::to_string(values.size()) + " values need " + std::to_string(expected));
  }
  return codec == ModelCodec::kFp16 ? DecodeFp16(payload, values) : DecodeIntegers(ShapeOf(codec), payload, values);
}

bool CanCode(std::span<const float> values) {
  return MaxMagnitudeBits(values) <= std::bit_cast<std::uint32_t>(kMaxCodedMagnitude);
}

std::vector<float> AsReceived(ModelCodec codec, std::span<const float> values) {
  std::vector<float> received(values.begin(), values.end());
  std::vector<std::uint8_t> payload;
  if (EncodeValues(codec, values, payload) && !DecodeValues(codec, payload, received).ok()) {
    received.assign(values.begin(), values.end());  // not reached: the payload was just encoded
  }
  return received;
}

std::optional<std::vector<float>> DifferenceFrom(std::span<const float> model, std::span<const float> reference) {
  if (model.size() != reference.size()) return std::nullopt;
  std::vector<float> difference(model.size());
  for (std::size_t i = 0; i < model.size(); ++i) difference[i] = model[i] - reference[i];
  if (!CanCode(difference)) return std::nullopt;
  return difference;
}

Status AddBackReference(std::vector<float>& difference, const std::vector<float>* reference) {
  if (reference == nullptr) return Status::Corruption("int4-delta reply to a request that asked for a whole model");
  if (difference.size() != reference->size()) {
    return Status::Corruption("int4-delta reply of " + std::to_string(difference.size()) + " values to a model of " +
                              std::to_string(reference->size()));
  }
  for (std::size_t i = 0; i < difference.size(); ++i) difference[i] += (*reference)[i];
  return Status::Ok();
}

bool BothList(ModelCodec codec, std::span<const ModelCodec> mine, std::span<const std::uint8_t> theirs) {
  return std::find(mine.begin(), mine.end(), codec) != mine.end() &&
         std::find(theirs.begin(), theirs.end(), static_cast<std::uint8_t>(codec)) != theirs.end();
}

ModelCodec BestCommonCodec(std::span<const ModelCodec> mine, std::span<const std::uint8_t> theirs) {
  for (const ModelCodec codec : kByCompactness) {
    if (BothList(codec, mine, theirs)) return codec;
  }
  return ModelCodec::kFp32;
}

}  // namespace gl::gossip
