// The Hello of builds that predate model codecs, for tests that play such a build: its five
// fields and no room for a codec list, so decoding a Hello that has one fails (trailing
// bytes) as it does in those builds.
#pragma once

#include <cstdint>
#include <string>

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

}  // namespace gl::gossip
