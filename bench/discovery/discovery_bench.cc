// discovery_bench: measures Avahi discovery against a running avahi-daemon (the private
// one of tools/avahi-test-daemon; run through bench/discovery/run.sh).
//  1. time from Start() of a new node until an already running node sees it (and until
//     the new node sees the running one; and from Stop() until the other sees kDown);
//  2. VmRSS and open fds of an observing node before/after many peer up/down events,
//     produced by avahi-publish processes (so only the observer is in this process).
// Usage: discovery_bench [--joins N] [--rounds R] [--batch B]   (defaults 10, 20, 50)
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include "common/log.h"
#include "discovery/discovery.h"

extern char** environ;

namespace gl::discovery {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kTimeout = std::chrono::seconds(30);

// Counts up/down events; waits for counts with a deadline.
class Tally {
 public:
  Discovery::Callback Callback() {
    return [this](const PeerEvent& event) {
      std::lock_guard lock(mu_);
      (event.kind == PeerEvent::Kind::kUp ? ups_ : downs_)++;
      cv_.notify_all();
    };
  }
  // Waits until ups >= up and downs >= down; false on timeout.
  bool Reach(long up, long down) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kTimeout, [&] { return ups_ >= up && downs_ >= down; });
  }
  long ups() {
    std::lock_guard lock(mu_);
    return ups_;
  }
  long downs() {
    std::lock_guard lock(mu_);
    return downs_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  long ups_ = 0, downs_ = 0;
};

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

void PrintStats(const char* what, std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  std::printf("%-44s n=%zu min=%.0f median=%.0f max=%.0f ms\n", what, ms.size(), ms.front(), ms[ms.size() / 2],
              ms.back());
}

Options NodeOptions(const std::string& id, uint16_t port) {
  Options options;
  options.node_id = id;
  options.cluster = "bench";
  options.port = port;
  options.signature_hash = "benchsig";
  return options;
}

// Part 1: join latency, seen from both sides, and leave latency.
bool MeasureJoins(int joins) {
  Tally seen_by_old;
  auto old_node = MakeAvahiDiscovery(NodeOptions("old", 19000));
  if (!old_node->Start(seen_by_old.Callback()).ok()) return false;
  std::vector<double> seen_ms, sees_ms, gone_ms;
  for (int i = 0; i < joins; ++i) {
    Tally seen_by_new;
    auto new_node = MakeAvahiDiscovery(NodeOptions("new" + std::to_string(i), 19001));
    const auto start = Clock::now();
    if (!new_node->Start(seen_by_new.Callback()).ok()) return false;
    if (!seen_by_old.Reach(i + 1, i)) return false;
    seen_ms.push_back(Ms(Clock::now() - start));
    if (!seen_by_new.Reach(1, 0)) return false;
    sees_ms.push_back(Ms(Clock::now() - start));
    const auto stop = Clock::now();
    new_node->Stop();
    if (!seen_by_old.Reach(i + 1, i + 1)) return false;
    gone_ms.push_back(Ms(Clock::now() - stop));
  }
  PrintStats("Start(new) -> running node sees kUp", seen_ms);
  PrintStats("Start(new) -> new node sees running one", sees_ms);
  PrintStats("Stop(new) -> running node sees kDown", gone_ms);
  return true;
}

long VmRssKb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

long OpenFds() {
  long count = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) ++count;
  return count;
}

// Starts one avahi-publish process announcing a peer of the bench cluster.
pid_t Publish(int index) {
  const std::string id = "pub" + std::to_string(index);
  std::vector<std::string> args = {"avahi-publish", "-s",      "bench " + id,   kServiceType,
                                   std::to_string(20000 + index), "id=" + id, "proto=1", "sig=benchsig",
                                   "cluster=bench",    "role=node"};
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  if (posix_spawnp(&pid, "avahi-publish", &actions, nullptr, argv.data(), environ) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

// Part 2: `rounds` x (`batch` services appear, then all disappear) seen by one observer.
bool MeasureChurn(int rounds, int batch) {
  Tally observed;
  auto observer = MakeAvahiDiscovery(NodeOptions("observer", 19100));
  if (!observer->Start(observed.Callback()).ok()) return false;
  long rss_before = 0, fds_before = 0;
  for (int round = 0; round <= rounds; ++round) {  // round 0 warms up, not counted
    std::vector<pid_t> publishers;
    for (int i = 0; i < batch; ++i) publishers.push_back(Publish(round * batch + i));
    if (std::count(publishers.begin(), publishers.end(), -1) > 0) {
      std::fprintf(stderr, "cannot run avahi-publish (apt-get install avahi-utils)\n");
      return false;
    }
    const long target = static_cast<long>(round + 1) * batch;
    const bool up = observed.Reach(target, target - batch);
    for (pid_t pid : publishers) kill(pid, SIGTERM);
    for (pid_t pid : publishers) waitpid(pid, nullptr, 0);
    if (!up || !observed.Reach(target, target)) {
      std::fprintf(stderr, "round %d: ups %ld downs %ld, expected %ld each\n", round, observed.ups(),
                   observed.downs(), target);
      return false;
    }
    const long rss = VmRssKb(), fds = OpenFds();
    if (round == 0) {
      rss_before = rss;
      fds_before = fds;
    }
    if (round == 0 || round % std::max(1, rounds / 4) == 0 || round == rounds) {
      std::printf("observer, %5ld up/down events after warm-up: VmRSS %ld kB (%+ld), open fds %ld (%+ld)\n",
                  2L * round * batch, rss, rss - rss_before, fds, fds - fds_before);
    }
  }
  return true;
}

int IntFlag(int argc, char** argv, const std::string& name, int fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (argv[i] == name) return std::atoi(argv[i + 1]);
  }
  return fallback;
}

}  // namespace
}  // namespace gl::discovery

int main(int argc, char** argv) {
  using namespace gl::discovery;
  if (std::getenv("DBUS_SYSTEM_BUS_ADDRESS") == nullptr) {
    std::fprintf(stderr, "set DBUS_SYSTEM_BUS_ADDRESS (bench/discovery/run.sh starts a private daemon)\n");
    return 2;
  }
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // figures appear as they are measured
  gl::SetLogLevel(gl::LogLevel::kWarn);
  const bool ok = MeasureJoins(IntFlag(argc, argv, "--joins", 10)) &&
                  MeasureChurn(IntFlag(argc, argv, "--rounds", 20), IntFlag(argc, argv, "--batch", 50));
  return ok ? 0 : 1;
}
