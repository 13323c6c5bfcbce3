// Static discovery: a fixed "host:port" list announced once at Start (see discovery.h).
#include <set>
#include <utility>

#include "common/host_port.h"
#include "common/log.h"
#include "discovery/discovery.h"

namespace gl::discovery {
namespace {

class StaticDiscovery : public Discovery {
 public:
  explicit StaticDiscovery(std::vector<std::string> addresses) : addresses_(std::move(addresses)) {}

  Status Start(Callback on_event) override {
    for (const auto& address : addresses_) {
      if (Result<HostPort> valid = ParseHostPort(address); !valid.ok()) {
        return Status::InvalidArgument("static peer " + valid.status().message());
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

 private:
  std::vector<std::string> addresses_;
};

}  // namespace

std::unique_ptr<Discovery> MakeStaticDiscovery(std::vector<std::string> addresses) {
  return std::make_unique<StaticDiscovery>(std::move(addresses));
}

}  // namespace gl::discovery
