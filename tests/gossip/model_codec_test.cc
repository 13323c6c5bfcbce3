// Model codecs: error bounds of each codec, the exact byte layout, the fp32 fallback, the
// Hello codec list, negotiation, and hostile coded models refused with a reason.
#include "gossip/wire/model_codec.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <initializer_list>
#include <random>

#include "gossip/wire/codec.h"
#include "gossip/wire/round_messages.h"
#include "hello_without_codecs.h"

namespace gl::gossip {
namespace {

constexpr std::uint32_t kLimit = 1u << 22;
constexpr std::size_t kModelValues = 74'000 + 13;  // the model's size, not a whole number of blocks

std::vector<float> Gaussian(std::size_t count, float sigma, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> gauss(0.0f, sigma);
  std::vector<float> values(count);
  for (float& v : values) v = gauss(rng);
  return values;
}

std::vector<float> RoundTrip(ModelCodec codec, const std::vector<float>& values) {
  std::vector<std::uint8_t> payload;
  EXPECT_TRUE(EncodeValues(codec, values, payload));
  EXPECT_EQ(payload.size(), PayloadBytes(codec, values.size()));
  std::vector<float> decoded(values.size());
  const Status status = DecodeValues(codec, payload, decoded);
  EXPECT_TRUE(status.ok()) << status.ToString();
  return decoded;
}

TEST(ModelCodecTest, Fp16IsWithinHalfAnUlpInTheNormalRange) {
  // Log-uniform magnitudes over fp16's whole normal range, both signs.
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> exponent(-14.0, std::log2(65504.0));
  std::vector<float> values(20000);
  for (std::size_t i = 0; i < values.size(); ++i) {
    values[i] = static_cast<float>((i % 2 ? -1 : 1) * std::exp2(exponent(rng)));
  }
  values.push_back(65504.0f);
  values.push_back(-6.103515625e-05f);  // 2^-14, the smallest normal
  const std::vector<float> decoded = RoundTrip(ModelCodec::kFp16, values);
  for (std::size_t i = 0; i < values.size(); ++i) {
    ASSERT_LE(std::fabs(decoded[i] - values[i]), std::ldexp(std::fabs(values[i]), -11)) << values[i];
  }
}

TEST(ModelCodecTest, Fp16RoundsSubnormalsToTheirGridAndKeepsExactValues) {
  const std::vector<float> exact = {0.0f, -0.0f, 1.0f, -2.5f, 0.099975586f, 65504.0f, std::ldexp(1.0f, -24)};
  EXPECT_EQ(RoundTrip(ModelCodec::kFp16, exact), exact);
  std::vector<float> tiny = Gaussian(5000, 1e-5f, 4);  // mostly fp16 subnormals (< 2^-14)
  const std::vector<float> decoded = RoundTrip(ModelCodec::kFp16, tiny);
  for (std::size_t i = 0; i < tiny.size(); ++i) ASSERT_LE(std::fabs(decoded[i] - tiny[i]), std::ldexp(1.0f, -25));
}

// Each block's scale is its largest magnitude / `levels`, and every value is within half of it.
void ExpectWithinHalfAScalePerBlock(ModelCodec codec, std::size_t block_values, float levels) {
  std::vector<float> values = Gaussian(kModelValues, 0.2f, 5);
  for (std::size_t i = 0; i < values.size(); i += 997) values[i] *= 40;  // blocks of very different scales
  std::vector<std::uint8_t> payload;
  ASSERT_TRUE(EncodeValues(codec, values, payload));
  const std::vector<float> decoded = RoundTrip(codec, values);
  const std::size_t blocks = (values.size() + block_values - 1) / block_values;
  for (std::size_t b = 0; b < blocks; ++b) {
    float scale;
    std::memcpy(&scale, payload.data() + 4 + 4 * b, 4);  // little-endian host: the wire bytes as they are
    const std::size_t end = std::min(values.size(), (b + 1) * block_values);
    float largest = 0;
    for (std::size_t i = b * block_values; i < end; ++i) largest = std::max(largest, std::fabs(values[i]));
    ASSERT_FLOAT_EQ(scale, largest / levels) << "block " << b;
    for (std::size_t i = b * block_values; i < end; ++i) {
      ASSERT_LE(std::fabs(decoded[i] - values[i]), scale / 2 * (1 + 1e-5f)) << "value " << i;
    }
  }
}

TEST(ModelCodecTest, Int8IsWithinHalfAScalePerBlock) {
  ExpectWithinHalfAScalePerBlock(ModelCodec::kInt8, kInt8BlockValues, 127.0f);
}

TEST(ModelCodecTest, Int4DeltaIsWithinHalfAScalePerBlock) {
  ExpectWithinHalfAScalePerBlock(ModelCodec::kInt4Delta, kInt4BlockValues, 7.0f);
}

TEST(ModelCodecTest, Int8KeepsZeroBlocksAndEachBlocksLargestValue) {
  std::vector<float> values(3 * kInt8BlockValues + 1, 0.0f);
  values[kInt8BlockValues] = -3.0f;
  values[2 * kInt8BlockValues] = 1e-38f;  // a block of negligible values, one subnormal
  values[2 * kInt8BlockValues + 1] = -1e-42f;
  values.back() = 7.0f;
  const std::vector<float> decoded = RoundTrip(ModelCodec::kInt8, values);
  EXPECT_EQ(decoded[0], 0.0f);
  EXPECT_EQ(decoded[2 * kInt8BlockValues], 0.0f);
  EXPECT_EQ(decoded[2 * kInt8BlockValues + 1], 0.0f);
  EXPECT_FLOAT_EQ(decoded[kInt8BlockValues], -3.0f);
  EXPECT_FLOAT_EQ(decoded.back(), 7.0f);
}

// The bytes are little-endian and the int8 values two's complement on every host.
TEST(ModelCodecTest, PayloadBytesAreAsSpecified) {
  std::vector<std::uint8_t> fp16;
  ASSERT_TRUE(EncodeValues(ModelCodec::kFp16, std::vector<float>{1.0f, -0.5f, 65504.0f}, fp16));
  EXPECT_EQ(fp16, (std::vector<std::uint8_t>{0x00, 0x3C, 0x00, 0xB8, 0xFF, 0x7B}));
  std::vector<std::uint8_t> int8;
  ASSERT_TRUE(EncodeValues(ModelCodec::kInt8, std::vector<float>{127.0f, -63.5f, 0.0f}, int8));
  // 1 block; scale 1.0f = 0x3F800000; values 127, -64 (half away from zero), 0.
  EXPECT_EQ(int8, (std::vector<std::uint8_t>{1, 0, 0, 0, 0x00, 0x00, 0x80, 0x3F, 0x7F, 0xC0, 0x00}));
  std::vector<std::uint8_t> int4;
  ASSERT_TRUE(EncodeValues(ModelCodec::kInt4Delta, std::vector<float>{7.0f, -3.5f, 0.0f}, int4));
  // 1 block; scale 1.0f; values 7, -4 (ties to even), 0: nibbles 0x7 and 0xC in one byte, the
  // even value low; the odd count's padding nibble 0.
  EXPECT_EQ(int4, (std::vector<std::uint8_t>{1, 0, 0, 0, 0x00, 0x00, 0x80, 0x3F, 0xC7, 0x00}));
}

TEST(ModelCodecTest, ValuesACodecCannotCarryAreNotEncoded) {
  for (const float bad : {NAN, INFINITY, -70000.0f}) {
    for (const ModelCodec codec : {ModelCodec::kFp16, ModelCodec::kInt8, ModelCodec::kInt4Delta}) {
      std::vector<std::uint8_t> payload;
      EXPECT_FALSE(EncodeValues(codec, std::vector<float>{1.0f, bad}, payload)) << CodecName(codec) << " " << bad;
      EXPECT_TRUE(payload.empty());
    }
  }
}

TEST(ModelCodecTest, NamesParseBack) {
  for (const ModelCodec codec : {ModelCodec::kFp32, ModelCodec::kFp16, ModelCodec::kInt8, ModelCodec::kInt4Delta}) {
    EXPECT_EQ(ParseCodec(CodecName(codec)), codec);
  }
  EXPECT_FALSE(ParseCodec("int4").has_value());
  EXPECT_EQ(CodecName(static_cast<ModelCodec>(9)), "codec-9");
}

TEST(ModelCodecTest, APairUsesTheMostCompactCodecBothAccept) {
  const std::vector<ModelCodec> all = {ModelCodec::kFp32, ModelCodec::kFp16, ModelCodec::kInt8};
  const std::vector<ModelCodec> no_int8 = {ModelCodec::kFp16, ModelCodec::kFp32};
  EXPECT_EQ(BestCommonCodec(all, std::vector<std::uint8_t>{0, 1, 2}), ModelCodec::kInt8);
  EXPECT_EQ(BestCommonCodec(all, std::vector<std::uint8_t>{0, 1}), ModelCodec::kFp16);
  EXPECT_EQ(BestCommonCodec(all, std::vector<std::uint8_t>{}), ModelCodec::kFp32);  // an older build
  EXPECT_EQ(BestCommonCodec(no_int8, std::vector<std::uint8_t>{2, 0}), ModelCodec::kFp32);
  EXPECT_EQ(BestCommonCodec(all, std::vector<std::uint8_t>{200, 2}), ModelCodec::kInt8);  // unknown ids ignored
  // int4-delta codes only a reply's difference, never a whole model.
  const std::vector<ModelCodec> with_delta = {ModelCodec::kInt4Delta, ModelCodec::kFp32};
  EXPECT_EQ(BestCommonCodec(with_delta, std::vector<std::uint8_t>{3, 0}), ModelCodec::kFp32);
  EXPECT_TRUE(BothList(ModelCodec::kInt4Delta, with_delta, std::vector<std::uint8_t>{3, 0}));
  EXPECT_FALSE(BothList(ModelCodec::kInt4Delta, all, std::vector<std::uint8_t>{3, 0}));
}

// ---- Coded models inside messages ----

ExchangeRequest Request(ModelCodec codec, std::vector<float> params) {
  return ExchangeRequest{"pi-1", ModelSnapshot{"gru-v1", std::move(params), 5, 6}, codec};
}

Result<ExchangeRequest> ThroughTheWire(const Frame& frame) {
  Result<Frame> received = DecodeFrame(EncodeFrame(frame), kLimit);
  if (!received.ok()) return received.status();
  return DecodeMessage<ExchangeRequest>(*received);
}

TEST(ModelCodecTest, EveryCodecCrossesTheWireAndSaysWhichItWas) {
  const std::vector<float> params = Gaussian(kModelValues, 0.1f, 6);
  std::size_t fp32_bytes = 0;
  for (const ModelCodec codec : {ModelCodec::kFp32, ModelCodec::kFp16, ModelCodec::kInt8}) {
    const Frame frame = EncodeMessage(Request(codec, params));
    Result<ExchangeRequest> decoded = ThroughTheWire(frame);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(decoded->codec, codec);
    EXPECT_EQ(decoded->model.params.size(), params.size());
    EXPECT_EQ(decoded->model.age, 5u);
    EXPECT_EQ(decoded->model.local_samples, 6u);
    if (codec == ModelCodec::kFp32) {
      EXPECT_EQ(decoded->model.params, params);
      fp32_bytes = frame.body.size();
    } else {
      EXPECT_EQ(decoded->model.params, RoundTrip(codec, params)) << "the decoded values are the codec's";
      EXPECT_EQ(frame.body.size(), fp32_bytes - params.size() * sizeof(float) + 8 + PayloadBytes(codec, params.size()));
    }
  }
}

// fp32 models are coded exactly as before codecs existed, so older builds read them.
TEST(ModelCodecTest, Fp32ModelsKeepTheOriginalLayout) {
  const Frame frame = EncodeMessage(Request(ModelCodec::kFp32, {1.0f, -2.0f}));
  const std::vector<std::uint8_t> expected = {
      1,                                                 // little-endian archive
      4, 0, 0, 0, 0, 0, 0, 0, 'p', 'i', '-', '1',        // sender_id
      6, 0, 0, 0, 0, 0, 0, 0, 'g', 'r', 'u', '-', 'v', '1',  // signature
      2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0x3F, 0, 0, 0, 0xC0,  // params: count, floats
      5, 0, 0, 0, 0, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0};   // age, local_samples
  EXPECT_EQ(frame.body, expected);
}

TEST(ModelCodecTest, AModelACodecCannotCarryGoesAsFp32) {
  const Frame frame = EncodeMessage(Request(ModelCodec::kInt8, {1.0f, 1e6f}));
  Result<ExchangeRequest> decoded = ThroughTheWire(frame);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->codec, ModelCodec::kFp32);
  EXPECT_EQ(decoded->model.params, (std::vector<float>{1.0f, 1e6f}));
}

TEST(ModelCodecTest, RoundMessagesCarryCodedModels) {
  const std::vector<float> params = Gaussian(1000, 0.1f, 7);
  RoundRequest request{"coord", "10.0.0.1:7070", 3, ModelSnapshot{"gru-v1", params, 3, 0}, 2, 16, 0.01f,
                       ModelCodec::kInt8};
  Result<RoundRequest> decoded_request = DecodeMessage<RoundRequest>(EncodeMessage(request));
  ASSERT_TRUE(decoded_request.ok()) << decoded_request.status().ToString();
  EXPECT_EQ(decoded_request->codec, ModelCodec::kInt8);
  EXPECT_EQ(decoded_request->model.params, RoundTrip(ModelCodec::kInt8, params));
  EXPECT_EQ(decoded_request->epochs, 2u);
  EXPECT_EQ(decoded_request->learning_rate, 0.01f);
  RoundReply reply{"pi-1", 3, ModelSnapshot{"gru-v1", params, 0, 40}, 1234, ModelCodec::kFp16};
  Result<RoundReply> decoded_reply = DecodeMessage<RoundReply>(EncodeMessage(reply));
  ASSERT_TRUE(decoded_reply.ok()) << decoded_reply.status().ToString();
  EXPECT_EQ(decoded_reply->codec, ModelCodec::kFp16);
  EXPECT_EQ(decoded_reply->model.params, RoundTrip(ModelCodec::kFp16, params));
  EXPECT_EQ(decoded_reply->train_ms, 1234u);
}

// ---- Hostile coded models ----

// An int8 ExchangeRequest of 300 values (2 blocks) whose body a test alters in place.
class HostileModelTest : public ::testing::Test {
 public:
  static constexpr std::size_t kValues = 300;
  // Offsets in the body: endianness byte, sender_id "pi-1", signature "gru-v1".
  static constexpr std::size_t kWord = 1 + 8 + 4 + 8 + 6;
  static constexpr std::size_t kPayloadBytes = kWord + 8;
  static constexpr std::size_t kBlockCount = kPayloadBytes + 8;
  static constexpr std::size_t kScales = kBlockCount + 4;
  static constexpr std::size_t kInt8Values = kScales + 2 * 4;

