// What a node publishes (service instance name, TXT record), and the rule that decides
// whether a resolved service is a peer of ours. Pure functions over values (plus the conversion to
// and from Avahi's string lists); thread-safe.
#pragma once

#include <map>
#include <string>

#include <avahi-common/strlst.h>

#include "discovery/discovery.h"

namespace gl::discovery {

using TxtMap = std::map<std::string, std::string>;

inline constexpr char kTxtId[] = "id";
inline constexpr char kTxtProto[] = "proto";
inline constexpr char kTxtSig[] = "sig";
inline constexpr char kTxtCluster[] = "cluster";
inline constexpr char kTxtRole[] = "role";

// Longest DNS label, in bytes; longer instance names are rejected by Avahi.
inline constexpr size_t kMaxServiceNameBytes = 63;

// The instance name to publish: options.service_name, or "gossip-learner <node_id>" if
// that is empty; cut to kMaxServiceNameBytes at a UTF-8 character boundary.
std::string ServiceName(const Options& options);

// The keys we publish, from options: id, proto, sig, cluster and role.
TxtMap MakeTxt(const Options& options);

// Why a service with this TXT is not a peer: "own service", "no id", "cluster 'x'",
// "protocol 'x'", "signature 'x'" (x = the service's value). "" = it is a peer.
std::string SkipReason(const Options& options, const TxtMap& txt);

// Conversions; the list is newly allocated (free with avahi_string_list_free). A
// "key" without '=' maps to "". DNS-SD forbids duplicate keys; if one is repeated
// anyway, one of its values is kept.
AvahiStringList* ToAvahiTxt(const TxtMap& txt);
TxtMap FromAvahiTxt(AvahiStringList* list);

}  // namespace gl::discovery
