// Avahi discovery against a real, private avahi-daemon (tools/avahi-test-daemon: own
// D-Bus bus, daemon in a network namespace holding only lo). Skipped with the reason
// when that daemon cannot be started. Each test uses its own cluster name, so tests
// running in parallel on the shared daemon filter each other out.
#include <signal.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "discovery/discovery.h"
#include "discovery_test_util.h"

namespace gl::discovery::testing {
namespace {

constexpr auto kDeadline = 10s;  // Avahi needs ~1 s to probe a name, ~1 s to see a removal
constexpr char kUnreachableWarning[] = "avahi-daemon not reachable: using static peers only";

// "" if `text` occurs exactly `times` times in `log`, else the complaint with the log.
std::string ExpectLogged(const std::string& log, const std::string& text, int times) {
  int found = 0;
  for (auto at = log.find(text); at != std::string::npos; at = log.find(text, at + 1)) ++found;
  if (found == times) return "";
  return "'" + text + "' logged " + std::to_string(found) + " times, expected " + std::to_string(times) + ":\n" + log;
}

class AvahiDiscoveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string reason = EnsureAvahiTestDaemon();
    if (!reason.empty()) GTEST_SKIP() << "no private avahi-daemon: " << reason;
    cluster_ = UniqueName("c");
  }

  // A started Avahi discovery in this test's cluster, recording into `recorder`.
  std::unique_ptr<Discovery> StartNode(const std::string& id, uint16_t port, EventRecorder& recorder,
                                       Options options = {}) {
    if (options.cluster == Options{}.cluster) options.cluster = cluster_;
    options.node_id = id;
    options.port = port;
    auto discovery = MakeAvahiDiscovery(options);
    EXPECT_TRUE(discovery->Start(recorder.Callback()).ok());
    return discovery;
  }

  // Starts nodes a_ (port) and b_ (port + 1) and waits until a_ has seen b_.
  void StartPair(uint16_t port) {
    a_ = UniqueName("a");
    b_ = UniqueName("b");
    node_a_ = StartNode(a_, port, seen_by_a_);
    node_b_ = StartNode(b_, port + 1, seen_by_b_);
    ASSERT_TRUE(seen_by_a_.WaitForCount(PeerEvent::Kind::kUp, b_, 1, kDeadline));
  }

  std::string cluster_;
  EventRecorder seen_by_a_, seen_by_b_;
  std::string a_, b_;
  std::unique_ptr<Discovery> node_a_, node_b_;
};

TEST_F(AvahiDiscoveryTest, TwoInstancesSeeEachOther) {
  ASSERT_NO_FATAL_FAILURE(StartPair(17001));
  ASSERT_TRUE(seen_by_b_.WaitForCount(PeerEvent::Kind::kUp, a_, 1, kDeadline));
  const PeerEvent peer = seen_by_a_.Last(b_);
  EXPECT_EQ(peer.source, "mdns");
  EXPECT_EQ(peer.address, "127.0.0.1:17002");
  EXPECT_EQ(peer.service_name, "gossip-learner " + b_);
  EXPECT_EQ(peer.txt.at("cluster"), cluster_);
  EXPECT_EQ(peer.txt.at("proto"), "1");
  EXPECT_EQ(peer.txt.at("role"), "node");
  EXPECT_EQ(peer.txt.count("sig"), 1u);
  EXPECT_EQ(seen_by_b_.Last(a_).address, "127.0.0.1:17001");
  EXPECT_EQ(seen_by_a_.Count(PeerEvent::Kind::kUp, a_), 0) << "own service must be skipped";
}

TEST_F(AvahiDiscoveryTest, StopWithdrawsServiceAndOtherSeesDown) {
  ASSERT_NO_FATAL_FAILURE(StartPair(17011));
  node_b_->Stop();
  node_b_->Stop();  // idempotent
  ASSERT_TRUE(seen_by_a_.WaitForCount(PeerEvent::Kind::kDown, b_, 1, kDeadline));
  const PeerEvent down = seen_by_a_.Last(b_);
  EXPECT_EQ(down.kind, PeerEvent::Kind::kDown);
  EXPECT_EQ(down.address, "127.0.0.1:17012");
}

