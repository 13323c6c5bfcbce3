// Cluster key and per-connection frame authentication (libsodium; wire details: docs/wire.md
// "Authentication").
//
// A cluster key is 32 secret bytes shared by every node (`gossip-learner keygen`). On a keyed
// connection each side first sends an AuthNonce frame (16 fresh random bytes, unauthenticated);
// both nonces and the key give a per-connection key. Every later frame has kFlagAuthenticated
// set and ends with a 16-byte ChaCha20-Poly1305 tag (frame_cipher.h) whose nonce is the
// direction and the frame's sequence number in that direction, over the 12-byte header and
// the body; with encryption on, the body is also encrypted (kFlagEncrypted). The receiver
// checks the tag (piece by piece as the body arrives, the tag itself after the last byte)
// against the sequence number it expects next, so a frame replayed, reordered, reflected back
// or taken from another connection fails like a forged one, and it does so before the body is
// parsed. Both ends must agree on encryption: a frame sealed the other way
// is rejected (the flag is covered by the tag, so it cannot be flipped).
//
// Ownership: AuthSession keeps a copy of the derived key only. Threading: a session belongs to
// one connection and is used from one thread; the free functions are thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"
#include "gossip/wire/frame_cipher.h"
#include "gossip/wire/frame_format.h"

namespace gl::gossip {

struct FrameHeader;  // gossip/wire/codec.h

inline constexpr std::size_t kClusterKeyBytes = 32;

using ClusterKey = std::array<std::uint8_t, kClusterKeyBytes>;

// Fresh random key from the OS generator. IoError if libsodium cannot initialise.
Result<ClusterKey> GenerateClusterKey();
// The key as 64 lowercase hex digits (the key file format, plus a newline).
std::string ClusterKeyToHex(const ClusterKey& key);
// Reads a key file: 64 hex digits (surrounding whitespace ignored) or exactly 32 raw bytes.
// NotFound, IoError, or InvalidArgument naming what is wrong; warns once if the file is
// readable by group or others.
Result<ClusterKey> LoadClusterKey(const std::string& path);

enum class AuthRole : std::uint8_t { kClient = 0, kServer = 1 };

// A frame sealed for the wire, in the three pieces of a gather write (the body is not copied).
struct SealedFrame {
  FrameHeaderBytes header{};       // flags and body_length as sent
  std::vector<std::uint8_t> body;  // ciphertext when encrypting
  FrameTag tag{};
  // header || body || tag in one buffer (tests and benches).
  std::vector<std::uint8_t> Wire() const;
};

class AuthSession {
 public:
  // Draws this side's nonce. `encrypt`: seal frames encrypted, and accept only encrypted ones
  // (otherwise: only unencrypted ones). REQUIRES: GenerateClusterKey or LoadClusterKey
  // succeeded once in the process (libsodium initialised).
  AuthSession(const ClusterKey& key, AuthRole role, bool encrypt = false);
  ~AuthSession();  // wipes the keys
  AuthSession(const AuthSession&) = delete;
  AuthSession& operator=(const AuthSession&) = delete;

  // The AuthNonce frame this side sends first.
  Frame NonceFrame() const;
  // Takes the other side's AuthNonce frame and derives the connection key. Rejected if `frame` is not
  // an AuthNonce of the right size (e.g. the peer runs open and answered with an Error).
  Status AcceptPeerNonce(const Frame& frame);
  bool established() const { return established_; }

  // `frame` sealed (header with kFlagAuthenticated and, if encrypting, kFlagEncrypted; its
  // body, encrypted in place if encrypting; tag); counts it. REQUIRES: established().
  SealedFrame Seal(Frame frame);
  // The same, chunk by chunk: the sealer of a `type` frame with a `body_bytes` body, for
  // sending each chunk as soon as it is sealed; counts the frame. REQUIRES: established().
  FrameSealer BeginSeal(MessageType type, std::size_t body_bytes);
  // Opening a received frame, in three steps so that the body can be checked (and decrypted)
  // piece by piece while the rest is still arriving: BeginOpen with its header as parsed;
  // OpenPiece with each piece of its body (message body + tag) in order, in place, as it
  // arrives, every piece but the last a multiple of kCipherBlockBytes long; FinishOpen with the
  // frame as received (flags from the header, body = the buffer the pieces were in). FinishOpen
  // checks the tag for the next expected sequence number and strips it. Rejected on any
  // mismatch, or if the pieces were not the whole body; the session is then unusable (the
  // connection must be closed). Pieces are decrypted before the tag is checked: the body of a
  // rejected frame must be discarded, never parsed. REQUIRES: established().
  void BeginOpen(const FrameHeader& header);
  void OpenPiece(std::span<std::uint8_t> piece);
  Result<Frame> FinishOpen(Frame received);
  // All three steps on a frame already read whole (as ReadFrame returns it).
  Result<Frame> Open(Frame received);

 private:
  FrameNonce NonceFor(AuthRole sender, std::uint64_t sequence) const;

  ClusterKey cluster_key_;
  FrameKey frame_key_{};
  AuthRole role_;
  bool encrypt_;
  std::array<std::uint8_t, kAuthNonceBytes> my_nonce_{};
  bool established_ = false;
  bool broken_ = false;
  std::uint64_t sent_ = 0;
  std::uint64_t received_ = 0;
  // The frame being opened: its header, its body without the tag, how much of its body the
  // pieces covered. No opener if the header cannot carry a frame this session accepts
  // (FinishOpen says why).
  FrameHeaderBytes opening_header_{};
  std::size_t opening_message_bytes_ = 0;
  std::size_t opened_bytes_ = 0;
  std::optional<FrameOpener> opener_;
};

}  // namespace gl::gossip
