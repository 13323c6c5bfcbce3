// Avahi discovery across hosts: two daemons in their own network namespaces on one bridge
// (tools/avahi-test-daemon multi-host mode) exchange real mDNS, like two Pis on a LAN.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "discovery/discovery.h"
#include "discovery_test_util.h"

namespace gl::discovery::testing {
namespace {

// Multi-host: two daemons in their own namespaces on one bridge (192.0.2.0/24, which
// exists only inside those namespaces) exchange real mDNS, like two Pis on a LAN.
DaemonInstance LanHost(int n) {
  const std::string number = std::to_string(n);  // append(): "x" + string trips GCC 12 -Wrestrict
  DaemonInstance host = PrivateInstance(std::string("h").append(number));
  host.host = std::string("glh").append(number);
  host.lan = PrivateInstance("lan").netns;
  host.addr = std::string("192.0.2.").append(number).append("/24");
  return host;
}

// A remote peer: avahi-publish talking to host 2's daemon, stopped when this goes.
class RemotePublisher {
 public:
  RemotePublisher(const std::string& name, const std::string& cluster)
      : output_(LanHost(2).dir + "/publisher-" + std::to_string(getpid()) + ".out") {
    const std::string command = "DBUS_SYSTEM_BUS_ADDRESS='" + LanHost(2).BusAddress() +
                                "' timeout 60 avahi-publish -s '" + name + "' " + kServiceType +
                                " 17301 id=remote proto=1 sig= cluster=" + cluster + " role=node </dev/null >'" +
                                output_ + "' 2>&1 & echo $!";
    if (FILE* pipe = popen(command.c_str(), "r")) {
      if (std::fscanf(pipe, "%d", &pid_) != 1) pid_ = -1;
      pclose(pipe);
    }
  }
  ~RemotePublisher() { Stop(); }
  bool started() const { return pid_ > 0; }
  // Waits until avahi-publish reports its name established (probing done).
  bool WaitEstablished() const {
    for (const auto deadline = std::chrono::steady_clock::now() + kDeadline; std::chrono::steady_clock::now() < deadline;
         std::this_thread::sleep_for(50ms)) {
      std::ifstream in(output_);
      const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (text.find("Established under name") != std::string::npos) return true;
    }
    return false;
  }
  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    pid_ = -1;
  }

 private:
  std::string output_;
  pid_t pid_ = -1;
};

// Polls avahi-browse on host 2 (each run takes ~1 s to collect remote answers) until it
// lists `needle` or the deadline passes.
bool Host2Lists(const std::string& needle) {
  const std::string command =
      "DBUS_SYSTEM_BUS_ADDRESS='" + LanHost(2).BusAddress() + "' timeout 5 avahi-browse -rpt " + kServiceType;
  for (const auto deadline = std::chrono::steady_clock::now() + kDeadline; std::chrono::steady_clock::now() < deadline;) {
    std::string listing;
    if (FILE* pipe = popen(command.c_str(), "r")) {
      std::array<char, 512> buffer;
      while (std::fgets(buffer.data(), buffer.size(), pipe) != nullptr) listing += buffer.data();
      pclose(pipe);
    }
    if (listing.find(needle) != std::string::npos) return true;
  }
  return false;
}

// The last event for node `id`, or nullptr.
const PeerEvent* LastFor(const std::vector<PeerEvent>& events, const std::string& id) {
  const auto it = std::find_if(events.rbegin(), events.rend(), [&](const PeerEvent& e) { return e.id == id; });
  return it == events.rend() ? nullptr : &*it;
}

// A browse-only watcher sees the remote peer at its address; then our node publishes under
// the same name. Which host keeps the name is Avahi's call (the later prober usually
// yields, but a probe right after the other's announcement can win and make the other
// rename); either way both must end up listed under distinct names at their own addresses.
std::string MultiHostScenario() {
  const std::string cluster = UniqueName("lan"), taken = "remote " + cluster;
  EventRecorder seen;
  Options options;
  options.cluster = cluster;
  options.node_id = "watcher";  // port 0: browse only
  auto watcher = MakeAvahiDiscovery(options);
  if (!watcher->Start(seen.Callback()).ok()) return "watcher Start failed";
  RemotePublisher remote(taken, cluster);
  if (!remote.started() || !remote.WaitEstablished()) return "avahi-publish did not establish its name";
  if (!seen.WaitForCount(PeerEvent::Kind::kUp, "remote", 1, kDeadline)) return "remote peer not seen";
  if (seen.Last("remote").address != "192.0.2.2:17301") return "remote at " + seen.Last("remote").address;

  options.node_id = "local";
  options.port = 17300;
  options.service_name = taken;
  auto node = MakeAvahiDiscovery(options);
  if (!node->Start(seen.Callback()).ok()) return "node Start failed";
  const bool settled = seen.WaitFor(
      [](const std::vector<PeerEvent>& events) {
        const PeerEvent* local = LastFor(events, "local");
        const PeerEvent* other = LastFor(events, "remote");
        return local != nullptr && other != nullptr && local->kind == PeerEvent::Kind::kUp &&
               other->kind == PeerEvent::Kind::kUp && local->address == "192.0.2.1:17300" &&
               other->address == "192.0.2.2:17301" && local->service_name != other->service_name;
      },
      kDeadline);
  if (!settled) return "name clash did not settle into two services at their own addresses";
  if (!Host2Lists("192.0.2.1;17300")) return "host 2 does not list our service at 192.0.2.1:17300";

  const int downs = seen.Count(PeerEvent::Kind::kDown, "remote");
  remote.Stop();
  if (!seen.WaitForCount(PeerEvent::Kind::kDown, "remote", downs + 1, kDeadline)) return "remote withdrawal not seen";
  return "";
}

TEST(AvahiDiscoveryMultiHostTest, RemotePeerSeenNameClashSettlesWithdrawalSeen) {
  RunOnPrivateInstances({LanHost(1), LanHost(2)}, &MultiHostScenario);
}

}  // namespace
}  // namespace gl::discovery::testing