TEST_F(AvahiDiscoveryTest, OtherClusterAndOtherSignatureAreFiltered) {
  EventRecorder seen_by_a, seen_by_probes, ignored;
  const std::string a = UniqueName("a"), far = UniqueName("far"), alien = UniqueName("alien"),
                    late = UniqueName("late");
  Options ours;
  ours.signature_hash = "s1";
  Options other_cluster = ours;
  other_cluster.cluster = cluster_ + "x";
  Options other_signature = ours;
  other_signature.signature_hash = "s2";
  auto node_a = StartNode(a, 17021, seen_by_a, ours);
  auto node_far = StartNode(far, 17022, ignored, other_cluster);
  auto node_alien = StartNode(alien, 17023, ignored, other_signature);
  // Probes that match the filtered nodes prove those are published and resolvable.
  auto probe_far = StartNode(UniqueName("pf"), 17025, seen_by_probes, other_cluster);
  auto probe_alien = StartNode(UniqueName("pa"), 17026, seen_by_probes, other_signature);
  ASSERT_TRUE(seen_by_probes.WaitForCount(PeerEvent::Kind::kUp, far, 1, kDeadline));
  ASSERT_TRUE(seen_by_probes.WaitForCount(PeerEvent::Kind::kUp, alien, 1, kDeadline));
  // Control: a matching node published only now (~1 s of probing) is seen by a; a had
  // resolved (and skipped) the filtered ones as soon as they were announced, earlier.
  auto node_late = StartNode(late, 17024, ignored, ours);
  ASSERT_TRUE(seen_by_a.WaitForCount(PeerEvent::Kind::kUp, late, 1, kDeadline));
  EXPECT_EQ(seen_by_a.Count(PeerEvent::Kind::kUp, far), 0);
  EXPECT_EQ(seen_by_a.Count(PeerEvent::Kind::kUp, alien), 0);
}

TEST_F(AvahiDiscoveryTest, SameServiceNameTwiceIsRenamedAndBothVisible) {
  EventRecorder seen_by_a, seen_by_b, seen_by_c;
  const std::string a = UniqueName("a"), b = UniqueName("b"), c = UniqueName("c");
  Options same_name;
  same_name.service_name = UniqueName("dup");
  auto node_a = StartNode(a, 17031, seen_by_a, same_name);
  auto node_b = StartNode(b, 17032, seen_by_b, same_name);
  auto node_c = StartNode(c, 17033, seen_by_c);
  ASSERT_TRUE(seen_by_c.WaitForCount(PeerEvent::Kind::kUp, a, 1, kDeadline));
  ASSERT_TRUE(seen_by_c.WaitForCount(PeerEvent::Kind::kUp, b, 1, kDeadline));
  const std::string name_a = seen_by_c.Last(a).service_name, name_b = seen_by_c.Last(b).service_name;
  EXPECT_NE(name_a, name_b);
  EXPECT_TRUE(name_a == same_name.service_name || name_b == same_name.service_name) << name_a << " / " << name_b;
  EXPECT_TRUE(name_a == same_name.service_name + " #2" || name_b == same_name.service_name + " #2")
      << name_a << " / " << name_b;
  EXPECT_EQ(seen_by_c.Last(a).address, "127.0.0.1:17031");
  EXPECT_EQ(seen_by_c.Last(b).address, "127.0.0.1:17032");
}

TEST_F(AvahiDiscoveryTest, SetRoleRepublishesTxt) {
  ASSERT_NO_FATAL_FAILURE(StartPair(17041));
  EXPECT_EQ(seen_by_a_.Last(b_).txt.at("role"), "node");
  node_b_->SetRole("coordinator");
  ASSERT_TRUE(seen_by_a_.WaitForCount(PeerEvent::Kind::kUp, b_, 2, kDeadline));
  EXPECT_EQ(seen_by_a_.Last(b_).txt.at("role"), "coordinator");
  EXPECT_EQ(seen_by_a_.Count(PeerEvent::Kind::kDown, b_), 0);
}

// Runs in a fresh process whose bus address leads nowhere (the daemon is not touched).
std::string NoDaemonScenario() {
  EventRecorder recorder;
  Options options;
  options.node_id = UniqueName("lonely");
  options.port = 17051;
  auto mdns = MakeAvahiDiscovery(options);
  ::testing::internal::CaptureStderr();
  const Status started = mdns->Start(recorder.Callback());
  mdns->Stop();
  const std::string log = ::testing::internal::GetCapturedStderr();
  if (!started.ok()) return "Start failed: " + started.ToString();
  if (const std::string error = ExpectLogged(log, kUnreachableWarning, 1); !error.empty()) return error;
  auto fixed = MakeStaticDiscovery({"127.0.0.1:17052"});
  if (!fixed->Start(recorder.Callback()).ok()) return "static Start failed";
  const auto events = recorder.Events();
  if (events.size() != 1 || events[0].address != "127.0.0.1:17052") return "static peer not reported alone";
  return "";
}

TEST(AvahiDiscoveryNoDaemonTest, StartSucceedsWarnsOnceAndStaticStillWorks) {
  RunInFreshProcess("unix:path=/nonexistent/gl-discovery-test/bus", &NoDaemonScenario);
}

// The daemon restarts use a separate daemon instance (own bus, own namespace), so tests
// running in parallel on the shared one are not disturbed.
DaemonInstance RestartInstance() { return PrivateInstance("r"); }
std::string OnRestartInstance(const std::string& action) { return OnInstance(RestartInstance(), action); }