 protected:

  HostileModelTest() : frame_(EncodeMessage(Request(ModelCodec::kInt8, Gaussian(kValues, 0.1f, 8)))) {}

  void PutU64(std::size_t at, std::uint64_t value) {
    for (int i = 0; i < 8; ++i) frame_.body[at + i] = static_cast<std::uint8_t>(value >> (8 * i));
  }
  void PutU32(std::size_t at, std::uint32_t value) {
    for (int i = 0; i < 4; ++i) frame_.body[at + i] = static_cast<std::uint8_t>(value >> (8 * i));
  }
  void SetScale(std::size_t block, float scale) { PutU32(kScales + 4 * block, std::bit_cast<std::uint32_t>(scale)); }
  // The error DecodeMessage gives, "" if it accepted the frame.
  std::string Refusal() const {
    Result<ExchangeRequest> decoded = DecodeMessage<ExchangeRequest>(frame_);
    return decoded.ok() ? "" : decoded.status().message();
  }

  Frame frame_;
};

TEST_F(HostileModelTest, TheUnalteredFrameIsAccepted) {
  EXPECT_EQ(Refusal(), "");
  EXPECT_EQ(frame_.body[kWord + 7], static_cast<std::uint8_t>(ModelCodec::kInt8));  // the offsets are right
}

TEST_F(HostileModelTest, ScalesThatAreNotFinitePositiveAndBoundedAreRefused) {
  for (const float scale : {NAN, INFINITY, -INFINITY, 1e30f, kMaxInt8Scale * 1.001f, 0.0f, -0.0f, -0.01f}) {
    SetScale(1, scale);
    EXPECT_NE(Refusal().find("int8 block 1 has scale"), std::string::npos) << scale << ": " << Refusal();
  }
  SetScale(1, kMaxInt8Scale);  // the bound itself is allowed
  EXPECT_EQ(Refusal(), "");
}

TEST_F(HostileModelTest, MinusOneHundredTwentyEightIsRefused) {
  frame_.body[kInt8Values + 260] = 0x80;
  EXPECT_NE(Refusal().find("holds -128"), std::string::npos) << Refusal();
}

TEST_F(HostileModelTest, AWrongBlockCountIsRefused) {
  for (const std::uint32_t blocks : {0u, 1u, 3u, 0xFFFFFFFFu}) {
    PutU32(kBlockCount, blocks);
    EXPECT_NE(Refusal().find("values need 2"), std::string::npos) << blocks << ": " << Refusal();
  }
}

TEST_F(HostileModelTest, ShortOrLongPayloadsAreRefused) {
  const std::size_t exact = PayloadBytes(ModelCodec::kInt8, kValues);
  // A short last block: one value fewer in the payload, lengths consistent with each other.
  frame_.body.erase(frame_.body.begin() + static_cast<std::ptrdiff_t>(kInt8Values + kValues - 1));
  PutU64(kPayloadBytes, exact - 1);
  EXPECT_NE(Refusal().find("payload of " + std::to_string(exact - 1) + " bytes"), std::string::npos) << Refusal();
  // A payload length that does not match the body: the archive runs out or has bytes left.
  PutU64(kPayloadBytes, exact);
  EXPECT_NE(Refusal(), "");
  PutU64(kPayloadBytes, 1ull << 40);
  EXPECT_NE(Refusal().find("exceeds the body"), std::string::npos) << Refusal();
}

TEST_F(HostileModelTest, AValueCountBeyondTheBodyIsRefusedBeforeAllocating) {
  PutU64(kWord, (std::uint64_t{2} << kModelCodecShift) | kModelCountMask);
  EXPECT_NE(Refusal().find("exceeds the body"), std::string::npos) << Refusal();
}

TEST_F(HostileModelTest, AnUnknownCodecIdIsRefused) {
  frame_.body[kWord + 7] = 7;
  EXPECT_NE(Refusal().find("unknown model codec 7"), std::string::npos) << Refusal();
  frame_.body[kWord + 7] = 0xFF;
  EXPECT_NE(Refusal().find("unknown model codec 255"), std::string::npos) << Refusal();
}

TEST(ModelCodecTest, Fp16InfinitiesAndNaNsAreRefused) {
  Frame frame = EncodeMessage(Request(ModelCodec::kFp16, {1.0f, 2.0f, 3.0f}));
  const std::size_t second_value = HostileModelTest::kWord + 16 + 2;
  for (const std::uint16_t half : {0x7C00, 0xFC00, 0x7E00}) {
    frame.body[second_value] = static_cast<std::uint8_t>(half);
    frame.body[second_value + 1] = static_cast<std::uint8_t>(half >> 8);
    Result<ExchangeRequest> decoded = DecodeMessage<ExchangeRequest>(frame);
    ASSERT_FALSE(decoded.ok());
    EXPECT_NE(decoded.status().message().find("Inf or NaN"), std::string::npos) << decoded.status().message();
  }
}

// ---- int4-delta: a reply's difference, nowhere else ----

// An int4-delta ExchangeReply of 129 values (3 blocks of 64, 64 and 1; an odd count).
class HostileDifferenceTest : public ::testing::Test {
 protected:
  static constexpr std::size_t kValues = 129;
  static constexpr std::size_t kScales = HostileModelTest::kBlockCount + 4;
  static constexpr std::size_t kCodes = kScales + 3 * 4;

