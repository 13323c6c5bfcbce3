#include "gossip/wire/auth.h"

#include <sodium.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iterator>

#include "common/log.h"
#include "gossip/wire/codec.h"

namespace gl::gossip {
namespace {

constexpr char kKdfContext[] = "gossip-learner auth v2";

bool SodiumReady() {
  static const bool ready = sodium_init() >= 0;
  return ready;
}

void LittleEndian64(std::uint64_t value, std::uint8_t* out) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<std::uint8_t>(value >> (8 * i));
}

}  // namespace

Result<ClusterKey> GenerateClusterKey() {
  if (!SodiumReady()) return Status::IoError("libsodium failed to initialise (no entropy source?)");
  ClusterKey key;
  randombytes_buf(key.data(), key.size());
  return key;
}

std::string ClusterKeyToHex(const ClusterKey& key) {
  std::string hex(2 * key.size() + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), key.data(), key.size());
  hex.back() = '\n';
  return hex;
}

Result<ClusterKey> LoadClusterKey(const std::string& path) {
  if (!SodiumReady()) return Status::IoError("libsodium failed to initialise (no entropy source?)");
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return Status::NotFound("key file " + path + " does not exist");
  if ((info.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    GL_LOG(kWarn, "auth") << "key file " << path << " is readable by other users; chmod 600 it";
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IoError("cannot open key file " + path);
  // A key file is 64 hex digits and some whitespace, or 32 bytes: anything longer is not one.
  std::string content(256, '\0');
  in.read(content.data(), static_cast<std::streamsize>(content.size()));
  if (in.bad()) return Status::IoError("cannot read key file " + path);
  content.resize(static_cast<std::size_t>(in.gcount()));
  ClusterKey key;
  if (content.size() == key.size()) {
    std::copy(content.begin(), content.end(), key.begin());
    return key;
  }
  std::string hex;
  std::copy_if(content.begin(), content.end(), std::back_inserter(hex),
               [](char c) { return !std::isspace(static_cast<unsigned char>(c)); });
  std::size_t decoded = 0;
  if (hex.size() != 2 * key.size() ||
      sodium_hex2bin(key.data(), key.size(), hex.data(), hex.size(), nullptr, &decoded, nullptr) != 0 ||
      decoded != key.size()) {
    return Status::InvalidArgument("key file " + path + " must hold 64 hex digits or 32 bytes (gossip-learner keygen)");
  }
  return key;
}

AuthSession::AuthSession(const ClusterKey& key, AuthRole role, bool encrypt)
    : cluster_key_(key), role_(role), encrypt_(encrypt) {
  randombytes_buf(my_nonce_.data(), my_nonce_.size());
}

AuthSession::~AuthSession() {
  sodium_memzero(cluster_key_.data(), cluster_key_.size());
  sodium_memzero(frame_key_.data(), frame_key_.size());
}

Frame AuthSession::NonceFrame() const {
  return Frame{MessageType::kAuthNonce, std::vector<std::uint8_t>(my_nonce_.begin(), my_nonce_.end())};
}

Status AuthSession::AcceptPeerNonce(const Frame& frame) {
  if (frame.type != MessageType::kAuthNonce || frame.body.size() != kAuthNonceBytes) {
    return Status::Rejected("expected an authentication nonce, got a frame of type " +
                            std::to_string(static_cast<int>(frame.type)) + " (does the peer run without a key?)");
  }
  // Key = BLAKE2b-256 keyed with the cluster key over context || client nonce || server nonce.
  const std::uint8_t* client_nonce = role_ == AuthRole::kClient ? my_nonce_.data() : frame.body.data();
  const std::uint8_t* server_nonce = role_ == AuthRole::kServer ? my_nonce_.data() : frame.body.data();
  crypto_generichash_state state;
  crypto_generichash_init(&state, cluster_key_.data(), cluster_key_.size(), frame_key_.size());
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(kKdfContext), sizeof kKdfContext - 1);
  crypto_generichash_update(&state, client_nonce, kAuthNonceBytes);
  crypto_generichash_update(&state, server_nonce, kAuthNonceBytes);
  crypto_generichash_final(&state, frame_key_.data(), frame_key_.size());
  established_ = true;
  return Status::Ok();
}

FrameNonce AuthSession::NonceFor(AuthRole sender, std::uint64_t sequence) const {
  FrameNonce nonce{};  // direction, 3 zero bytes, sequence number (u64 little-endian)
  nonce[0] = static_cast<std::uint8_t>(sender);
  LittleEndian64(sequence, nonce.data() + 4);
  return nonce;
}

std::vector<std::uint8_t> SealedFrame::Wire() const {
  std::vector<std::uint8_t> wire(header.begin(), header.end());
  wire.insert(wire.end(), body.begin(), body.end());
  wire.insert(wire.end(), tag.begin(), tag.end());
  return wire;
}

FrameSealer AuthSession::BeginSeal(MessageType type, std::size_t body_bytes) {
  const std::uint16_t flags = kFlagAuthenticated | (encrypt_ ? kFlagEncrypted : 0);
  return FrameSealer(frame_key_, NonceFor(role_, sent_++),
                     EncodeHeader(type, static_cast<std::uint32_t>(body_bytes + kAuthTagBytes), flags), encrypt_);
}

SealedFrame AuthSession::Seal(Frame frame) {
  FrameSealer sealer = BeginSeal(frame.type, frame.body.size());
  sealer.SealChunk(frame.body);
  return SealedFrame{sealer.header(), std::move(frame.body), sealer.Finish()};
}

void AuthSession::BeginOpen(const FrameHeader& header) {
  opener_.reset();
  opened_bytes_ = 0;
  opening_message_bytes_ = 0;
  opening_header_ = EncodeHeader(header.type, header.body_length, header.flags);
  const bool encrypted = (header.flags & kFlagEncrypted) != 0;
  if (broken_ || (header.flags & kFlagAuthenticated) == 0 || header.body_length < kAuthTagBytes ||
      encrypted != encrypt_) {
    return;  // FinishOpen rejects it
  }
  opening_message_bytes_ = header.body_length - kAuthTagBytes;
  const AuthRole sender = role_ == AuthRole::kClient ? AuthRole::kServer : AuthRole::kClient;
  opener_.emplace(frame_key_, NonceFor(sender, received_), opening_header_, encrypted);
}

void AuthSession::OpenPiece(std::span<std::uint8_t> piece) {
  const std::size_t offset = opened_bytes_;
  opened_bytes_ += piece.size();
  if (!opener_ || offset >= opening_message_bytes_) return;  // FinishOpen checks the tag
  opener_->OpenChunk(piece.first(std::min(piece.size(), opening_message_bytes_ - offset)));
}

Result<Frame> AuthSession::FinishOpen(Frame received) {
  if (broken_) return Status::Rejected("session already failed authentication");
  broken_ = true;  // until the frame has passed every check
  if ((received.flags & kFlagAuthenticated) == 0 || received.body.size() < kAuthTagBytes) {
    return Status::Rejected("frame without a tag (" + std::to_string(received.body.size()) +
                            " bytes) on a keyed connection");
  }
  const bool encrypted = (received.flags & kFlagEncrypted) != 0;
  if (encrypted != encrypt_) {
    return Status::Rejected(std::string(encrypted ? "encrypted" : "unencrypted") +
                            " frame, but this node has encrypt = " + (encrypt_ ? "true" : "false") +
                            " (set encrypt the same on every node)");
  }
  const auto header = EncodeHeader(received.type, static_cast<std::uint32_t>(received.body.size()), received.flags);
  if (!opener_ || header != opening_header_ || opened_bytes_ != received.body.size()) {
    return Status::Rejected("frame " + std::to_string(received_) + " was not opened as it arrived (" +
                            std::to_string(opened_bytes_) + " of " + std::to_string(received.body.size()) +
                            " bytes)");
  }
  const std::size_t body_bytes = received.body.size() - kAuthTagBytes;
  const bool verified = opener_->Verify(std::span(received.body).subspan(body_bytes).first<kAuthTagBytes>());
  opener_.reset();
  if (!verified) {
    return Status::Rejected("wrong tag on frame " + std::to_string(received_) +
                            " (wrong cluster key, forged, replayed or reordered frame)");
  }
  broken_ = false;
  ++received_;
  received.body.resize(body_bytes);
  received.flags = 0;
  return received;
}

Result<Frame> AuthSession::Open(Frame received) {
  BeginOpen(FrameHeader{received.type, received.flags, static_cast<std::uint32_t>(received.body.size())});
  OpenPiece(received.body);
  return FinishOpen(std::move(received));
}

}  // namespace gl::gossip
