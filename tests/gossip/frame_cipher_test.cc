// frame_cipher: the streamed construction gives libsodium's ChaCha20-Poly1305 IETF tag and
// ciphertext, for both modes, for lengths around the 16-byte Poly1305 and 64-byte ChaCha20
// blocks, sealed whole or in chunks.
#include "gossip/frame_cipher.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <algorithm>
#include <vector>

#include "gossip/auth.h"

namespace gl::gossip {
namespace {

class FrameCipherTest : public ::testing::TestWithParam<std::size_t> {
 protected:
  // Seals `body` in place in chunks of `chunk_bytes` (0: whole); returns the tag.
  FrameTag Seal(std::vector<std::uint8_t>& body, bool encrypt, std::size_t chunk_bytes = 0) {
    FrameSealer sealer(key_, nonce_, header_, encrypt);
    const std::span<std::uint8_t> all(body);
    const std::size_t step = chunk_bytes == 0 ? std::max<std::size_t>(body.size(), 1) : chunk_bytes;
    for (std::size_t offset = 0; offset < body.size(); offset += step) {
      sealer.SealChunk(all.subspan(offset, std::min(step, body.size() - offset)));
    }
    return sealer.Finish();
  }
  std::vector<std::uint8_t> Tag(const FrameTag& tag) { return {tag.begin(), tag.end()}; }

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
  std::vector<std::uint8_t> ad(header_.begin(), header_.end());
  ad.insert(ad.end(), body_.begin(), body_.end());
  std::uint8_t reference[kAuthTagBytes], empty[1] = {};
  unsigned long long tag_bytes = 0;
  crypto_aead_chacha20poly1305_ietf_encrypt_detached(empty, reference, &tag_bytes, empty, 0, ad.data(), ad.size(),
                                                      nullptr, nonce_.data(), key_.data());
  for (const std::size_t chunk : {0, 64, 128}) {
    std::vector<std::uint8_t> body = body_;
    const FrameTag tag = Seal(body, /*encrypt=*/false, chunk);
    EXPECT_EQ(body, body_) << "not encrypting leaves the body as it is";
    EXPECT_EQ(Tag(tag), std::vector<std::uint8_t>(reference, reference + 16)) << "chunk " << chunk;
    EXPECT_TRUE(OpenFrameBytes(key_, nonce_, header_, body, false, tag.data()));
  }
}

TEST_P(FrameCipherTest, EncryptedIsTheAeadWithTheHeaderAsAdditionalData) {
  std::vector<std::uint8_t> reference_ciphertext(body_.size() + 1);
  std::uint8_t reference[kAuthTagBytes];
  unsigned long long tag_bytes = 0;
  crypto_aead_chacha20poly1305_ietf_encrypt_detached(reference_ciphertext.data(), reference, &tag_bytes, body_.data(),
                                                      body_.size(), header_.data(), header_.size(), nullptr,
                                                      nonce_.data(), key_.data());
  reference_ciphertext.pop_back();
  for (const std::size_t chunk : {0, 64, 128, 65536}) {
    std::vector<std::uint8_t> body = body_;
    const FrameTag tag = Seal(body, /*encrypt=*/true, chunk);
    EXPECT_EQ(body, reference_ciphertext) << "chunk " << chunk;
    EXPECT_EQ(Tag(tag), std::vector<std::uint8_t>(reference, reference + 16)) << "chunk " << chunk;
    if (body_.size() >= 16) {
      EXPECT_NE(body, body_) << "ciphertext differs from the plaintext";
    }
    ASSERT_TRUE(OpenFrameBytes(key_, nonce_, header_, body, true, tag.data()));
    EXPECT_EQ(body, body_);
  }
}

TEST_P(FrameCipherTest, WrongTagLeavesTheBodyUntouched) {
  std::vector<std::uint8_t> body = body_;
  FrameTag tag = Seal(body, true);
  const std::vector<std::uint8_t> sealed = body;
  tag[0] ^= 1;
  EXPECT_FALSE(OpenFrameBytes(key_, nonce_, header_, body, true, tag.data()));
  EXPECT_EQ(body, sealed);
}

INSTANTIATE_TEST_SUITE_P(Lengths, FrameCipherTest, ::testing::Values(0, 1, 4, 15, 16, 17, 63, 64, 65, 1000, 300056));

}  // namespace
}  // namespace gl::gossip