  HostileDifferenceTest()
      : frame_(EncodeMessage(ExchangeReply{"pi-1", ModelSnapshot{"gru-v1", Gaussian(kValues, 0.01f, 9), 5, 6},
                                           ModelCodec::kInt4Delta})) {}
  std::string Refusal() const {
    Result<ExchangeReply> decoded = DecodeMessage<ExchangeReply>(frame_);
    return decoded.ok() ? "" : decoded.status().message();
  }

  Frame frame_;
};

TEST_F(HostileDifferenceTest, TheUnalteredReplyIsAcceptedWithItsCodec) {
  Result<ExchangeReply> decoded = DecodeMessage<ExchangeReply>(frame_);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->codec, ModelCodec::kInt4Delta);
  EXPECT_EQ(frame_.body.size(), kCodes + (kValues + 1) / 2 + 16);  // then age and local_samples
}

TEST_F(HostileDifferenceTest, MinusEightAPaddingNibbleAndBadScalesAreRefused) {
  const Frame intact = frame_;
  frame_.body[kCodes + 40] = 0x08;  // value 80 (block 1) low nibble -8
  EXPECT_NE(Refusal().find("int4-delta block 1 holds -8"), std::string::npos) << Refusal();
  frame_ = intact;
  frame_.body[kCodes + 64] |= 0x10;  // the padding nibble after value 128
  EXPECT_NE(Refusal().find("padding nibble"), std::string::npos) << Refusal();
  for (const float scale : {NAN, INFINITY, 0.0f, -1.0f, kMaxInt4Scale * 1.001f}) {
    frame_ = intact;
    const auto bits = std::bit_cast<std::uint32_t>(scale);
    for (int i = 0; i < 4; ++i) frame_.body[kScales + 8 + i] = static_cast<std::uint8_t>(bits >> (8 * i));
    EXPECT_NE(Refusal().find("int4-delta block 2 has scale"), std::string::npos) << scale << ": " << Refusal();
  }
}

