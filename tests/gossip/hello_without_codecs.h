// The Hellos of older builds, for tests that play such a build: HelloWithoutCodecs has five
// fields and no room for a codec list, HelloBeforePush a codec list but no features, so
// decoding a Hello with more fails (trailing bytes) as it does in those builds.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gossip/wire/messages.h"

namespace gl::gossip {

struct HelloWithoutCodecs {
  static constexpr MessageType kType = MessageType::kHello;
  std::string node_id, signature, role, listen_address;
  std::uint8_t protocol_version = kProtocolVersion;

  template <class Archive>
  void serialize(Archive& ar) {
    BoundedSequence(ar, node_id, kMaxIdBytes, "node_id");
    ar(protocol_version);
    BoundedSequence(ar, signature, kMaxSignatureBytes, "signature");
    BoundedSequence(ar, role, kMaxRoleBytes, "role");
    BoundedSequence(ar, listen_address, kMaxAddressBytes, "listen_address");
  }
};

struct HelloBeforePush : HelloWithoutCodecs {
  std::vector<std::uint8_t> codecs;

  template <class Archive>
  void serialize(Archive& ar) {
    HelloWithoutCodecs::serialize(ar);
    BoundedSequence(ar, codecs, kMaxCodecListEntries, "codecs");
  }
};

}  // namespace gl::gossip
