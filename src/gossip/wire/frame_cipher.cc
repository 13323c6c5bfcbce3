#include "gossip/wire/frame_cipher.h"

#include <sodium.h>

namespace gl::gossip {
namespace {

static_assert(kAuthTagBytes == crypto_aead_chacha20poly1305_ietf_ABYTES);
static_assert(kFrameKeyBytes == crypto_aead_chacha20poly1305_ietf_KEYBYTES);
static_assert(kFrameNonceBytes == crypto_aead_chacha20poly1305_ietf_NPUBBYTES);
static_assert(sizeof(crypto_onetimeauth_poly1305_state) <= 256 && alignof(crypto_onetimeauth_poly1305_state) <= 16);

// RFC 8439 section 2.8: Poly1305 keyed with ChaCha20 block 0 over
// ad || pad16 || ciphertext || pad16 || le64(|ad|) || le64(|ciphertext|),
// where ad = header (|| body when the body is not the ciphertext). The constructor MACs the
// header, each chunk adds the body, Finish adds the padding and lengths.
crypto_onetimeauth_poly1305_state& AsPoly1305(std::array<unsigned char, 256>& bytes) {
  return *reinterpret_cast<crypto_onetimeauth_poly1305_state*>(bytes.data());
}

void UpdatePadded(crypto_onetimeauth_poly1305_state& state, std::size_t length) {
  static const std::uint8_t zeros[16] = {};
  crypto_onetimeauth_poly1305_update(&state, zeros, (16 - length % 16) % 16);
}

void UpdateLength(crypto_onetimeauth_poly1305_state& state, std::uint64_t length) {
  std::uint8_t bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<std::uint8_t>(length >> (8 * i));
  crypto_onetimeauth_poly1305_update(&state, bytes, sizeof bytes);
}

}  // namespace

FrameCipherState::FrameCipherState(const FrameKey& key, const FrameNonce& nonce, const FrameHeaderBytes& header,
                                   bool body_is_ciphertext)
    : key_(key), nonce_(nonce), body_is_ciphertext_(body_is_ciphertext) {
  crypto_onetimeauth_poly1305_state& state = AsPoly1305(mac_state_);
  std::uint8_t one_time_key[crypto_onetimeauth_poly1305_KEYBYTES];
  crypto_stream_chacha20_ietf(one_time_key, sizeof one_time_key, nonce_.data(), key_.data());
  crypto_onetimeauth_poly1305_init(&state, one_time_key);
  sodium_memzero(one_time_key, sizeof one_time_key);
  crypto_onetimeauth_poly1305_update(&state, header.data(), header.size());
  if (body_is_ciphertext_) UpdatePadded(state, header.size());
}

FrameCipherState::~FrameCipherState() {
  sodium_memzero(key_.data(), key_.size());
  sodium_memzero(mac_state_.data(), mac_state_.size());
}

// Block 0 keys Poly1305; the keystream for the body starts at block 1.
void FrameCipherState::XorKeystream(std::span<std::uint8_t> chunk) const {
  const auto block = static_cast<std::uint32_t>(1 + body_bytes_ / kCipherBlockBytes);
  crypto_stream_chacha20_ietf_xor_ic(chunk.data(), chunk.data(), chunk.size(), nonce_.data(), block, key_.data());
}

void FrameCipherState::Mac(std::span<const std::uint8_t> chunk) {
  crypto_onetimeauth_poly1305_update(&AsPoly1305(mac_state_), chunk.data(), chunk.size());
}

void FrameCipherState::SealChunk(std::span<std::uint8_t> chunk) {
  if (body_is_ciphertext_) XorKeystream(chunk);
  Mac(chunk);
  body_bytes_ += chunk.size();
}

void FrameCipherState::OpenChunk(std::span<std::uint8_t> chunk) {
  Mac(chunk);
  if (body_is_ciphertext_) XorKeystream(chunk);
  body_bytes_ += chunk.size();
}

FrameTag FrameCipherState::Finish() {
  crypto_onetimeauth_poly1305_state& state = AsPoly1305(mac_state_);
  const std::uint64_t ad_bytes = kFrameHeaderSize + (body_is_ciphertext_ ? 0 : body_bytes_);
  const std::uint64_t ciphertext_bytes = body_is_ciphertext_ ? body_bytes_ : 0;
  UpdatePadded(state, body_is_ciphertext_ ? ciphertext_bytes : ad_bytes);
  UpdateLength(state, ad_bytes);
  UpdateLength(state, ciphertext_bytes);
  FrameTag tag{};
  crypto_onetimeauth_poly1305_final(&state, tag.data());
  sodium_memzero(mac_state_.data(), mac_state_.size());
  return tag;
}

bool FrameOpener::Verify(std::span<const std::uint8_t, kAuthTagBytes> tag) {
  FrameTag expected = state_.Finish();
  const bool match = crypto_verify_16(expected.data(), tag.data()) == 0;
  sodium_memzero(expected.data(), expected.size());
  return match;
}

}  // namespace gl::gossip