TEST(ModelCodecTest, AWholeModelInInt4DeltaIsRefused) {
  const std::vector<float> params = Gaussian(100, 0.1f, 10);
  const std::string why = "int4-delta codes only a reply";
  Result<ExchangeRequest> request = DecodeMessage<ExchangeRequest>(EncodeMessage(Request(ModelCodec::kInt4Delta, params)));
  ASSERT_FALSE(request.ok());
  EXPECT_NE(request.status().message().find(why), std::string::npos) << request.status().message();
  Result<Push> push = DecodeMessage<Push>(EncodeMessage(Push{"pi-1", ModelSnapshot{"gru-v1", params, 1, 1}, ModelCodec::kInt4Delta}));
  ASSERT_FALSE(push.ok());
  EXPECT_NE(push.status().message().find(why), std::string::npos) << push.status().message();
  RoundRequest round{"coord", "coord:7070", 3, ModelSnapshot{"gru-v1", params, 3, 0}, 1, 32, 0.01f,
                     ModelCodec::kInt4Delta};
  Result<RoundRequest> round_request = DecodeMessage<RoundRequest>(EncodeMessage(round));
  ASSERT_FALSE(round_request.ok());
  EXPECT_NE(round_request.status().message().find(why), std::string::npos) << round_request.status().message();
}