// Two started nodes on the restart instance, retrying fast while the bus is gone.
struct RestartPair {
  explicit RestartPair(std::chrono::milliseconds connect_timeout = 2000ms) : a(UniqueName("a")), b(UniqueName("b")) {
    Options options;
    options.retry_interval = 200ms;
    options.connect_timeout = connect_timeout;
    options.node_id = a;
    options.port = 17061;
    node_a = MakeAvahiDiscovery(options);
    options.node_id = b;
    options.port = 17062;
    node_b = MakeAvahiDiscovery(options);
    started = node_a->Start(seen_by_a.Callback()).ok() && node_b->Start(seen_by_b.Callback()).ok();
  }
  // "" once each node has seen the other `count` times.
  std::string WaitMutualUp(int count) {
    if (!seen_by_a.WaitForCount(PeerEvent::Kind::kUp, b, count, kDeadline)) return "a did not see b";
    if (!seen_by_b.WaitForCount(PeerEvent::Kind::kUp, a, count, kDeadline)) return "b did not see a";
    if (seen_by_a.Last(b).address != "127.0.0.1:17062") return "wrong address " + seen_by_a.Last(b).address;
    return "";
  }
  std::string a, b;
  EventRecorder seen_by_a, seen_by_b;
  std::unique_ptr<Discovery> node_a, node_b;
  bool started = false;
};

long OpenFds() {
  long count = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) ++count;
  return count;
}

// Whole instance (bus and daemon) stopped and started again under running nodes; the
// reconnect (bus gone, retried every 200 ms) leaves no fd behind.
std::string FullRestartScenario() {
  RestartPair pair;
  if (!pair.started) return "Start failed";
  std::string error = pair.WaitMutualUp(1);
  const long fds_before = OpenFds();
  if (error.empty()) error = OnRestartInstance("stop");
  if (error.empty() && !pair.seen_by_a.WaitForCount(PeerEvent::Kind::kDown, pair.b, 1, kDeadline)) {
    error = "connection loss not noticed";
  }
  if (error.empty()) error = OnRestartInstance("start");
  if (error.empty()) error = pair.WaitMutualUp(2);
  if (error.empty() && OpenFds() != fds_before) {
    error = "open fds " + std::to_string(fds_before) + " before the restart, " + std::to_string(OpenFds()) + " after";
  }
  return error;
}

// Bus up but no daemon at Start; the daemon appears, then is restarted alone.
// Bus up but no daemon at Start; the daemon appears, then is restarted alone.
std::string LateDaemonSteps(RestartPair& pair) {
  if (!pair.started) return "Start failed";
  std::string error = OnRestartInstance("start");
  if (error.empty()) error = pair.WaitMutualUp(1);
  if (error.empty()) error = OnRestartInstance("stop-avahi");
  if (error.empty() && !pair.seen_by_a.WaitForCount(PeerEvent::Kind::kDown, pair.b, 1, kDeadline)) {
    error = "daemon loss not noticed";
  }
  if (error.empty()) error = OnRestartInstance("start");
  return error.empty() ? pair.WaitMutualUp(2) : error;
}

// The same, also checking what each node logged: one "not reachable" warning (although
// both the CONNECTING state and the 100 ms connect deadline report it), one "connection
// lost", and "reachable" after each of the two times the daemon came up.
std::string LateDaemonScenario() {
  std::string error = OnRestartInstance("stop-avahi");
  if (!error.empty()) return error;
  ::testing::internal::CaptureStderr();
  {
    RestartPair pair(100ms);
    error = LateDaemonSteps(pair);
  }
  const std::string log = ::testing::internal::GetCapturedStderr();
  if (error.empty()) error = ExpectLogged(log, kUnreachableWarning, 2);
  if (error.empty()) error = ExpectLogged(log, "avahi-daemon connection lost", 2);
  if (error.empty()) error = ExpectLogged(log, "avahi-daemon reachable: mDNS discovery active", 4);
  return error;
}

TEST(AvahiDiscoveryRestartTest, PeersSeenAgainAfterBusAndDaemonRestart) {
  RunOnPrivateInstances({RestartInstance()}, &FullRestartScenario);
}

TEST(AvahiDiscoveryRestartTest, DaemonStartedLateAndRestartedAlone) {
  RunOnPrivateInstances({RestartInstance()}, &LateDaemonScenario);
}

// Multi-host: two daemons in their own namespaces on one bridge (192.0.2.0/24, which
// exists only inside those namespaces) exchange real mDNS, like two Pis on a LAN.
DaemonInstance LanHost(int n) {
  DaemonInstance host = PrivateInstance("h" + std::to_string(n));
  host.host = "glh" + std::to_string(n);
  host.lan = PrivateInstance("lan").netns;
  host.addr = "192.0.2." + std::to_string(n) + "/24";
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
