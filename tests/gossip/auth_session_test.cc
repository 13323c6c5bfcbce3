// AuthSession and key files: sealing, opening, and every way a frame must fail to open, with
// and without encryption.
#include "gossip/wire/auth.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <span>

#include "gossip/wire/codec.h"

namespace gl::gossip {
namespace {

ClusterKey NewKey() {
  Result<ClusterKey> key = GenerateClusterKey();
  EXPECT_TRUE(key.ok());
  return *key;
}

// What a transport hands to Open: the body after the header, which still carries the tag.
Frame AsReceived(const std::vector<std::uint8_t>& wire) {
  Result<FrameHeader> header = ParseHeader(wire, 1u << 20);
  EXPECT_TRUE(header.ok()) << header.status().ToString();
  return Frame{header->type, std::vector<std::uint8_t>(wire.begin() + kFrameHeaderSize, wire.end()), header->flags};
}
Frame AsReceived(const SealedFrame& sealed) { return AsReceived(sealed.Wire()); }

// Parameter: both sides encrypt.
class AuthSessionTest : public ::testing::TestWithParam<bool> {
 protected:
  // A client and a server session that exchanged nonces.
  void Connect(const ClusterKey& client_key, const ClusterKey& server_key, bool client_encrypts = GetParam(),
               bool server_encrypts = GetParam()) {
    client_ = std::make_unique<AuthSession>(client_key, AuthRole::kClient, client_encrypts);
    server_ = std::make_unique<AuthSession>(server_key, AuthRole::kServer, server_encrypts);
    ASSERT_TRUE(server_->AcceptPeerNonce(client_->NonceFrame()).ok());
    ASSERT_TRUE(client_->AcceptPeerNonce(server_->NonceFrame()).ok());
  }
  static Frame Ping(const std::string& id) { return EncodeMessage(gossip::Ping{id}); }

  ClusterKey key_ = NewKey();
  std::unique_ptr<AuthSession> client_, server_;
};

TEST_P(AuthSessionTest, SealedFramesOpenInOrderBothWays) {
  Connect(key_, key_);
  for (const char* id : {"c0", "c1", "c2"}) {
    const std::vector<std::uint8_t> wire = client_->Seal(Ping(id)).Wire();
    EXPECT_EQ(wire[6], GetParam() ? kFlagAuthenticated | kFlagEncrypted : kFlagAuthenticated);
    Result<Frame> opened = server_->Open(AsReceived(wire));
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    EXPECT_EQ(opened->body, Ping(id).body);
    Result<Frame> reply = client_->Open(AsReceived(server_->Seal(Ping("s"))));
    ASSERT_TRUE(reply.ok()) << reply.status().ToString();
    EXPECT_EQ(reply->type, MessageType::kPing);
  }
}

TEST_P(AuthSessionTest, WrongKeyFails) {
  Connect(key_, NewKey());
  Result<Frame> opened = server_->Open(AsReceived(client_->Seal(Ping("x"))));
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), Status::Code::kRejected);
}

TEST_P(AuthSessionTest, ReplayInTheSameConnectionFails) {
  Connect(key_, key_);
  const std::vector<std::uint8_t> wire = client_->Seal(Ping("x")).Wire();
  ASSERT_TRUE(server_->Open(AsReceived(wire)).ok());
  EXPECT_FALSE(server_->Open(AsReceived(wire)).ok());
}

TEST_P(AuthSessionTest, ReplayOnAnotherConnectionFails) {
  Connect(key_, key_);
  const std::vector<std::uint8_t> wire = client_->Seal(Ping("x")).Wire();
  Connect(key_, key_);  // fresh nonces on both sides
  EXPECT_FALSE(server_->Open(AsReceived(wire)).ok());
}

TEST_P(AuthSessionTest, ReorderedFramesFail) {
  Connect(key_, key_);
  const std::vector<std::uint8_t> first = client_->Seal(Ping("1")).Wire();
  const std::vector<std::uint8_t> second = client_->Seal(Ping("2")).Wire();
  EXPECT_FALSE(server_->Open(AsReceived(second)).ok());
  EXPECT_FALSE(server_->Open(AsReceived(first)).ok()) << "a failed session stays failed";
}

TEST_P(AuthSessionTest, ReflectedFrameFails) {
  Connect(key_, key_);
  // The client's own frame sent back to it as if the server had sent it.
  EXPECT_FALSE(client_->Open(AsReceived(client_->Seal(Ping("x")))).ok());
}

