#include "gossip/wire/codec.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>

#include "hello_without_codecs.h"

namespace gl::gossip {
namespace {

constexpr std::uint32_t kLimit = 1u << 20;

std::vector<std::uint8_t> ValidFrameBytes() {
  return EncodeFrame(EncodeMessage(Ping{"node-a"}));
}

class CodecTest : public ::testing::Test {
 protected:
  // Decodes `bytes` and returns the error message ("" if it was accepted).
  static std::string Reject(const std::vector<std::uint8_t>& bytes, std::uint32_t limit = kLimit) {
    Result<Frame> frame = DecodeFrame(bytes, limit);
    return frame.ok() ? "" : frame.status().message();
  }
  // `frame` with its string "@@" replaced by 300,000 bytes, as a hostile encoder would send it
  // (ours cuts strings to their limit).
  static Frame Lengthened(Frame frame) {
    const std::uint64_t placeholder_count = 2, huge_count = 300000;
    std::vector<std::uint8_t> marker(sizeof placeholder_count);
    std::memcpy(marker.data(), &placeholder_count, sizeof placeholder_count);
    marker.push_back('@');
    marker.push_back('@');
    auto& body = frame.body;
    const auto at = std::search(body.begin(), body.end(), marker.begin(), marker.end());
    EXPECT_NE(at, body.end());
    const auto offset = at - body.begin();
    body.erase(at, at + static_cast<std::ptrdiff_t>(marker.size()));
    std::vector<std::uint8_t> huge(sizeof huge_count);
    std::memcpy(huge.data(), &huge_count, sizeof huge_count);
    huge.resize(huge.size() + huge_count, 'x');
    body.insert(body.begin() + offset, huge.begin(), huge.end());
    return frame;
  }
  static void SetBodyLength(std::vector<std::uint8_t>& bytes, std::uint32_t length) {
    for (int i = 0; i < 4; ++i) bytes[8 + i] = static_cast<std::uint8_t>(length >> (8 * i));
  }
};

TEST_F(CodecTest, HeaderLayoutIsAsSpecified) {
  const auto header = EncodeHeader(MessageType::kExchangeReply, 0x01020304);
  const std::vector<std::uint8_t> expected = {'G', 'L', 'R', 'N', kProtocolVersion, 3, 0, 0, 0x04, 0x03, 0x02, 0x01};
  EXPECT_EQ(std::vector<std::uint8_t>(header.begin(), header.end()), expected);
  EXPECT_EQ(kFrameHeaderSize, 12u);
}

TEST_F(CodecTest, HelloRoundTrip) {
  const Hello hello{"pi-3", kProtocolVersion, "gru-v1", "node", "10.0.0.3:7070"};
  Result<Frame> frame = DecodeFrame(EncodeFrame(EncodeMessage(hello)), kLimit);
  ASSERT_TRUE(frame.ok()) << frame.status().ToString();
  Result<Hello> decoded = DecodeMessage<Hello>(*frame);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->node_id, "pi-3");
  EXPECT_EQ(decoded->protocol_version, kProtocolVersion);
  EXPECT_EQ(decoded->signature, "gru-v1");
  EXPECT_EQ(decoded->role, "node");
  EXPECT_EQ(decoded->listen_address, "10.0.0.3:7070");
}

TEST_F(CodecTest, ExchangeRoundTripKeepsEveryBit) {
  ExchangeRequest request{"pi-1", ModelSnapshot{"gru-v1", {1.5f, -0.0f, 3.25e-30f, -7e20f}, 1234, 99}};
  Result<Frame> frame = DecodeFrame(EncodeFrame(EncodeMessage(request)), kLimit);
  ASSERT_TRUE(frame.ok());
  EXPECT_EQ(frame->type, MessageType::kExchangeRequest);
  Result<ExchangeRequest> decoded = DecodeMessage<ExchangeRequest>(*frame);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->sender_id, "pi-1");
  EXPECT_EQ(decoded->model.signature, "gru-v1");
  ASSERT_EQ(decoded->model.params.size(), 4u);
  EXPECT_EQ(std::memcmp(decoded->model.params.data(), request.model.params.data(), 4 * sizeof(float)), 0);
  EXPECT_EQ(decoded->model.age, 1234u);
  EXPECT_EQ(decoded->model.local_samples, 99u);
}

