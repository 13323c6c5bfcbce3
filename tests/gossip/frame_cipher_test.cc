// frame_cipher: the streamed construction gives libsodium's ChaCha20-Poly1305 IETF tag and
// ciphertext, for both modes, for lengths around the 16-byte Poly1305 and 64-byte ChaCha20
// blocks, sealed whole or in chunks; the opener, whole or in chunks, accepts exactly what
// libsodium sealed in one go and fails on any flipped bit of header, body or tag.
#include "gossip/wire/frame_cipher.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "gossip/wire/auth.h"

namespace gl::gossip {
namespace {

class FrameCipherTest : public ::testing::TestWithParam<std::size_t> {
 protected:
  // Calls `f` on consecutive chunks of `body`, `chunk_bytes` long (0: the whole body).
  template <class F>
  static void InChunks(std::vector<std::uint8_t>& body, std::size_t chunk_bytes, F f) {
    const std::span<std::uint8_t> all(body);
    const std::size_t step = chunk_bytes == 0 ? std::max<std::size_t>(body.size(), 1) : chunk_bytes;
    for (std::size_t offset = 0; offset < body.size(); offset += step) {
      f(all.subspan(offset, std::min(step, body.size() - offset)));
    }
  }
  // Seals `body` in place in chunks of `chunk_bytes` (0: whole); returns the tag.
  FrameTag Seal(std::vector<std::uint8_t>& body, bool encrypt, std::size_t chunk_bytes = 0) {
    FrameSealer sealer(key_, nonce_, header_, encrypt);
    InChunks(body, chunk_bytes, [&](std::span<std::uint8_t> chunk) { sealer.SealChunk(chunk); });
    return sealer.Finish();
  }
  // Opens `body` in place in chunks of `chunk_bytes` (0: whole) under `header`.
  bool Open(std::vector<std::uint8_t>& body, const FrameHeaderBytes& header, bool encrypted, const FrameTag& tag,
            std::size_t chunk_bytes = 0) {
    FrameOpener opener(key_, nonce_, header, encrypted);
    InChunks(body, chunk_bytes, [&](std::span<std::uint8_t> chunk) { opener.OpenChunk(chunk); });
    return opener.Verify(tag);
  }
  // What libsodium seals in one call: the ciphertext (the body itself when not encrypting) and
  // the tag.
  std::pair<std::vector<std::uint8_t>, FrameTag> ReferenceSeal(bool encrypt) {
    std::vector<std::uint8_t> ad(header_.begin(), header_.end()), ciphertext(body_.size() + 1);
    if (!encrypt) ad.insert(ad.end(), body_.begin(), body_.end());
    const std::size_t plaintext_bytes = encrypt ? body_.size() : 0;
    FrameTag tag{};
    crypto_aead_chacha20poly1305_ietf_encrypt_detached(ciphertext.data(), tag.data(), nullptr, body_.data(),
                                                        plaintext_bytes, ad.data(), ad.size(), nullptr,
                                                        nonce_.data(), key_.data());
    ciphertext.pop_back();
    return {encrypt ? ciphertext : body_, tag};
  }

  void SetUp() override {
    ASSERT_TRUE(GenerateClusterKey().ok());  // initialises libsodium
    randombytes_buf(key_.data(), key_.size());
    randombytes_buf(nonce_.data(), nonce_.size());
    randombytes_buf(header_.data(), header_.size());
    body_.resize(GetParam());
    randombytes_buf(body_.data(), body_.size());
  }
  FrameKey key_{};
  FrameNonce nonce_{};
  FrameHeaderBytes header_{};
  std::vector<std::uint8_t> body_;
};

TEST_P(FrameCipherTest, MacOnlyIsTheAeadTagOverHeaderAndBodyAsAdditionalData) {
  const FrameTag reference = ReferenceSeal(/*encrypt=*/false).second;
  for (const std::size_t chunk : {0, 64, 128}) {
    std::vector<std::uint8_t> body = body_;
    const FrameTag tag = Seal(body, /*encrypt=*/false, chunk);
    EXPECT_EQ(body, body_) << "not encrypting leaves the body as it is";
    EXPECT_EQ(tag, reference) << "chunk " << chunk;
  }
}

TEST_P(FrameCipherTest, EncryptedIsTheAeadWithTheHeaderAsAdditionalData) {
  const auto [reference_ciphertext, reference_tag] = ReferenceSeal(/*encrypt=*/true);
  for (const std::size_t chunk : {0, 64, 128, 65536}) {
    std::vector<std::uint8_t> body = body_;
    const FrameTag tag = Seal(body, /*encrypt=*/true, chunk);
    EXPECT_EQ(body, reference_ciphertext) << "chunk " << chunk;
    EXPECT_EQ(tag, reference_tag) << "chunk " << chunk;
    if (body_.size() >= 16) {
      EXPECT_NE(body, body_) << "ciphertext differs from the plaintext";
    }
  }
}

TEST_P(FrameCipherTest, OpenerAcceptsALibsodiumSealedFrameInAnyChunking) {
  for (const bool encrypted : {false, true}) {
    const auto [sealed, tag] = ReferenceSeal(encrypted);
    for (const std::size_t chunk : {0, 64, 128, 4096, 65536}) {
      std::vector<std::uint8_t> body = sealed;
      EXPECT_TRUE(Open(body, header_, encrypted, tag, chunk)) << "encrypted " << encrypted << ", chunk " << chunk;
      EXPECT_EQ(body, body_) << "encrypted " << encrypted << ", chunk " << chunk;
    }
  }
}

TEST_P(FrameCipherTest, OpenerRejectsAnyFlippedBit) {
  // Every bit of a short body; bits spread over a long one (a few hundred bytes' worth).
  const std::size_t byte_step = std::max<std::size_t>(1, body_.size() / 300);
  for (const bool encrypted : {false, true}) {
    const auto [sealed, tag] = ReferenceSeal(encrypted);
    for (int bit = 0; bit < 8; ++bit) {
      const auto flip = [bit](std::uint8_t& byte) { byte ^= static_cast<std::uint8_t>(1u << bit); };
      for (std::size_t i = 0; i < header_.size(); ++i) {
        FrameHeaderBytes header = header_;
        std::vector<std::uint8_t> body = sealed;
        flip(header[i]);
        EXPECT_FALSE(Open(body, header, encrypted, tag, 64)) << "header byte " << i << " bit " << bit;
      }
      for (std::size_t i = 0; i < sealed.size(); i += byte_step) {
        std::vector<std::uint8_t> body = sealed;
        flip(body[i]);
        EXPECT_FALSE(Open(body, header_, encrypted, tag, 64)) << "body byte " << i << " bit " << bit;
      }
      for (std::size_t i = 0; i < tag.size(); ++i) {
        FrameTag wrong = tag;
        std::vector<std::uint8_t> body = sealed;
        flip(wrong[i]);
        EXPECT_FALSE(Open(body, header_, encrypted, wrong, 64)) << "tag byte " << i << " bit " << bit;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Lengths, FrameCipherTest, ::testing::Values(0, 1, 4, 15, 16, 17, 63, 64, 65, 1000, 300056));

}  // namespace
}  // namespace gl::gossip
