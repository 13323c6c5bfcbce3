// TXT record contents and the peer filter (see txt_record.h).
#include "discovery/txt_record.h"

#include <avahi-common/malloc.h>

namespace gl::discovery {
namespace {

std::string Lookup(const TxtMap& txt, const char* key) {
  const auto it = txt.find(key);
  return it == txt.end() ? std::string() : it->second;
}

}  // namespace

std::string ServiceName(const Options& options) {
  std::string name = options.service_name.empty() ? "gossip-learner " + options.node_id : options.service_name;
  if (name.size() <= kMaxServiceNameBytes) return name;
  size_t cut = kMaxServiceNameBytes;
  while (cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80) --cut;  // continuation byte
  name.resize(cut);
  return name;
}

TxtMap MakeTxt(const Options& options) {
  return {{kTxtId, options.node_id},
          {kTxtProto, std::to_string(options.protocol_version)},
          {kTxtSig, options.signature_hash},
          {kTxtCluster, options.cluster},
          {kTxtRole, options.role}};
}

std::string SkipReason(const Options& options, const TxtMap& txt) {
  const std::string id = Lookup(txt, kTxtId);
  if (id.empty()) return "no id";
  if (id == options.node_id) return "own service";
  if (const auto cluster = Lookup(txt, kTxtCluster); cluster != options.cluster) {
    return "cluster '" + cluster + "'";
  }
  if (const auto proto = Lookup(txt, kTxtProto); proto != std::to_string(options.protocol_version)) {
    return "protocol '" + proto + "'";
  }
  if (const auto sig = Lookup(txt, kTxtSig); sig != options.signature_hash) {
    return "signature '" + sig + "'";
  }
  return "";
}

AvahiStringList* ToAvahiTxt(const TxtMap& txt) {
  AvahiStringList* list = nullptr;
  for (const auto& [key, value] : txt) {
    list = avahi_string_list_add_pair(list, key.c_str(), value.c_str());
  }
  return list;
}

TxtMap FromAvahiTxt(AvahiStringList* list) {
  TxtMap txt;
  for (AvahiStringList* item = list; item != nullptr; item = avahi_string_list_get_next(item)) {
    char* key = nullptr;
    char* value = nullptr;
    if (avahi_string_list_get_pair(item, &key, &value, nullptr) != 0) continue;
    txt.emplace(key, value ? value : "");
    avahi_free(key);
    avahi_free(value);
  }
  return txt;
}

}  // namespace gl::discovery