TEST_F(CodecTest, PingPongAndErrorRoundTrip) {
  Result<Pong> pong = DecodeMessage<Pong>(EncodeMessage(Pong{"b"}));
  ASSERT_TRUE(pong.ok());
  EXPECT_EQ(pong->node_id, "b");
  Result<Error> error = DecodeMessage<Error>(EncodeMessage(Error{"no"}));
  ASSERT_TRUE(error.ok());
  EXPECT_EQ(error->reason, "no");
}

// A Hello's features ride after its codec list, and only there: a build that knows codecs
// but not features refuses them (hence the engine's second Hello), and its Hello decodes to
// none. A Push carries a model like an ExchangeRequest; its PushAck carries none.
TEST_F(CodecTest, HelloFeaturesPushAndPushAckRoundTrip) {
  const Hello full{"pi-1", kProtocolVersion, "gru", "node", "1.2.3.4:5", {2, 0}, kHelloAcceptsPush};
  Result<Hello> decoded = DecodeMessage<Hello>(EncodeMessage(full));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->codecs, (std::vector<std::uint8_t>{2, 0}));
  EXPECT_EQ(decoded->features, kHelloAcceptsPush);
  EXPECT_FALSE(DecodeMessage<HelloBeforePush>(EncodeMessage(full)).ok());
  HelloBeforePush older;
  older.node_id = "old";
  older.codecs = {2, 0};
  Result<Hello> from_older = DecodeMessage<Hello>(EncodeMessage(older));
  ASSERT_TRUE(from_older.ok()) << from_older.status().ToString();
  EXPECT_EQ(from_older->codecs, (std::vector<std::uint8_t>{2, 0}));
  EXPECT_EQ(from_older->features, 0);

  const Push push{"pi-1", ModelSnapshot{"gru-v1", {1.5f, -2.0f}, 7, 9}};
  Result<Frame> frame = DecodeFrame(EncodeFrame(EncodeMessage(push)), kLimit);
  ASSERT_TRUE(frame.ok()) << frame.status().ToString();
  EXPECT_EQ(frame->type, MessageType::kPush);
  Result<Push> pushed = DecodeMessage<Push>(*frame);
  ASSERT_TRUE(pushed.ok()) << pushed.status().ToString();
  EXPECT_EQ(pushed->model.params, push.model.params);
  EXPECT_EQ(pushed->model.age, 7u);
  EXPECT_EQ(EncodeMessage(push).body, EncodeMessage(ExchangeRequest{push.sender_id, push.model}).body);
  Result<PushAck> ack = DecodeMessage<PushAck>(EncodeMessage(PushAck{"pi-2"}));
  ASSERT_TRUE(ack.ok());
  EXPECT_EQ(ack->node_id, "pi-2");
  EXPECT_LT(EncodeMessage(PushAck{"pi-2"}).body.size(), 32u);
}

TEST_F(CodecTest, ModelBodyOverheadIsSmall) {
  ExchangeRequest request{"pi-1", ModelSnapshot{"gru-v1", std::vector<float>(75000, 0.5f), 1, 1}};
  const Frame frame = EncodeMessage(request);
  EXPECT_LE(frame.body.size(), 75000 * sizeof(float) + 64);
  EXPECT_LE(frame.body.size(), MaxBodyBytesForModel(75000));
}

TEST_F(CodecTest, AcceptsValidFrame) { EXPECT_EQ(Reject(ValidFrameBytes()), ""); }

TEST_F(CodecTest, BadMagic) {
  auto bytes = ValidFrameBytes();
  bytes[0] = 'X';
  EXPECT_NE(Reject(bytes).find("magic"), std::string::npos);
}

TEST_F(CodecTest, WrongVersion) {
  auto bytes = ValidFrameBytes();
  bytes[4] = kProtocolVersion + 1;
  EXPECT_NE(Reject(bytes).find("version"), std::string::npos);
}

