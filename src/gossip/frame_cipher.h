// ChaCha20-Poly1305 (RFC 8439, the IETF variant with a 96-bit nonce) over one frame in place,
// without copying it: the header is the additional data; the body is either the ciphertext
// (encrypted in place) or, when not encrypting, more additional data of an empty message, so
// that the tag is a Poly1305 MAC over header and body. The tag equals what libsodium's
// crypto_aead_chacha20poly1305_ietf_encrypt_detached gives for the same key, nonce, data.
//
// The caller guarantees that no (key, nonce) pair seals twice. Stateless, any thread.
// REQUIRES: libsodium initialised (GenerateClusterKey or LoadClusterKey succeeded once).
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "gossip/frame_format.h"

namespace gl::gossip {

inline constexpr std::size_t kFrameKeyBytes = 32;
inline constexpr std::size_t kFrameNonceBytes = 12;
using FrameKey = std::array<std::uint8_t, kFrameKeyBytes>;
using FrameNonce = std::array<std::uint8_t, kFrameNonceBytes>;

// Encrypts `body` in place if `encrypt`, then writes the kAuthTagBytes tag to `tag`.
void SealFrameBytes(const FrameKey& key, const FrameNonce& nonce, std::span<const std::uint8_t> header,
                    std::span<std::uint8_t> body, bool encrypt, std::uint8_t* tag);

// Checks `tag` in constant time; only if it matches and `encrypted`, decrypts `body` in place.
// False (body untouched) on a mismatch.
bool OpenFrameBytes(const FrameKey& key, const FrameNonce& nonce, std::span<const std::uint8_t> header,
                    std::span<std::uint8_t> body, bool encrypted, const std::uint8_t* tag);

}  // namespace gl::gossip
