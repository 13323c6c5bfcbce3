// Helpers for the discovery tests: an event recorder that waits on conditions with a
// deadline, and access to a private avahi-daemon started by tools/avahi-test-daemon.
// EventRecorder is thread-safe (its callback runs on discovery threads).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "discovery/discovery.h"

namespace gl::discovery::testing {

using std::chrono_literals::operator""ms;
using std::chrono_literals::operator""s;

inline constexpr auto kDeadline = 10s;  // Avahi needs ~1 s to probe a name, ~1 s to see a removal
inline constexpr char kUnreachableWarning[] = "avahi-daemon not reachable: using static peers only";

class EventRecorder {
 public:
  Discovery::Callback Callback();
  // Waits until `done(events so far)` holds; false if `timeout` passes first.
  bool WaitFor(const std::function<bool(const std::vector<PeerEvent>&)>& done, std::chrono::milliseconds timeout);
  // Waits until at least `count` events of `kind` for node `id` were recorded.
  bool WaitForCount(PeerEvent::Kind kind, const std::string& id, int count, std::chrono::milliseconds timeout);
  // The most recent event for node `id` (must exist).
  PeerEvent Last(const std::string& id) const;
  int Count(PeerEvent::Kind kind, const std::string& id) const;
  std::vector<PeerEvent> Events() const;

 private:
  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::vector<PeerEvent> events_;
};

// A short name unique to this process (stem-pid-counter): node id, cluster, service name.
std::string UniqueName(const std::string& stem);

// Result of running tools/avahi-test-daemon; output holds its stdout + stderr.
struct ScriptResult {
  int exit_code;
  std::string output;
};
// One tools/avahi-test-daemon instance; empty fields keep the script's defaults. `lan`
// and `addr` select multi-host mode (eth0 with `addr` on a bridge in netns `lan`).
struct DaemonInstance {
  std::string dir, netns, host, lan, addr;
  std::string BusAddress() const;  // its DBUS_SYSTEM_BUS_ADDRESS
};
// Runs tools/avahi-test-daemon ACTION on `instance`.
ScriptResult RunAvahiTestDaemon(const std::string& action, const DaemonInstance& instance = {});
// "" if ACTION succeeded on `instance`, else what the script said.
std::string OnInstance(const DaemonInstance& instance, const std::string& action);

// A private instance for this test process, `tag` telling several apart. Names derive
// from an id kept in the environment, so a RunInFreshProcess child names it alike.
DaemonInstance PrivateInstance(const std::string& tag);

// Makes sure DBUS_SYSTEM_BUS_ADDRESS points at a running test daemon: keeps one that is
// already set (e.g. by CI), else starts the default instance and exports its address.
// Returns "" on success, else why not (the caller skips).
std::string EnsureAvahiTestDaemon();

// libdbus reads DBUS_SYSTEM_BUS_ADDRESS once per process (dbus_bus_get_private caches
// it), so a scenario that needs another bus address runs in a fresh process: this runs
// `scenario` in a re-executed copy of the test binary (gtest "threadsafe" death-test
// style) after setting the variable, and fails the test with the scenario's error text
// unless it returns "".
void RunInFreshProcess(const std::string& bus_address, std::string (*scenario)());

// Starts `instances` (skips the test if one cannot start), runs `scenario` in a fresh
// process talking to the first one, then stops them all and removes their dirs.
void RunOnPrivateInstances(const std::vector<DaemonInstance>& instances, std::string (*scenario)());

}  // namespace gl::discovery::testing