TEST_P(AuthSessionTest, EveryFlippedByteFails) {
  const std::vector<std::uint8_t> original = [&] {
    Connect(key_, key_);
    return client_->Seal(Ping("tamper")).Wire();
  }();
  for (std::size_t i = kFrameHeaderSize; i < original.size(); ++i) {
    Connect(key_, key_);
    std::vector<std::uint8_t> wire = client_->Seal(Ping("tamper")).Wire();
    wire[i] ^= 0x01;
    EXPECT_FALSE(server_->Open(AsReceived(wire)).ok()) << "byte " << i;
  }
}

TEST_P(AuthSessionTest, ChangedTypeFails) {
  Connect(key_, key_);
  Frame received = AsReceived(client_->Seal(Ping("x")));
  received.type = MessageType::kPong;
  EXPECT_FALSE(server_->Open(received).ok());
}

TEST_P(AuthSessionTest, ChangedFlagsFail) {
  Connect(key_, key_);
  Frame received = AsReceived(client_->Seal(Ping("x")));
  received.flags ^= kFlagEncrypted;
  EXPECT_FALSE(server_->Open(received).ok());
}

TEST_P(AuthSessionTest, TooShortOrUnflaggedFails) {
  Connect(key_, key_);
  const std::uint16_t flags = kFlagAuthenticated | (GetParam() ? kFlagEncrypted : 0);
  EXPECT_FALSE(server_->Open(Frame{MessageType::kPing, std::vector<std::uint8_t>(kAuthTagBytes - 1), flags}).ok());
  Connect(key_, key_);
  Frame unflagged = AsReceived(client_->Seal(Ping("x")));
  unflagged.flags = 0;
  EXPECT_FALSE(server_->Open(unflagged).ok());
}

TEST_P(AuthSessionTest, EncryptionSettingsMustAgree) {
  Connect(key_, key_, /*client_encrypts=*/GetParam(), /*server_encrypts=*/!GetParam());
  Result<Frame> opened = server_->Open(AsReceived(client_->Seal(Ping("x"))));
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), Status::Code::kRejected);
  EXPECT_NE(opened.status().message().find("encrypt"), std::string::npos) << opened.status().message();
}

TEST_P(AuthSessionTest, BodyIsOnTheWireInTheClearOnlyWithoutEncryption) {
  Connect(key_, key_);
  const Frame model = EncodeMessage(ExchangeRequest{"c", ModelSnapshot{"sig", std::vector<float>(1000, 0.5f), 1, 1}});
  const std::vector<std::uint8_t> wire = client_->Seal(model).Wire();
  ASSERT_EQ(wire.size(), kFrameHeaderSize + model.body.size() + kAuthTagBytes);
  const std::vector<std::uint8_t> on_wire(wire.begin() + kFrameHeaderSize, wire.end() - kAuthTagBytes);
  EXPECT_EQ(on_wire == model.body, !GetParam());
  Result<Frame> opened = server_->Open(AsReceived(wire));
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(opened->body, model.body);
  EXPECT_EQ(opened->flags, 0);
}

// As the transport opens a frame: the header, then the body (tag included) in pieces as
// they arrive.
Result<Frame> OpenInPieces(AuthSession& session, Frame received, std::size_t piece_bytes) {
  session.BeginOpen(FrameHeader{received.type, received.flags, static_cast<std::uint32_t>(received.body.size())});
  const std::span<std::uint8_t> body(received.body);
  for (std::size_t offset = 0; offset < body.size(); offset += piece_bytes) {
    session.OpenPiece(body.subspan(offset, std::min(piece_bytes, body.size() - offset)));
  }
  return session.FinishOpen(std::move(received));
}

TEST_P(AuthSessionTest, OpensPieceByPieceWhateverThePieceSize) {
  Connect(key_, key_);
  const Frame model = EncodeMessage(ExchangeRequest{"c", ModelSnapshot{"sig", std::vector<float>(50000, 0.5f), 1, 1}});
  for (const std::size_t piece_bytes : {64u, 4096u, 65536u, 1u << 20}) {
    Result<Frame> opened = OpenInPieces(*server_, AsReceived(client_->Seal(model)), piece_bytes);
    ASSERT_TRUE(opened.ok()) << "pieces of " << piece_bytes << ": " << opened.status().ToString();
    EXPECT_EQ(opened->body, model.body);
  }
}