// Each of `last_bytes` put in place of the frame's last byte is refused with `why`.
template <class Message>
void ExpectEachLastByteRefused(Frame frame, std::initializer_list<std::uint8_t> last_bytes, const std::string& why) {
  for (const std::uint8_t other : last_bytes) {
    frame.body.back() = other;
    Result<Message> refused = DecodeMessage<Message>(frame);
    ASSERT_FALSE(refused.ok()) << int{other};
    EXPECT_NE(refused.status().message().find(why), std::string::npos) << refused.status().message();
  }
}

// An exchange request and a round request ask for a difference the same way.
template <class RequestMessage>
void ExpectADifferenceIsAskedForOnlyByTheOptionalLastField(RequestMessage request) {
  const Frame plain = EncodeMessage(request);
  request.reply_codec = ModelCodec::kInt4Delta;
  Frame asking = EncodeMessage(request);
  EXPECT_EQ(asking.body.size(), plain.body.size() + 1);
  Result<RequestMessage> decoded = DecodeMessage<RequestMessage>(asking);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->reply_codec, ModelCodec::kInt4Delta);
  EXPECT_EQ(DecodeMessage<RequestMessage>(plain)->reply_codec, ModelCodec::kFp32);
  ExpectEachLastByteRefused<RequestMessage>(asking, {0, 1, 2, 4, 255}, "only int4-delta (3) may be asked for");
}

