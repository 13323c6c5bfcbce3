// Static discovery: a fixed "host:port" list announced once at Start (see discovery.h).
#include <set>
#include <utility>

#include "common/log.h"
#include "discovery/discovery.h"

namespace gl::discovery {
namespace {

// "host:port" with a non-empty host and a decimal port in 1..65535.
bool IsHostPort(const std::string& address) {
  const auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size()) return false;
  const std::string port = address.substr(colon + 1);
  if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) return false;
  const int value = std::stoi(port);
  return value >= 1 && value <= 65535;
}

class StaticDiscovery : public Discovery {
 public:
  explicit StaticDiscovery(std::vector<std::string> addresses) : addresses_(std::move(addresses)) {}

  Status Start(Callback on_event) override {
    for (const auto& address : addresses_) {
      if (!IsHostPort(address)) {
        return Status::InvalidArgument("static peer '" + address + "' is not host:port (port 1-65535)");
      }
    }
    std::set<std::string> seen;
    for (const auto& address : addresses_) {
      if (!seen.insert(address).second) continue;
      PeerEvent event;
      event.kind = PeerEvent::Kind::kUp;
      event.source = "static";
      event.address = address;
      GL_LOG(kDebug, "discovery") << "static peer " << address;
      on_event(event);
    }
    return Status::Ok();
  }
  void Stop() override {}
  void SetRole(const std::string&) override {}

 private:
  std::vector<std::string> addresses_;
};

}  // namespace

std::unique_ptr<Discovery> MakeStaticDiscovery(std::vector<std::string> addresses) {
  return std::make_unique<StaticDiscovery>(std::move(addresses));
}

}  // namespace gl::discovery
