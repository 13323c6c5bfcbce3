// Cost of security per gossip exchange: a push-pull exchange of a 75k-float (~300 KB) model on
// loopback TCP, done open and with a cluster key (nonce handshake, tags on both frames), each
// side also running the engine's validation (ValidateRemote) plus, in the keyed run, the
// update-norm check. Prints the median round trip of each, the overhead in percent against
// the 10% target, and the raw cost of Seal+Open and of UpdateNorm.
//
// Usage: security_auth_bench [exchanges=300] [params=75000]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <optional>
#include <vector>

#include "common/log.h"
#include "gossip/auth.h"
#include "gossip/codec.h"
#include "gossip/merge.h"
#include "gossip/tcp_transport.h"

namespace gl::gossip {
namespace {

using Clock = std::chrono::steady_clock;
constexpr double kTargetOverheadPercent = 10;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values.empty() ? 0 : values[values.size() / 2];
}

ModelSnapshot MakeModel(std::size_t params, float value) {
  return ModelSnapshot{"gru-bench", std::vector<float>(params, value), 1000, 500};
}

// What the engine does with a received model before merging it.
bool Screen(const ModelSnapshot& remote, const ModelSnapshot& local, bool check_norm) {
  if (!ValidateRemote(remote, local.signature, local.params.size()).ok()) return false;
  return !check_norm || UpdateNorm(remote.params, local.params) <= 1e9;
}

// Median round trip of `exchanges` exchanges, in ms; negative if any failed.
double MedianExchangeMs(int exchanges, std::size_t params, std::optional<ClusterKey> key) {
  asio::io_context io;
  TcpOptions options;
  options.max_frame_bytes = MaxBodyBytesForModel(params);
  options.cluster_key = key;
  options.max_frames_per_second = 0;
  auto server = TcpTransport::Create(io, "127.0.0.1:0", options);
  auto client = TcpTransport::Create(io, "127.0.0.1:0", options);
  if (!server.ok() || !client.ok()) return -1;
  const bool keyed = key.has_value();
  const ModelSnapshot server_model = MakeModel(params, 0.5f);
  const ModelSnapshot client_model = MakeModel(params, 0.25f);
  (*server)->Listen([&](const std::string&, Frame request, Transport::Respond respond) {
    Result<ExchangeRequest> decoded = DecodeMessage<ExchangeRequest>(request);
    if (!decoded.ok() || !Screen(decoded->model, server_model, keyed)) return respond(EncodeMessage(Error{"bad"}));
    respond(EncodeMessage(ExchangeReply{"server", server_model}));
  });
  std::vector<double> round_trips;
  int failures = 0;
  const std::string to = (*server)->LocalAddress();
  std::function<void(int)> exchange = [&](int remaining) {
    if (remaining == 0) {
      (*client)->Shutdown();
      (*server)->Shutdown();
      return;
    }
    const Clock::time_point start = Clock::now();
    (*client)->Request(to, EncodeMessage(ExchangeRequest{"client", client_model}), std::chrono::seconds(5),
                       [&, start, remaining](Status status, Frame reply) {
                         Result<ExchangeReply> decoded = DecodeMessage<ExchangeReply>(reply);
                         if (!status.ok() || !decoded.ok() || !Screen(decoded->model, client_model, keyed)) {
                           ++failures;
                         } else {
                           round_trips.push_back(Ms(Clock::now() - start));
                         }
                         exchange(remaining - 1);
                       });
  };
  exchange(exchanges);
  io.run();
  return failures > 0 ? -1 : Median(round_trips);
}

int Run(int exchanges, std::size_t params) {
  SetLogLevel(LogLevel::kWarn);
  Result<ClusterKey> key = GenerateClusterKey();
  if (!key.ok()) return 1;
  // Interleave open and keyed runs so that machine load hits both alike.
  std::vector<double> open_ms, keyed_ms;
  for (int round = 0; round < 3; ++round) {
    open_ms.push_back(MedianExchangeMs(exchanges, params, std::nullopt));
    keyed_ms.push_back(MedianExchangeMs(exchanges, params, *key));
  }
  const double open = Median(open_ms), keyed = Median(keyed_ms);
  if (open < 0 || keyed < 0) {
    std::fprintf(stderr, "exchanges failed\n");
    return 1;
  }

  const Frame frame = EncodeMessage(ExchangeRequest{"client", MakeModel(params, 0.25f)});
  const ModelSnapshot a = MakeModel(params, 0.25f), b = MakeModel(params, 0.5f);
  constexpr int kReps = 200;
  AuthSession client(*key, AuthRole::kClient), server(*key, AuthRole::kServer);
  (void)server.AcceptPeerNonce(client.NonceFrame());
  (void)client.AcceptPeerNonce(server.NonceFrame());
  Clock::time_point start = Clock::now();
  for (int i = 0; i < kReps; ++i) {
    std::vector<std::uint8_t> wire = client.Seal(frame);
    Frame received{frame.type, std::vector<std::uint8_t>(wire.begin() + kFrameHeaderSize, wire.end())};
    if (!server.Open(std::move(received)).ok()) return 1;
  }
  const double seal_open_ms = Ms(Clock::now() - start) / kReps;
  start = Clock::now();
  double sink = 0;
  for (int i = 0; i < kReps; ++i) sink += UpdateNorm(a.params, b.params);
  const double norm_ms = Ms(Clock::now() - start) / kReps;

  const double overhead = 100 * (keyed - open) / open;
  std::printf("model: %zu floats (%zu-byte body); %d exchanges x 3 runs each\n", params, frame.body.size(), exchanges);
  std::printf("median exchange, open:                 %.3f ms\n", open);
  std::printf("median exchange, keyed + norm check:   %.3f ms\n", keyed);
  std::printf("overhead per exchange:                 %+.1f%%  (target <= %.0f%%: %s)\n", overhead,
              kTargetOverheadPercent, overhead <= kTargetOverheadPercent ? "met" : "NOT met");
  std::printf("seal + open of one model frame:        %.3f ms (x2 per exchange)\n", seal_open_ms);
  std::printf("UpdateNorm of one model:               %.3f ms (x2 per exchange)%s\n", norm_ms,
              sink < 0 ? " " : "");
  std::printf("computed security cost per exchange:   %.3f ms = %.1f%% of the open exchange\n",
              2 * (seal_open_ms + norm_ms), 100 * 2 * (seal_open_ms + norm_ms) / open);
  return 0;
}

}  // namespace
}  // namespace gl::gossip

int main(int argc, char** argv) {
  const int exchanges = argc > 1 ? std::atoi(argv[1]) : 300;
  const std::size_t params = argc > 2 ? static_cast<std::size_t>(std::atoll(argv[2])) : 75000;
  return gl::gossip::Run(exchanges, params);
}