TEST(ModelCodecTest, ARequestAsksForADifferenceOnlyWithTheOptionalLastField) {
  ExpectADifferenceIsAskedForOnlyByTheOptionalLastField(Request(ModelCodec::kInt8, Gaussian(100, 0.1f, 11)));
  ExpectADifferenceIsAskedForOnlyByTheOptionalLastField(
      RoundRequest{"coord", "coord:7070", 3, ModelSnapshot{"gru-v1", Gaussian(100, 0.1f, 12), 3, 0}, 2, 32, 0.01f,
                   ModelCodec::kInt8});
}

// A round request asks for plain SGD by one more optional field, after reply_codec (then sent
// even when it asks for a whole model: 0); a request without it is Adam, as from older builds.
TEST(ModelCodecTest, ARoundRequestAsksForSgdByTheOptionalFieldAfterReplyCodec) {
  RoundRequest request{"coord", "coord:7070", 3, ModelSnapshot{"gru-v1", Gaussian(100, 0.1f, 14), 3, 0}, 1, 32, 0.5f,
                       ModelCodec::kInt8};
  const Frame adam = EncodeMessage(request);
  EXPECT_EQ(DecodeMessage<RoundRequest>(adam)->optimizer, LocalOptimizer::kAdam);
  for (const ModelCodec reply : {ModelCodec::kFp32, ModelCodec::kInt4Delta}) {
    request.reply_codec = reply;
    request.optimizer = LocalOptimizer::kSgd;
    Frame sgd = EncodeMessage(request);
    EXPECT_EQ(sgd.body.size(), adam.body.size() + 2);
    Result<RoundRequest> decoded = DecodeMessage<RoundRequest>(sgd);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(decoded->optimizer, LocalOptimizer::kSgd);
    EXPECT_EQ(decoded->reply_codec, reply);
    ExpectEachLastByteRefused<RoundRequest>(sgd, {0, 2, 255}, "only sgd (1) may be asked for");
    sgd.body.push_back(1);  // nothing may follow the optimizer
    EXPECT_FALSE(DecodeMessage<RoundRequest>(sgd).ok());
  }
  Frame other_codec = EncodeMessage(request);  // an optimizer after a reply codec other than 0 or 3
  for (const std::uint8_t codec : {1, 2}) {
    other_codec.body[other_codec.body.size() - 2] = codec;
    EXPECT_FALSE(DecodeMessage<RoundRequest>(other_codec).ok()) << int{codec};
  }
}