TEST_F(CodecTest, UnknownType) {
  for (int type : {0, 9, int{kCoordinatorTypesLast} + 1, 255}) {  // never assigned
    auto bytes = ValidFrameBytes();
    bytes[5] = static_cast<std::uint8_t>(type);
    EXPECT_NE(Reject(bytes).find("unknown message type"), std::string::npos) << type;
  }
}

// A frame claiming a MAC trailer but too short to carry one is refused by the plain decoder.
TEST_F(CodecTest, AuthenticatedFlagOnAFrameWithoutTagRejected) {
  auto bytes = ValidFrameBytes();
  bytes[6] = kFlagAuthenticated;
  EXPECT_NE(Reject(bytes).find("flag"), std::string::npos);
}

TEST_F(CodecTest, OversizedLengthRejectedByHeaderAlone) {
  auto header = EncodeHeader(MessageType::kExchangeRequest, 1001);
  Result<FrameHeader> parsed = ParseHeader(header, 1000);
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("exceeds"), std::string::npos);
  // The hard cap applies whatever limit the caller passes.
  header = EncodeHeader(MessageType::kExchangeRequest, kMaxFrameBytes + 1);
  EXPECT_FALSE(ParseHeader(header, UINT32_MAX).ok());
  EXPECT_TRUE(ParseHeader(EncodeHeader(MessageType::kPing, 1000), 1000).ok());
}

TEST_F(CodecTest, TruncatedHeader) {
  auto bytes = ValidFrameBytes();
  bytes.resize(kFrameHeaderSize - 1);
  EXPECT_NE(Reject(bytes).find("truncated header"), std::string::npos);
}

TEST_F(CodecTest, TruncatedBody) {
  auto bytes = ValidFrameBytes();
  bytes.pop_back();
  EXPECT_NE(Reject(bytes).find("header says"), std::string::npos);
}

TEST_F(CodecTest, TrailingBytesAfterFrame) {
  auto bytes = ValidFrameBytes();
  bytes.push_back(0);
  EXPECT_NE(Reject(bytes), "");
}

TEST_F(CodecTest, GarbageBodyIsCorruption) {
  Frame frame{MessageType::kExchangeRequest, {0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03}};
  Result<ExchangeRequest> decoded = DecodeMessage<ExchangeRequest>(frame);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), Status::Code::kCorruption);
}

TEST_F(CodecTest, TruncatedMessageBodyIsCorruption) {
  Frame frame = EncodeMessage(ExchangeRequest{"a", ModelSnapshot{"s", {1, 2, 3}, 1, 1}});
  frame.body.resize(frame.body.size() - 5);
  EXPECT_EQ(DecodeMessage<ExchangeRequest>(frame).status().code(), Status::Code::kCorruption);
}

TEST_F(CodecTest, TrailingBytesInBodyAreCorruption) {
  Frame frame = EncodeMessage(Ping{"a"});
  frame.body.push_back(7);
  EXPECT_EQ(DecodeMessage<Ping>(frame).status().code(), Status::Code::kCorruption);
}

TEST_F(CodecTest, ForgedSequenceLengthIsRefusedBeforeAllocation) {
  // A Ping whose node_id claims 2^60 bytes: decoding must fail, not try to allocate them.
  Frame frame = EncodeMessage(Ping{"abcd"});
  const std::uint64_t forged = std::uint64_t{1} << 60;
  std::memcpy(frame.body.data() + 1, &forged, sizeof forged);  // after the endianness byte
  Result<Ping> decoded = DecodeMessage<Ping>(frame);
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.status().message().find("exceeds the body"), std::string::npos);
}

