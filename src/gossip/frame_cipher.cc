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
// where ad = header (|| body when the body is not the ciphertext). The body's keystream
// starts at block 1.
void UpdatePadded(crypto_onetimeauth_poly1305_state& state, std::uint64_t length) {
  static const std::uint8_t zeros[16] = {};
  crypto_onetimeauth_poly1305_update(&state, zeros, (16 - length % 16) % 16);
}

void UpdateLength(crypto_onetimeauth_poly1305_state& state, std::uint64_t length) {
  std::uint8_t bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<std::uint8_t>(length >> (8 * i));
  crypto_onetimeauth_poly1305_update(&state, bytes, sizeof bytes);
}

crypto_onetimeauth_poly1305_state& State(std::array<unsigned char, 256>& storage) {
  return *reinterpret_cast<crypto_onetimeauth_poly1305_state*>(storage.data());
}

}  // namespace

FrameCipher::FrameCipher(const FrameKey& key, const FrameNonce& nonce, const FrameHeaderBytes& header, bool encrypted)
    : key_(key), nonce_(nonce), header_(header), encrypted_(encrypted) {
  std::uint8_t one_time_key[crypto_onetimeauth_poly1305_KEYBYTES];
  crypto_stream_chacha20_ietf(one_time_key, sizeof one_time_key, nonce_.data(), key_.data());
  crypto_onetimeauth_poly1305_init(&State(mac_state_), one_time_key);
  sodium_memzero(one_time_key, sizeof one_time_key);
  crypto_onetimeauth_poly1305_update(&State(mac_state_), header_.data(), header_.size());
  if (encrypted_) UpdatePadded(State(mac_state_), header_.size());
}

FrameCipher::~FrameCipher() {
  sodium_memzero(key_.data(), key_.size());
  sodium_memzero(mac_state_.data(), mac_state_.size());
}

void FrameCipher::Absorb(std::span<const std::uint8_t> chunk) {
  crypto_onetimeauth_poly1305_update(&State(mac_state_), chunk.data(), chunk.size());
  absorbed_ += chunk.size();
}

void FrameCipher::Xor(std::span<std::uint8_t> chunk) {
  if (!encrypted_) return;
  const auto block = static_cast<std::uint32_t>(1 + xored_ / kCipherBlockBytes);
  crypto_stream_chacha20_ietf_xor_ic(chunk.data(), chunk.data(), chunk.size(), nonce_.data(), block, key_.data());
  xored_ += chunk.size();
}

FrameTag FrameCipher::Tag() {
  const std::uint64_t ad_bytes = header_.size() + (encrypted_ ? 0 : absorbed_);
  const std::uint64_t ciphertext_bytes = encrypted_ ? absorbed_ : 0;
  UpdatePadded(State(mac_state_), encrypted_ ? ciphertext_bytes : ad_bytes);
  UpdateLength(State(mac_state_), ad_bytes);
  UpdateLength(State(mac_state_), ciphertext_bytes);
  FrameTag tag{};
  crypto_onetimeauth_poly1305_final(&State(mac_state_), tag.data());
  return tag;
}

void FrameSealer::SealChunk(std::span<std::uint8_t> chunk) {
  Xor(chunk);
  Absorb(chunk);
}

void FrameOpener::OpenChunk(std::span<std::uint8_t> chunk) {
  Absorb(chunk);
  Xor(chunk);
}

bool FrameOpener::Verify(const std::uint8_t* tag) {
  const FrameTag expected = Tag();
  return crypto_verify_16(expected.data(), tag) == 0;
}

}  // namespace gl::gossip