TEST(ModelCodecTest, ARoundReplyMayCarryADifference) {
  const std::vector<float> difference = Gaussian(100, 0.01f, 13);
  RoundReply reply{"pi-1", 3, ModelSnapshot{"gru-v1", difference, 0, 40}, 1234, ModelCodec::kInt4Delta};
  Result<RoundReply> decoded = DecodeMessage<RoundReply>(EncodeMessage(reply));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->codec, ModelCodec::kInt4Delta);
  EXPECT_EQ(decoded->model.local_samples, 40u);
  ASSERT_EQ(decoded->model.params.size(), difference.size());
}

// The subtraction a replier does and the addition its requester does, and what each refuses:
// a difference that int4-delta cannot carry goes as a whole model; a difference nobody asked
// for, or of another length, is Corruption.
TEST(ModelCodecTest, ADifferenceIsTakenOnlyWhereItCanGoAndAddedBackOnlyWhereItWasAskedFor) {
  const std::vector<float> reference = {1.0f, -2.0f, 0.5f};
  std::optional<std::vector<float>> difference = DifferenceFrom(std::vector<float>{1.5f, -2.0f, 0.0f}, reference);
  ASSERT_TRUE(difference.has_value());
  EXPECT_EQ(*difference, (std::vector<float>{0.5f, 0.0f, -0.5f}));
  EXPECT_FALSE(DifferenceFrom(std::vector<float>{1.0f, 2.0f}, reference).has_value()) << "another length";
  EXPECT_FALSE(DifferenceFrom(std::vector<float>{NAN, 0.0f, 0.0f}, reference).has_value());
  EXPECT_FALSE(DifferenceFrom(std::vector<float>{1e6f, 0.0f, 0.0f}, reference).has_value()) << "beyond 65504";

  ASSERT_TRUE(AddBackReference(*difference, &reference).ok());
  EXPECT_EQ(*difference, (std::vector<float>{1.5f, -2.0f, 0.0f}));
  std::vector<float> unasked = {0.1f, 0.2f, 0.3f};
  Status refused = AddBackReference(unasked, nullptr);
  EXPECT_EQ(refused.code(), Status::Code::kCorruption);
  EXPECT_NE(refused.message().find("asked for a whole model"), std::string::npos) << refused.message();
  std::vector<float> short_one = {0.1f, 0.2f};
  refused = AddBackReference(short_one, &reference);
  EXPECT_EQ(refused.code(), Status::Code::kCorruption);
  EXPECT_NE(refused.message().find("2 values to a model of 3"), std::string::npos) << refused.message();
}

