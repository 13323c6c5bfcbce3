// Avahi discovery when the daemon is missing, comes late or restarts. Each scenario runs
// in a fresh process (libdbus reads the bus address once per process) against a private
// daemon instance of its own, so tests on the shared daemon are not disturbed.
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "discovery/discovery.h"
#include "discovery_test_util.h"

namespace gl::discovery::testing {
namespace {

// "" if `text` occurs exactly `times` times in `log`, else the complaint with the log.
std::string ExpectLogged(const std::string& log, const std::string& text, int times) {
  int found = 0;
  for (auto at = log.find(text); at != std::string::npos; at = log.find(text, at + 1)) ++found;
  if (found == times) return "";
  return "'" + text + "' logged " + std::to_string(found) + " times, expected " + std::to_string(times) + ":\n" + log;
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
  explicit RestartPair(std::chrono::milliseconds connect_timeout) : a(UniqueName("a")), b(UniqueName("b")) {
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
std::string FullRestartSteps(RestartPair& pair) {
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

struct LogExpectation {
  const char* text;
  int times;  // summed over both nodes
};

// Runs `steps` on a new RestartPair while capturing stderr, then checks what was logged.
std::string RunPairCheckingLog(std::string (*steps)(RestartPair&), std::chrono::milliseconds connect_timeout,
                               std::initializer_list<LogExpectation> expected) {
  ::testing::internal::CaptureStderr();
  std::string error;
  {
    RestartPair pair(connect_timeout);
    error = steps(pair);
  }  // both nodes stopped before the log is read
  const std::string log = ::testing::internal::GetCapturedStderr();
  for (const auto& [text, times] : expected) {
    if (error.empty()) error = ExpectLogged(log, text, times);
  }
  return error;
}

// Each node logs the loss once per outage (although the client fails twice: daemon, then
// bus) and "reachable" once it is back; never "not reachable", it was connected before.
std::string FullRestartScenario() {
  return RunPairCheckingLog(&FullRestartSteps, 2000ms,
                            {{"avahi-daemon connection lost", 2},
                             {"avahi-daemon reachable: mDNS discovery active", 2},
                             {kUnreachableWarning, 0}});
}

// Each node logs one "not reachable" warning (although both the CONNECTING state and the
// 100 ms connect deadline report it), one "connection lost", and "reachable" after each of
// the two times the daemon came up.
std::string LateDaemonScenario() {
  if (std::string error = OnRestartInstance("stop-avahi"); !error.empty()) return error;
  return RunPairCheckingLog(&LateDaemonSteps, 100ms,
                            {{kUnreachableWarning, 2},
                             {"avahi-daemon connection lost", 2},
                             {"avahi-daemon reachable: mDNS discovery active", 4}});
}

TEST(AvahiDiscoveryRestartTest, PeersSeenAgainAfterBusAndDaemonRestart) {
  RunOnPrivateInstances({RestartInstance()}, &FullRestartScenario);
}

TEST(AvahiDiscoveryRestartTest, DaemonStartedLateAndRestartedAlone) {
  RunOnPrivateInstances({RestartInstance()}, &LateDaemonScenario);
}

}  // namespace
}  // namespace gl::discovery::testing