// Every string a peer sends has a limit (frame_format.h): a Hello with a 300 KB node id is a
// malformed frame, so such claims cannot fill memory, logs or the status document.
TEST_F(CodecTest, StringsBeyondTheirLimitAreCorruption) {
  const auto rejects = [](const Status& status, const std::string& field) {
    EXPECT_EQ(status.code(), Status::Code::kCorruption) << field;
    EXPECT_NE(status.message().find(field + " of 300000 elements exceeds its limit"), std::string::npos)
        << status.message();
  };
  rejects(DecodeMessage<Hello>(Lengthened(EncodeMessage(Hello{"@@", 2, "s", "node", "a:1"}))).status(), "node_id");
  rejects(DecodeMessage<Hello>(Lengthened(EncodeMessage(Hello{"a", 2, "s", "node", "@@"}))).status(),
          "listen_address");
  rejects(DecodeMessage<Hello>(Lengthened(EncodeMessage(Hello{"a", 2, "s", "@@", "a:1"}))).status(), "role");
  rejects(DecodeMessage<ExchangeRequest>(Lengthened(EncodeMessage(ExchangeRequest{"@@", {}}))).status(),
          "sender_id");
  ExchangeRequest request{"a", {}};
  request.model.signature = "@@";
  rejects(DecodeMessage<ExchangeRequest>(Lengthened(EncodeMessage(request))).status(), "signature");
  rejects(DecodeMessage<Ping>(Lengthened(EncodeMessage(Ping{"@@"}))).status(), "node_id");

  // At the limit it decodes.
  Hello longest{std::string(kMaxIdBytes, 'a'), kProtocolVersion, std::string(kMaxSignatureBytes, 's'), "coordinator",
                std::string(kMaxAddressBytes, '1')};
  Result<Hello> decoded = DecodeMessage<Hello>(EncodeMessage(longest));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->node_id, longest.node_id);
  EXPECT_EQ(decoded->listen_address, longest.listen_address);
}

// An encoder never writes a frame its peer must refuse: an Error reason is cut to its limit.
TEST_F(CodecTest, LongErrorReasonIsCutWhenEncoded) {
  Result<Error> decoded = DecodeMessage<Error>(EncodeMessage(Error{std::string(5000, 'r')}));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->reason, std::string(kMaxReasonBytes, 'r'));
}

TEST_F(CodecTest, WrongMessageTypeIsCorruption) {
  EXPECT_EQ(DecodeMessage<Pong>(EncodeMessage(Ping{"a"})).status().code(), Status::Code::kCorruption);
}

}  // namespace
}  // namespace gl::gossip

namespace gl::gossip {
namespace {

// Decodes `frame` as every message type; each attempt must return, OK or Corruption.
void DecodeAsEveryType(const Frame& frame) {
  const auto check = [](const Status& status) {
    EXPECT_TRUE(status.ok() || status.code() == Status::Code::kCorruption) << status.ToString();
  };
  check(DecodeMessage<Hello>(frame).status());
  check(DecodeMessage<ExchangeRequest>(frame).status());
  check(DecodeMessage<ExchangeReply>(frame).status());
  check(DecodeMessage<Ping>(frame).status());
  check(DecodeMessage<Pong>(frame).status());
  check(DecodeMessage<Error>(frame).status());
}

TEST(CodecFuzzTest, RandomBodiesNeverCrash) {
  std::mt19937 rng(7);
  for (int i = 0; i < 3000; ++i) {
    std::vector<std::uint8_t> body(rng() % 64);
    for (auto& byte : body) byte = static_cast<std::uint8_t>(rng());
    for (std::uint8_t type = 1; type <= 6; ++type) DecodeAsEveryType(Frame{static_cast<MessageType>(type), body});
  }
}

TEST(CodecFuzzTest, MutatedValidFramesNeverCrash) {
  std::mt19937 rng(11);
  const std::vector<std::vector<std::uint8_t>> seeds = {
      EncodeFrame(EncodeMessage(Hello{"pi-1", kProtocolVersion, "gru", "node", "1.2.3.4:5"})),
      EncodeFrame(EncodeMessage(ExchangeRequest{"pi-1", ModelSnapshot{"gru", {1, 2, 3, 4}, 5, 6}})),
      EncodeFrame(EncodeMessage(Error{"reason"}))};
  for (int i = 0; i < 5000; ++i) {
    std::vector<std::uint8_t> bytes = seeds[i % seeds.size()];
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) bytes[rng() % bytes.size()] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
    if (rng() % 4 == 0) bytes.resize(rng() % bytes.size());
    Result<Frame> frame = DecodeFrame(bytes, 1024);
    if (frame.ok()) DecodeAsEveryType(*frame);
  }
}

}  // namespace
}  // namespace gl::gossip
