#include "gossip/frame_cipher.h"

#include <sodium.h>

namespace gl::gossip {
namespace {

static_assert(kAuthTagBytes == crypto_aead_chacha20poly1305_ietf_ABYTES);
static_assert(kFrameKeyBytes == crypto_aead_chacha20poly1305_ietf_KEYBYTES);
static_assert(kFrameNonceBytes == crypto_aead_chacha20poly1305_ietf_NPUBBYTES);
static_assert(sizeof(crypto_onetimeauth_poly1305_state) <= 256 && alignof(crypto_onetimeauth_poly1305_state) <= 16);

// RFC 8439 section 2.8: Poly1305 keyed with ChaCha20 block 0 over
// ad || pad16 || ciphertext || pad16 || le64(|ad|) || le64(|ciphertext|),
// where ad = header (|| body when the body is not the ciphertext). Begin, Absorb the body,
// Finish.
void UpdatePadded(crypto_onetimeauth_poly1305_state& state, std::size_t length) {
  static const std::uint8_t zeros[16] = {};
  crypto_onetimeauth_poly1305_update(&state, zeros, (16 - length % 16) % 16);
}

void UpdateLength(crypto_onetimeauth_poly1305_state& state, std::uint64_t length) {
  std::uint8_t bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<std::uint8_t>(length >> (8 * i));
  crypto_onetimeauth_poly1305_update(&state, bytes, sizeof bytes);
}

void MacBegin(crypto_onetimeauth_poly1305_state& state, const FrameKey& key, const FrameNonce& nonce,
              const FrameHeaderBytes& header, bool body_is_ciphertext) {
  std::uint8_t one_time_key[crypto_onetimeauth_poly1305_KEYBYTES];
  crypto_stream_chacha20_ietf(one_time_key, sizeof one_time_key, nonce.data(), key.data());
  crypto_onetimeauth_poly1305_init(&state, one_time_key);
  sodium_memzero(one_time_key, sizeof one_time_key);
  crypto_onetimeauth_poly1305_update(&state, header.data(), header.size());
  if (body_is_ciphertext) UpdatePadded(state, header.size());
}

void MacFinish(crypto_onetimeauth_poly1305_state& state, std::uint64_t body_bytes, bool body_is_ciphertext,
               std::uint8_t* tag) {
  const std::uint64_t ad_bytes = kFrameHeaderSize + (body_is_ciphertext ? 0 : body_bytes);
  const std::uint64_t ciphertext_bytes = body_is_ciphertext ? body_bytes : 0;
  UpdatePadded(state, body_is_ciphertext ? ciphertext_bytes : ad_bytes);
  UpdateLength(state, ad_bytes);
  UpdateLength(state, ciphertext_bytes);
  crypto_onetimeauth_poly1305_final(&state, tag);
  sodium_memzero(&state, sizeof state);
}

// Block 0 keys Poly1305; the keystream for the body starts at block 1.
void XorKeystream(const FrameKey& key, const FrameNonce& nonce, std::uint64_t offset, std::span<std::uint8_t> data) {
  const auto block = static_cast<std::uint32_t>(1 + offset / kCipherBlockBytes);
  crypto_stream_chacha20_ietf_xor_ic(data.data(), data.data(), data.size(), nonce.data(), block, key.data());
}

}  // namespace

FrameSealer::FrameSealer(const FrameKey& key, const FrameNonce& nonce, const FrameHeaderBytes& header, bool encrypt)
    : key_(key), nonce_(nonce), header_(header), encrypt_(encrypt) {
  MacBegin(*reinterpret_cast<crypto_onetimeauth_poly1305_state*>(mac_state_.data()), key_, nonce_, header_, encrypt_);
}

FrameSealer::~FrameSealer() {
  sodium_memzero(key_.data(), key_.size());
  sodium_memzero(mac_state_.data(), mac_state_.size());
}

void FrameSealer::SealChunk(std::span<std::uint8_t> chunk) {
  if (encrypt_) XorKeystream(key_, nonce_, body_bytes_, chunk);
  crypto_onetimeauth_poly1305_update(reinterpret_cast<crypto_onetimeauth_poly1305_state*>(mac_state_.data()),
                                     chunk.data(), chunk.size());
  body_bytes_ += chunk.size();
}

FrameTag FrameSealer::Finish() {
  FrameTag tag{};
  MacFinish(*reinterpret_cast<crypto_onetimeauth_poly1305_state*>(mac_state_.data()), body_bytes_, encrypt_,
            tag.data());
  return tag;
}

bool OpenFrameBytes(const FrameKey& key, const FrameNonce& nonce, const FrameHeaderBytes& header,
                    std::span<std::uint8_t> body, bool encrypted, const std::uint8_t* tag) {
  crypto_onetimeauth_poly1305_state state;
  MacBegin(state, key, nonce, header, encrypted);
  crypto_onetimeauth_poly1305_update(&state, body.data(), body.size());
  FrameTag expected{};
  MacFinish(state, body.size(), encrypted, expected.data());
  const bool match = crypto_verify_16(expected.data(), tag) == 0;
  if (match && encrypted) XorKeystream(key, nonce, 0, body);
  return match;
}

}  // namespace gl::gossip
