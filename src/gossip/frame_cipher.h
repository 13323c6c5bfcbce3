// ChaCha20-Poly1305 (RFC 8439, the IETF variant with a 96-bit nonce) over one frame in place,
// without copying it: the header is the additional data; the body is either the ciphertext
// (encrypted in place) or, when not encrypting, more additional data of an empty message, so
// that the tag is a Poly1305 MAC over header and body. The tag equals what libsodium's
// crypto_aead_chacha20poly1305_ietf_encrypt_detached gives for the same key, nonce, data.
//
// FrameSealer seals a body chunk by chunk, so that a transport can send each chunk while it
// seals the next; OpenFrameBytes checks and opens a whole received body.
// The caller guarantees that no (key, nonce) pair seals twice. No shared state, any thread.
// REQUIRES: libsodium initialised (GenerateClusterKey or LoadClusterKey succeeded once).
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "gossip/frame_format.h"

namespace gl::gossip {

inline constexpr std::size_t kFrameKeyBytes = 32;
inline constexpr std::size_t kFrameNonceBytes = 12;
inline constexpr std::size_t kCipherBlockBytes = 64;  // ChaCha20 block
using FrameKey = std::array<std::uint8_t, kFrameKeyBytes>;
using FrameNonce = std::array<std::uint8_t, kFrameNonceBytes>;
using FrameHeaderBytes = std::array<std::uint8_t, kFrameHeaderSize>;
using FrameTag = std::array<std::uint8_t, kAuthTagBytes>;

class FrameSealer {
 public:
  FrameSealer(const FrameKey& key, const FrameNonce& nonce, const FrameHeaderBytes& header, bool encrypt);
  ~FrameSealer();  // wipes the key and the MAC state
  FrameSealer(const FrameSealer&) = delete;
  FrameSealer& operator=(const FrameSealer&) = delete;

  // The header the tag covers: send it first.
  const FrameHeaderBytes& header() const { return header_; }
  // The next piece of the body: encrypted in place if encrypting, added to the tag.
  // REQUIRES: every chunk but the last is a multiple of kCipherBlockBytes long.
  void SealChunk(std::span<std::uint8_t> chunk);
  // The tag over the header and all chunks. Call once, after the last chunk.
  FrameTag Finish();

 private:
  FrameKey key_;
  FrameNonce nonce_;
  FrameHeaderBytes header_;
  bool encrypt_;
  std::uint64_t body_bytes_ = 0;
  alignas(16) std::array<unsigned char, 256> mac_state_;  // crypto_onetimeauth_poly1305_state
};

// Checks `tag` in constant time; only if it matches and `encrypted`, decrypts `body` in place.
// False (body untouched) on a mismatch.
bool OpenFrameBytes(const FrameKey& key, const FrameNonce& nonce, const FrameHeaderBytes& header,
                    std::span<std::uint8_t> body, bool encrypted, const std::uint8_t* tag);

}  // namespace gl::gossip
