// ChaCha20-Poly1305 (RFC 8439, the IETF variant with a 96-bit nonce) over one frame in place,
// piece by piece, without copying it: the header is the additional data; the body is either
// the ciphertext (encrypted in place) or, when not encrypting, more additional data of an
// empty message, so that the tag is a Poly1305 MAC over header and body. The tag equals what
// libsodium's crypto_aead_chacha20poly1305_ietf_encrypt_detached gives for the same key,
// nonce and data.
//
// Working chunk by chunk lets a transport seal each chunk while the last goes out, and check
// each while the next comes in. Chunks are given in order; every chunk but the last must be a
// multiple of kCipherBlockBytes long.
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

// What sealing and opening share: the key, the running MAC, the keystream position.
class FrameCipher {
 public:
  FrameCipher(const FrameCipher&) = delete;
  FrameCipher& operator=(const FrameCipher&) = delete;
  // The header the tag covers (sent first).
  const FrameHeaderBytes& header() const { return header_; }

 protected:
  FrameCipher(const FrameKey& key, const FrameNonce& nonce, const FrameHeaderBytes& header, bool encrypted);
  ~FrameCipher();  // wipes the key and the MAC state
  void Absorb(std::span<const std::uint8_t> chunk);  // into the tag
  void Xor(std::span<std::uint8_t> chunk);           // with the next keystream bytes, if encrypted
  FrameTag Tag();                                    // once, after the last chunk
  bool encrypted() const { return encrypted_; }

 private:
  FrameKey key_;
  FrameNonce nonce_;
  FrameHeaderBytes header_;
  bool encrypted_;
  std::uint64_t absorbed_ = 0, xored_ = 0;
  alignas(16) std::array<unsigned char, 256> mac_state_;  // crypto_onetimeauth_poly1305_state
};

class FrameSealer : public FrameCipher {
 public:
  FrameSealer(const FrameKey& key, const FrameNonce& nonce, const FrameHeaderBytes& header, bool encrypt)
      : FrameCipher(key, nonce, header, encrypt) {}
  // The next piece of the body: encrypted in place if encrypting, added to the tag.
  void SealChunk(std::span<std::uint8_t> chunk);
  // The tag over the header and all chunks. Call once, after the last chunk.
  FrameTag Finish() { return Tag(); }
};

class FrameOpener : public FrameCipher {
 public:
  FrameOpener(const FrameKey& key, const FrameNonce& nonce, const FrameHeaderBytes& header, bool encrypted)
      : FrameCipher(key, nonce, header, encrypted) {}
  // The next piece of the received body: added to the tag, then decrypted in place if
  // encrypted. Nothing may use the plaintext before Verify returned true.
  void OpenChunk(std::span<std::uint8_t> chunk);
  // Compares the tag over the header and all chunks with `tag`, in constant time. Call once.
  bool Verify(const std::uint8_t* tag);
};

}  // namespace gl::gossip