TEST_P(AuthSessionTest, TamperedPieceFails) {
  Connect(key_, key_);
  const Frame model = EncodeMessage(ExchangeRequest{"c", ModelSnapshot{"sig", std::vector<float>(50000, 0.5f), 1, 1}});
  Frame received = AsReceived(client_->Seal(model));
  received.body[100000] ^= 0x01;  // in the second of four 64 KiB pieces
  EXPECT_FALSE(OpenInPieces(*server_, std::move(received), 65536).ok());
}

TEST_P(AuthSessionTest, BodyNotShownInPiecesFails) {
  Connect(key_, key_);
  Frame received = AsReceived(client_->Seal(Ping("x")));
  server_->BeginOpen(FrameHeader{received.type, received.flags, static_cast<std::uint32_t>(received.body.size())});
  const Result<Frame> opened = server_->FinishOpen(std::move(received));
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), Status::Code::kRejected);
}

TEST_P(AuthSessionTest, NonceFrameMustBeANonce) {
  AuthSession session(key_, AuthRole::kClient);
  EXPECT_FALSE(session.AcceptPeerNonce(Ping("open node")).ok());
  EXPECT_FALSE(session.AcceptPeerNonce(Frame{MessageType::kAuthNonce, std::vector<std::uint8_t>(15)}).ok());
  EXPECT_FALSE(session.established());
  EXPECT_TRUE(session.AcceptPeerNonce(AuthSession(key_, AuthRole::kServer).NonceFrame()).ok());
  EXPECT_TRUE(session.established());
}

TEST_P(AuthSessionTest, HeaderAcceptsTheFlagOnlyWithRoomForTheTag) {
  auto header = EncodeHeader(MessageType::kPing, kAuthTagBytes, kFlagAuthenticated);
  EXPECT_TRUE(ParseHeader(header, 1000).ok());
  header = EncodeHeader(MessageType::kPing, kAuthTagBytes - 1, kFlagAuthenticated);
  EXPECT_FALSE(ParseHeader(header, 1000).ok());
  header = EncodeHeader(MessageType::kPing, kAuthTagBytes, kFlagAuthenticated | kFlagEncrypted);
  EXPECT_TRUE(ParseHeader(header, 1000).ok());
  header = EncodeHeader(MessageType::kPing, kAuthTagBytes, kFlagEncrypted);
  EXPECT_FALSE(ParseHeader(header, 1000).ok()) << "encrypted needs authenticated";
}

INSTANTIATE_TEST_SUITE_P(MacAndEncrypted, AuthSessionTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Encrypted" : "MacOnly"; });

class KeyFileTest : public ::testing::Test {
 protected:
  void TearDown() override { std::remove(path_.c_str()); }
  void Write(const std::string& content) {
    std::ofstream(path_, std::ios::binary | std::ios::trunc) << content;
    ::chmod(path_.c_str(), 0600);
  }
  std::string path_ = ::testing::TempDir() + "/gl-key-" + std::to_string(::getpid());
};

TEST_F(KeyFileTest, HexWithNewlineRoundTrips) {
  const ClusterKey key = NewKey();
  Write(ClusterKeyToHex(key));
  Result<ClusterKey> loaded = LoadClusterKey(path_);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(*loaded, key);
}

TEST_F(KeyFileTest, RawBytesAreAccepted) {
  const ClusterKey key = NewKey();
  Write(std::string(key.begin(), key.end()));
  Result<ClusterKey> loaded = LoadClusterKey(path_);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(*loaded, key);
}

TEST_F(KeyFileTest, BadContentIsInvalidArgument) {
  for (const std::string& content : {std::string("short"), std::string(64, 'z'), std::string(300, 'a')}) {
    Write(content);
    Result<ClusterKey> loaded = LoadClusterKey(path_);
    ASSERT_FALSE(loaded.ok()) << content;
    EXPECT_EQ(loaded.status().code(), Status::Code::kInvalidArgument);
  }
}

TEST_F(KeyFileTest, MissingFileIsNotFound) {
  EXPECT_EQ(LoadClusterKey(path_ + ".missing").status().code(), Status::Code::kNotFound);
}

}  // namespace
}  // namespace gl::gossip
