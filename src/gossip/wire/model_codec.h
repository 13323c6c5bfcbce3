// Model codecs: a parameter vector as the payload bytes of one ModelCodec (frame_format.h,
// layouts in docs/wire.md "Model codecs"), and which codec a pair of nodes uses.
//
// Pure functions, any thread. Bytes are little-endian by construction (shifts, not memcpy
// of host words) and int8 values are read as signed explicitly, so every host, x86-64 or
// arm64, whatever its char signedness, codes the same bytes. No intrinsics: the loops are
// written for the compiler to vectorise.
//
// Decoding validates everything before a value is used: the payload length must be exactly
// what the codec and the value count imply, a block count exactly ceil(count / block size),
// every scale finite and in (0, kMaxInt8Scale] (int8) or (0, kMaxInt4Scale] (int4-delta),
// every int8 value in [-127, 127], every int4 value in [-7, 7] and an odd count's padding
// nibble 0, every fp16 value finite. Anything else is Corruption naming the problem. An
// int4-delta payload is a difference from the model of the request it answers (DifferenceFrom,
// AddBackReference); which request that is, is the caller's business (engine, rounds).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "gossip/wire/frame_format.h"

namespace gl::gossip {

// "fp32" | "fp16" | "int8" | "int4-delta"; "codec-N" for an id this build does not know.
std::string CodecName(ModelCodec codec);
// The codec named `name` (as CodecName writes it), or nullopt.
std::optional<ModelCodec> ParseCodec(std::string_view name);
// True for the ids this build can decode.
bool IsKnownCodec(std::uint8_t id);

// Payload bytes that carry `count` values coded as `codec` (a known, non-fp32 codec).
std::size_t PayloadBytes(ModelCodec codec, std::size_t count);

// Whether every value is finite and within kMaxCodedMagnitude: what a coded payload carries.
bool CanCode(std::span<const float> values);

// Appends the payload of `values` coded as `codec` (any but fp32) to `out`. False, and
// nothing appended, if a value is non-finite or larger in magnitude than kMaxCodedMagnitude:
// such a model goes as fp32.
bool EncodeValues(ModelCodec codec, std::span<const float> values, std::vector<std::uint8_t>& out);
// Decodes a payload EncodeValues wrote for values.size() values into `values`. Corruption
// (values unspecified) on any violation listed at the top of this file.
Status DecodeValues(ModelCodec codec, std::span<const std::uint8_t> payload, std::span<float> values);

// `values` as a peer decodes them when they are sent as `codec`: the codec's rounding, or the
// values themselves when they go as fp32 (the codec is fp32 or cannot carry them).
std::vector<float> AsReceived(ModelCodec codec, std::span<const float> values);

// A reply's model as its difference from `reference` (the request's model as the requester
// decoded it, AsReceived), for int4-delta; nullopt when it cannot go so (lengths differ, or a
// difference is non-finite or beyond kMaxCodedMagnitude): the whole model goes instead.
std::optional<std::vector<float>> DifferenceFrom(std::span<const float> model, std::span<const float> reference);
// Turns a reply received in int4-delta back into a whole model by adding `reference`. Corruption
// if the request asked for no difference (`reference` null) or the lengths differ.
Status AddBackReference(std::vector<float>& difference, const std::vector<float>* reference);

// Whether `codec` is in both `mine` and `theirs` (a peer's Hello list, raw ids).
bool BothList(ModelCodec codec, std::span<const ModelCodec> mine, std::span<const std::uint8_t> theirs);

// The most compact codec for a whole model (int8, fp16, fp32) in both `mine` and `theirs` (a peer's Hello list, raw ids; ids
// this build does not know are ignored). fp32 when they share nothing else: every node
// reads fp32, and a peer whose Hello has no list (an older build) knows only fp32.
ModelCodec BestCommonCodec(std::span<const ModelCodec> mine, std::span<const std::uint8_t> theirs);

}  // namespace gl::gossip
