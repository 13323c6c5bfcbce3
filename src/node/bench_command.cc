#include "node/bench_command.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "common/process_stats.h"
#include "gossip/wire/auth.h"
#include "gossip/wire/codec.h"
#include "gossip/wire/messages.h"
#include "nn/gemm.h"
#include "nn/model.h"
#include "node/build_info.h"

namespace gl::node {
namespace {

using Clock = std::chrono::steady_clock;

struct BenchArgs {
  double seconds = 5;  // of training; the other figures take about a second together
  int hidden = 128;
  bool json = false;
};

// Wall and CPU seconds of the calling thread over `reps` calls of `f`.
struct Timing {
  double wall = 0, cpu = 0;
  long reps = 0;
};

// Calls f() until `min_seconds` of wall clock have passed (after one untimed warm-up call).
template <class F>
Timing Repeat(double min_seconds, F f) {
  f();
  Timing t;
  const Clock::time_point start = Clock::now();
  const double cpu_start = ThreadCpuSeconds();
  do {
    f();
    ++t.reps;
    t.wall = std::chrono::duration<double>(Clock::now() - start).count();
  } while (t.wall < min_seconds);
  t.cpu = ThreadCpuSeconds() - cpu_start;
  return t;
}

// Names of 4 to 11 random letters (mean 7.5; data/names averages 7.3) with random labels:
// the speed of a training step depends on the lengths only.
std::vector<nn::Example> SyntheticBatch(std::mt19937& rng, int size, int labels) {
  std::uniform_int_distribution<int> length(4, 11), letter(0, 25), label(0, labels - 1);
  std::vector<nn::Example> batch(size);
  for (nn::Example& e : batch) {
    const int n = length(rng);
    e.name.push_back(static_cast<char>('A' + letter(rng)));
    for (int i = 1; i < n; ++i) e.name.push_back(static_cast<char>('a' + letter(rng)));
    e.label = label(rng);
  }
  return batch;
}

struct Figures {
  Timing training;
  long training_samples = 0;
  double gemm_multiply_adds = 0;  // per timed call
  Timing gemm;
  std::size_t parameters = 0, frame_bytes = 0;
  Timing codec, mac_seal, mac_open, cipher_seal, cipher_open;
  long peak_rss_kb = -1;
  double load_before = -1, load_after = -1;
};

// The exchange a node sends: its model, whole.
gossip::ExchangeRequest ModelExchange(const nn::Model& model) {
  gossip::ExchangeRequest message;
  message.sender_id = "bench";
  message.model.signature = model.Signature();
  message.model.params = model.GetParameters();
  return message;
}

// Calls f() exactly `reps` times.
template <class F>
Timing Time(long reps, F f) {
  Timing t;
  t.reps = reps;
  const Clock::time_point start = Clock::now();
  const double cpu_start = ThreadCpuSeconds();
  for (long i = 0; i < reps; ++i) f();
  t.wall = std::chrono::duration<double>(Clock::now() - start).count();
  t.cpu = ThreadCpuSeconds() - cpu_start;
  return t;
}

// Seals kSealedFrames copies of `frame` on one side of a keyed connection, then opens them on
// the other (in order: each carries its sequence number), timing both.
constexpr long kSealedFrames = 16;
Status TimeSealing(const gossip::ClusterKey& key, const gossip::Frame& frame, bool encrypt, Timing* seal,
                   Timing* open) {
  gossip::AuthSession sender(key, gossip::AuthRole::kClient, encrypt);
  gossip::AuthSession receiver(key, gossip::AuthRole::kServer, encrypt);
  Status status = sender.AcceptPeerNonce(receiver.NonceFrame());
  if (status.ok()) status = receiver.AcceptPeerNonce(sender.NonceFrame());
  if (!status.ok()) return status;
  const auto flags = static_cast<std::uint16_t>(gossip::kFlagAuthenticated | (encrypt ? gossip::kFlagEncrypted : 0));
  std::vector<gossip::Frame> copies(kSealedFrames, frame);
  std::vector<gossip::SealedFrame> sealed;
  long next = 0;
  *seal = Time(kSealedFrames, [&] { sealed.push_back(sender.Seal(std::move(copies[next++]))); });
  std::vector<gossip::Frame> received;  // what the transport reads: body || tag
  for (gossip::SealedFrame& s : sealed) {
    received.push_back(gossip::Frame{frame.type, std::move(s.body), flags});
    received.back().body.insert(received.back().body.end(), s.tag.begin(), s.tag.end());
  }
  next = 0;
  *open = Time(kSealedFrames, [&] {
    if (!receiver.Open(std::move(received[next++])).ok()) status = Status::Corruption("a sealed frame did not open");
  });
  return status;
}

Result<Figures> Measure(const BenchArgs& a) {
  Figures f;
  f.load_before = LoadAverage1();
  nn::ModelOptions options;
  options.hidden_size = a.hidden;
  Result<std::unique_ptr<nn::Model>> created = nn::Model::Create(options);
  if (!created.ok()) return created.status();
  nn::Model& model = **created;
  std::mt19937 rng(1);
  const int labels = static_cast<int>(model.Labels().size());
  std::vector<std::vector<nn::Example>> batches;
  for (int i = 0; i < 64; ++i) batches.push_back(SyntheticBatch(rng, 32, labels));
  std::size_t next_batch = 0;
  f.training = Repeat(a.seconds, [&] {
    model.TrainBatch(batches[next_batch++ % batches.size()]);
  });
  f.training_samples = f.training.reps * 32;

  // The forward product h * Wh of one step of a full batch: 32 x 3H += (32 x H)(H x 3H).
  const int m = 32, k = a.hidden, n = 3 * a.hidden;
  std::vector<float> x(m * k, 0.5f), w(k * n, 0.01f), c(m * n, 0.0f);
  f.gemm_multiply_adds = static_cast<double>(m) * n * k;
  f.gemm = Repeat(0.5, [&] { nn::GemmAccumulateTiled(m, n, k, x.data(), k, 1, w.data(), n, c.data(), n); });

  const gossip::ExchangeRequest message = ModelExchange(model);
  const gossip::Frame frame = gossip::EncodeMessage(message);
  f.parameters = model.ParameterCount();
  f.frame_bytes = gossip::EncodeFrame(frame).size();
  const std::uint32_t limit = gossip::MaxBodyBytesForModel(f.parameters);
  Status decoded = Status::Ok();
  f.codec = Repeat(0.3, [&] {
    const std::vector<std::uint8_t> bytes = gossip::EncodeFrame(gossip::EncodeMessage(message));
    Result<gossip::Frame> back = gossip::DecodeFrame(bytes, limit);
    if (!back.ok() || !gossip::DecodeMessage<gossip::ExchangeRequest>(*back).ok()) {
      decoded = Status::Corruption("a model frame did not decode");
    }
  });
  if (!decoded.ok()) return decoded;

  Result<gossip::ClusterKey> key = gossip::GenerateClusterKey();
  if (!key.ok()) return key.status();
  Status sealed = TimeSealing(*key, frame, false, &f.mac_seal, &f.mac_open);
  if (sealed.ok()) sealed = TimeSealing(*key, frame, true, &f.cipher_seal, &f.cipher_open);
  if (!sealed.ok()) return sealed;
  f.peak_rss_kb = PeakRssKb();
  f.load_after = LoadAverage1();
  return f;
}

double PerCall(const Timing& t, double Timing::*clock) { return t.reps > 0 ? t.*clock / t.reps : 0; }

// Why the wall-clock figures may be low, or "" when the machine looked idle: the bench got less
// than 90% of a core, or the load average (the bench itself counts about 1) left no core free.
std::string BusyReason(const Figures& f) {
  const double share = f.training.wall > 0 ? f.training.cpu / f.training.wall : 1;
  const long cores = ::sysconf(_SC_NPROCESSORS_ONLN);
  char buf[200];
  if (share < 0.9) {
    std::snprintf(buf, sizeof buf, "the bench's thread ran %.0f%% of the wall-clock time", 100 * share);
    return buf;
  }
  const double load = std::max(f.load_before, f.load_after);
  if (cores > 0 && load > static_cast<double>(cores)) {
    std::snprintf(buf, sizeof buf, "load average %.2f on %ld cores", load, cores);
    return buf;
  }
  return "";
}

nlohmann::json ToJson(const Figures& f, const BenchArgs& a) {
  const BuildInfo& b = ThisBuild();
  const std::string busy = BusyReason(f);
  return {
      {"version", b.version},
      {"commit", b.commit},
      {"architecture", b.architecture},
      {"hidden", a.hidden},
      {"training_samples_per_s", f.training_samples / f.training.wall},
      {"training_samples_per_cpu_s", f.training_samples / f.training.cpu},
      {"gemm_g_multiply_adds_per_s", f.gemm_multiply_adds / PerCall(f.gemm, &Timing::wall) * 1e-9},
      {"gemm_g_multiply_adds_per_cpu_s", f.gemm_multiply_adds / PerCall(f.gemm, &Timing::cpu) * 1e-9},
      {"model_parameters", f.parameters},
      {"frame_bytes", f.frame_bytes},
      {"frame_encode_decode_ms", 1e3 * PerCall(f.codec, &Timing::wall)},
      {"frame_mac_seal_ms", 1e3 * PerCall(f.mac_seal, &Timing::wall)},
      {"frame_mac_verify_ms", 1e3 * PerCall(f.mac_open, &Timing::wall)},
      {"frame_encrypt_ms", 1e3 * PerCall(f.cipher_seal, &Timing::wall)},
      {"frame_decrypt_ms", 1e3 * PerCall(f.cipher_open, &Timing::wall)},
      {"cpu_wall_ratio", f.training.cpu / f.training.wall},
      {"load_average_1min", std::max(f.load_before, f.load_after)},
      {"peak_rss_mb", f.peak_rss_kb / 1024.0},
      {"machine_busy", !busy.empty()},
      {"busy_reason", busy},
  };
}

void PrintTable(const Figures& f, const BenchArgs& a) {
  const BuildInfo& b = ThisBuild();
  std::printf("gossip-learner %s bench on %s, one core, GRU hidden %d\n\n", b.version.c_str(),
              b.architecture.c_str(), a.hidden);
  std::printf("%-44s %14s %14s\n", "figure", "wall clock", "per CPU-second");
  std::printf("%-44s %14.0f %14.0f\n", "training (samples/s, batch 32)", f.training_samples / f.training.wall,
              f.training_samples / f.training.cpu);
  char gemm[80];
  std::snprintf(gemm, sizeof gemm, "GEMM 32x%dx%d (G multiply-adds/s)", 3 * a.hidden, a.hidden);
  std::printf("%-44s %14.2f %14.2f\n", gemm, f.gemm_multiply_adds / PerCall(f.gemm, &Timing::wall) * 1e-9,
              f.gemm_multiply_adds / PerCall(f.gemm, &Timing::cpu) * 1e-9);
  std::printf("\n%-44s %14s %14s\n", "one model frame", "ms (wall)", "ms (CPU)");
  const auto row = [](const char* what, const Timing& t) {
    std::printf("%-44s %14.3f %14.3f\n", what, 1e3 * PerCall(t, &Timing::wall), 1e3 * PerCall(t, &Timing::cpu));
  };
  char frame[80];
  std::snprintf(frame, sizeof frame, "encode + decode (%zu parameters, %.0f kB)", f.parameters, f.frame_bytes / 1e3);
  row(frame, f.codec);
  row("MAC: seal (sender)", f.mac_seal);
  row("MAC: verify (receiver)", f.mac_open);
  row("encryption: seal (sender)", f.cipher_seal);
  row("encryption: open (receiver)", f.cipher_open);
  std::printf("\npeak RSS %.1f MB; CPU/wall %.2f; load average %.2f\n", f.peak_rss_kb / 1024.0,
              f.training.cpu / f.training.wall, std::max(f.load_before, f.load_after));
  const std::string busy = BusyReason(f);
  if (!busy.empty()) {
    std::printf("MACHINE BUSY (%s): the wall-clock figures are low; trust the per-CPU-second ones, or rerun "
                "when the machine is idle.\n", busy.c_str());
  }
}

}  // namespace

void AddBenchCommand(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<BenchArgs>();
  CLI::App* cmd = app.add_subcommand(
      "bench", "Measure this machine on one core: training speed, GEMM rate, frame codec, MAC and encryption, memory");
  cmd->add_option("--seconds", args->seconds, "Seconds of training to time")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 3600.0));
  cmd->add_option("--hidden", args->hidden, "GRU hidden size of the model to time (8..1024)")
      ->capture_default_str()
      ->check(CLI::Range(8, 1024));
  cmd->add_flag("--json", args->json, "Print the figures as JSON");
  cmd->callback([args, &exit_code] {
    Result<Figures> figures = Measure(*args);
    if (!figures.ok()) {
      std::cerr << "bench: " << figures.status().ToString() << "\n";
      exit_code = 1;
      return;
    }
    if (args->json) {
      std::cout << ToJson(*figures, *args).dump(2) << "\n";
    } else {
      PrintTable(*figures, *args);
    }
  });
}

}  // namespace gl::node