// ---- The Hello codec list ----

TEST(ModelCodecTest, HelloCarriesItsCodecListOnlyWhenItHasOne) {
  Hello with{"pi-1", kProtocolVersion, "gru", "node", "1.2.3.4:5", {2, 1, 0}};
  Result<Hello> decoded = DecodeMessage<Hello>(EncodeMessage(with));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->codecs, (std::vector<std::uint8_t>{2, 1, 0}));
  // An older build refuses the list (hence the engine's second Hello without one) ...
  EXPECT_FALSE(DecodeMessage<HelloWithoutCodecs>(EncodeMessage(with)).ok());
  // ... and its Hello, without a list, decodes to an empty one, as does ours without codecs.
  Result<Hello> older = DecodeMessage<Hello>(EncodeMessage(HelloWithoutCodecs{"old", "gru", "node", "1.2.3.4:6"}));
  ASSERT_TRUE(older.ok()) << older.status().ToString();
  EXPECT_TRUE(older->codecs.empty());
  EXPECT_EQ(older->listen_address, "1.2.3.4:6");
  const Hello without{"pi-1", kProtocolVersion, "gru", "node", "1.2.3.4:5"};
  EXPECT_TRUE(DecodeMessage<HelloWithoutCodecs>(EncodeMessage(without)).ok());
}

TEST(ModelCodecTest, AHelloWithTooLongACodecListIsRefused) {
  Frame frame = EncodeMessage(Hello{"pi-1", kProtocolVersion, "gru", "node", "a:1", std::vector<std::uint8_t>(16, 0)});
  EXPECT_TRUE(DecodeMessage<Hello>(frame).ok());
  frame = EncodeMessage(Hello{"pi-1", kProtocolVersion, "gru", "node", "a:1", {0}});
  frame.body.back() = 0;
  frame.body[frame.body.size() - 9] = 17;  // the list's count: 17 entries claimed
  frame.body.resize(frame.body.size() + 16, 0);
  Result<Hello> decoded = DecodeMessage<Hello>(frame);
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.status().message().find("codecs"), std::string::npos) << decoded.status().message();
}

}  // namespace
}  // namespace gl::gossip
