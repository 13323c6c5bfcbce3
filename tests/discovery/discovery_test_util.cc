// Discovery test helpers (see discovery_test_util.h).
#include "discovery_test_util.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <array>
#include <cstdio>
#include <cstdlib>

#include <gtest/gtest.h>

namespace gl::discovery::testing {

Discovery::Callback EventRecorder::Callback() {
  return [this](const PeerEvent& event) {
    std::lock_guard lock(mu_);
    events_.push_back(event);
    changed_.notify_all();
  };
}

bool EventRecorder::WaitFor(const std::function<bool(const std::vector<PeerEvent>&)>& done,
                            std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return changed_.wait_for(lock, timeout, [&] { return done(events_); });
}

bool EventRecorder::WaitForCount(PeerEvent::Kind kind, const std::string& id, int count,
                                 std::chrono::milliseconds timeout) {
  return WaitFor(
      [&](const std::vector<PeerEvent>& events) {
        return std::count_if(events.begin(), events.end(),
                             [&](const PeerEvent& e) { return e.kind == kind && e.id == id; }) >= count;
      },
      timeout);
}

PeerEvent EventRecorder::Last(const std::string& id) const {
  std::lock_guard lock(mu_);
  const auto it = std::find_if(events_.rbegin(), events_.rend(), [&](const PeerEvent& e) { return e.id == id; });
  EXPECT_NE(it, events_.rend()) << "no event for " << id;
  return it == events_.rend() ? PeerEvent{} : *it;
}

int EventRecorder::Count(PeerEvent::Kind kind, const std::string& id) const {
  std::lock_guard lock(mu_);
  return static_cast<int>(
      std::count_if(events_.begin(), events_.end(), [&](const PeerEvent& e) { return e.kind == kind && e.id == id; }));
}

std::vector<PeerEvent> EventRecorder::Events() const {
  std::lock_guard lock(mu_);
  return events_;
}

std::string UniqueName(const std::string& stem) {
  static std::atomic<int> counter{0};
  return stem + "-" + std::to_string(getpid()) + "-" + std::to_string(++counter);
}

std::string DaemonInstance::BusAddress() const {
  return "unix:path=" + (dir.empty() ? std::string("/tmp/gl-avahi-test") : dir) + "/run/system_bus_socket";
}

ScriptResult RunAvahiTestDaemon(const std::string& action, const DaemonInstance& instance) {
  std::string command;
  for (const auto& [name, value] : {std::pair{"AVAHI_TEST_DIR", instance.dir}, {"AVAHI_TEST_NETNS", instance.netns},
                                    {"AVAHI_TEST_HOSTNAME", instance.host}, {"AVAHI_TEST_LAN", instance.lan},
                                    {"AVAHI_TEST_ADDR", instance.addr}}) {
    if (!value.empty()) command += std::string(name) + "='" + value + "' ";
  }
  command += std::string("'") + GL_AVAHI_TEST_DAEMON + "' " + action + " 2>&1";
  ScriptResult result{-1, ""};
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  std::array<char, 512> buffer;
  while (fgets(buffer.data(), buffer.size(), pipe) != nullptr) result.output += buffer.data();
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string OnInstance(const DaemonInstance& instance, const std::string& action) {
  const ScriptResult result = RunAvahiTestDaemon(action, instance);
  return result.exit_code == 0 ? "" : action + " failed: " + result.output;
}

DaemonInstance PrivateInstance(const std::string& tag) {
  const char* inherited = std::getenv("GL_DISCOVERY_TEST_ID");
  const std::string id = inherited != nullptr ? inherited : std::to_string(getpid());
  setenv("GL_DISCOVERY_TEST_ID", id.c_str(), 1);
  DaemonInstance instance;
  instance.dir = "/tmp/gl-avahi-test-" + tag + "-" + id;
  instance.netns = "gl-" + tag + "-" + id;
  return instance;
}

std::string EnsureAvahiTestDaemon() {
  const char* current = std::getenv("DBUS_SYSTEM_BUS_ADDRESS");
  if (current != nullptr && *current != '\0') {
    const std::string address = current;
    const std::string prefix = "unix:path=";
    struct stat info;
    if (address.rfind(prefix, 0) == 0 && stat(address.substr(prefix.size()).c_str(), &info) == 0 &&
        S_ISSOCK(info.st_mode)) {
      return "";
    }
  }
  const ScriptResult started = RunAvahiTestDaemon("start");
  if (started.exit_code != 0) return "tools/avahi-test-daemon start failed: " + started.output;
  DaemonInstance default_instance;  // the script's default, unless AVAHI_TEST_DIR says otherwise
  if (const char* dir = std::getenv("AVAHI_TEST_DIR")) default_instance.dir = dir;
  setenv("DBUS_SYSTEM_BUS_ADDRESS", default_instance.BusAddress().c_str(), 1);
  return "";
}

void RunInFreshProcess(const std::string& bus_address, std::string (*scenario)()) {
  const char* saved = std::getenv("DBUS_SYSTEM_BUS_ADDRESS");
  const std::string restore = saved != nullptr ? saved : "";
  setenv("DBUS_SYSTEM_BUS_ADDRESS", bus_address.c_str(), 1);  // inherited by the child
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        const std::string error = scenario();
        std::fprintf(stderr, "%s\n", error.empty() ? "SCENARIO PASSED" : ("SCENARIO FAILED: " + error).c_str());
        std::_Exit(error.empty() ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "SCENARIO PASSED");
  if (restore.empty()) {
    unsetenv("DBUS_SYSTEM_BUS_ADDRESS");
  } else {
    setenv("DBUS_SYSTEM_BUS_ADDRESS", restore.c_str(), 1);
  }
}

void RunOnPrivateInstances(const std::vector<DaemonInstance>& instances, std::string (*scenario)()) {
  for (const auto& instance : instances) {
    if (const std::string error = OnInstance(instance, "start"); !error.empty()) {
      for (const auto& started : instances) OnInstance(started, "stop");
      GTEST_SKIP() << "cannot start a private avahi-daemon: " << error;
    }
  }
  RunInFreshProcess(instances.front().BusAddress(), scenario);
  for (const auto& instance : instances) {
    EXPECT_EQ(OnInstance(instance, "stop"), "");
    EXPECT_EQ(std::system(("rm -rf '" + instance.dir + "'").c_str()), 0);
  }
}

}  // namespace gl::discovery::testing
