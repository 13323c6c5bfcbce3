#include "gossip/frame_cipher.h"

#include <sodium.h>

namespace gl::gossip {
namespace {

static_assert(kAuthTagBytes == crypto_aead_chacha20poly1305_ietf_ABYTES);
static_assert(kFrameKeyBytes == crypto_aead_chacha20poly1305_ietf_KEYBYTES);
static_assert(kFrameNonceBytes == crypto_aead_chacha20poly1305_ietf_NPUBBYTES);

void UpdatePadded(crypto_onetimeauth_poly1305_state& state, std::size_t length) {
  static const std::uint8_t zeros[16] = {};
  crypto_onetimeauth_poly1305_update(&state, zeros, (16 - length % 16) % 16);
}

void UpdateLength(crypto_onetimeauth_poly1305_state& state, std::uint64_t length) {
  std::uint8_t bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<std::uint8_t>(length >> (8 * i));
  crypto_onetimeauth_poly1305_update(&state, bytes, sizeof bytes);
}

// RFC 8439 section 2.8: Poly1305 keyed with ChaCha20 block 0 over
// ad || pad16 || ciphertext || pad16 || le64(|ad|) || le64(|ciphertext|),
// where ad = header (|| body when the body is not the ciphertext).
void Tag(const FrameKey& key, const FrameNonce& nonce, std::span<const std::uint8_t> header,
         std::span<const std::uint8_t> body, bool body_is_ciphertext, std::uint8_t* tag) {
  std::uint8_t one_time_key[crypto_onetimeauth_poly1305_KEYBYTES];
  crypto_stream_chacha20_ietf(one_time_key, sizeof one_time_key, nonce.data(), key.data());
  crypto_onetimeauth_poly1305_state state;
  crypto_onetimeauth_poly1305_init(&state, one_time_key);
  const std::size_t ad_bytes = header.size() + (body_is_ciphertext ? 0 : body.size());
  const std::size_t ciphertext_bytes = body_is_ciphertext ? body.size() : 0;
  crypto_onetimeauth_poly1305_update(&state, header.data(), header.size());
  if (body_is_ciphertext) UpdatePadded(state, ad_bytes);
  crypto_onetimeauth_poly1305_update(&state, body.data(), body.size());
  UpdatePadded(state, body_is_ciphertext ? ciphertext_bytes : ad_bytes);
  UpdateLength(state, ad_bytes);
  UpdateLength(state, ciphertext_bytes);
  crypto_onetimeauth_poly1305_final(&state, tag);
  sodium_memzero(one_time_key, sizeof one_time_key);
  sodium_memzero(&state, sizeof state);
}

}  // namespace

void SealFrameBytes(const FrameKey& key, const FrameNonce& nonce, std::span<const std::uint8_t> header,
                    std::span<std::uint8_t> body, bool encrypt, std::uint8_t* tag) {
  // Block 0 keys Poly1305; the keystream for the body starts at block 1.
  if (encrypt) crypto_stream_chacha20_ietf_xor_ic(body.data(), body.data(), body.size(), nonce.data(), 1, key.data());
  Tag(key, nonce, header, body, encrypt, tag);
}

bool OpenFrameBytes(const FrameKey& key, const FrameNonce& nonce, std::span<const std::uint8_t> header,
                    std::span<std::uint8_t> body, bool encrypted, const std::uint8_t* tag) {
  std::uint8_t expected[kAuthTagBytes];
  Tag(key, nonce, header, body, encrypted, expected);
  const bool match = crypto_verify_16(expected, tag) == 0;
  if (match && encrypted) {
    crypto_stream_chacha20_ietf_xor_ic(body.data(), body.data(), body.size(), nonce.data(), 1, key.data());
  }
  return match;
}

}  // namespace gl::gossip
