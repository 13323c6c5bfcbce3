// ChaCha20-Poly1305 (RFC 8439, the IETF variant with a 96-bit nonce) over one frame in place,
// without copying it: the header is the additional data; the body is either the ciphertext
// (encrypted in place) or, when not encrypting, more additional data of an empty message, so
// that the tag is a Poly1305 MAC over header and body. The tag equals what libsodium's
// crypto_aead_chacha20poly1305_ietf_encrypt_detached gives for the same key, nonce, data.
//
// Both directions work chunk by chunk, so that a transport can overlap the cipher with the
// transfer: FrameSealer seals each chunk before it is sent; FrameOpener opens each chunk as it
// arrives and checks the tag after the last. FrameOpener decrypts before the tag is known to
// match: a body whose Verify fails must be discarded, never parsed.
// The caller guarantees that no (key, nonce) pair seals twice. No shared state, any thread.
// REQUIRES: libsodium initialised (GenerateClusterKey or LoadClusterKey succeeded once).
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "gossip/wire/frame_format.h"

namespace gl::gossip {

inline constexpr std::size_t kFrameKeyBytes = 32;
inline constexpr std::size_t kFrameNonceBytes = 12;
inline constexpr std::size_t kCipherBlockBytes = 64;  // ChaCha20 block
using FrameKey = std::array<std::uint8_t, kFrameKeyBytes>;
using FrameNonce = std::array<std::uint8_t, kFrameNonceBytes>;
using FrameHeaderBytes = std::array<std::uint8_t, kFrameHeaderSize>;
using FrameTag = std::array<std::uint8_t, kAuthTagBytes>;

// The state FrameSealer and FrameOpener share: the key stream position and the running MAC.
// Use those two; this one only spares them a copy of each other.
class FrameCipherState {
 public:
  FrameCipherState(const FrameKey& key, const FrameNonce& nonce, const FrameHeaderBytes& header,
                   bool body_is_ciphertext);
  ~FrameCipherState();  // wipes the key and the MAC state
  FrameCipherState(const FrameCipherState&) = delete;
  FrameCipherState& operator=(const FrameCipherState&) = delete;

  // REQUIRES (both): every chunk but the last is a multiple of kCipherBlockBytes long.
  void SealChunk(std::span<std::uint8_t> chunk);  // encrypts (if ciphertext), then MACs
  void OpenChunk(std::span<std::uint8_t> chunk);  // MACs, then decrypts (if ciphertext)
  // The tag over the header and all chunks. Call once, after the last chunk.
  FrameTag Finish();

 private:
  void XorKeystream(std::span<std::uint8_t> chunk) const;  // at body offset body_bytes_
  void Mac(std::span<const std::uint8_t> chunk);

  FrameKey key_;
  FrameNonce nonce_;
  bool body_is_ciphertext_;
  std::uint64_t body_bytes_ = 0;
  alignas(16) std::array<unsigned char, 256> mac_state_;  // crypto_onetimeauth_poly1305_state
};

class FrameSealer {
 public:
  FrameSealer(const FrameKey& key, const FrameNonce& nonce, const FrameHeaderBytes& header, bool encrypt)
      : header_(header), state_(key, nonce, header, encrypt) {}

  // The header the tag covers: send it first.
  const FrameHeaderBytes& header() const { return header_; }
  // The next piece of the body: encrypted in place if encrypting, added to the tag.
  // REQUIRES: every chunk but the last is a multiple of kCipherBlockBytes long.
  void SealChunk(std::span<std::uint8_t> chunk) { state_.SealChunk(chunk); }
  // The tag over the header and all chunks. Call once, after the last chunk.
  FrameTag Finish() { return state_.Finish(); }

 private:
  FrameHeaderBytes header_;
  FrameCipherState state_;
};

class FrameOpener {
 public:
  // `header` as received; `encrypted`: the body is ciphertext (kFlagEncrypted).
  FrameOpener(const FrameKey& key, const FrameNonce& nonce, const FrameHeaderBytes& header, bool encrypted)
      : state_(key, nonce, header, encrypted) {}

  // The next piece of the body (without the tag), as received: added to the tag, and
  // decrypted in place if encrypted. REQUIRES: every chunk but the last is a multiple of
  // kCipherBlockBytes long.
  void OpenChunk(std::span<std::uint8_t> chunk) { state_.OpenChunk(chunk); }
  // True if `tag` is the tag over the header and all chunks (constant-time comparison).
  // Call once, after the last chunk.
  bool Verify(std::span<const std::uint8_t, kAuthTagBytes> tag);

 private:
  FrameCipherState state_;
};

}  // namespace gl::gossip
