// Measures one gossip exchange of a 75k-float (~300 KB) model on loopback TCP, doing the
// engine's work on both sides: encode the snapshot, send, decode, validate, encode the reply,
// send back, decode and validate it. Prints the median round trip and the bytes on the wire
// per exchange beside the targets of issue 3.
//
// Usage: gossip_exchange_bench [exchanges=300] [params=75000]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <vector>

#include "common/heap_tuning.h"
#include "common/log.h"
#include "gossip/wire/codec.h"
#include "gossip/merge/merge.h"
#include "gossip/wire/tcp_transport.h"

namespace gl::gossip {
namespace {

using Clock = std::chrono::steady_clock;
constexpr double kTargetMedianMs = 5.0;
constexpr double kTargetWireFactor = 1.05;  // x 2 x fp32 parameter bytes
constexpr int kWarmup = 20;

ModelSnapshot MakeModel(std::size_t params, float value) {
  return ModelSnapshot{"gru-bench", std::vector<float>(params, value), 1000, 500};
}

int Run(int exchanges, std::size_t params) {
  SetLogLevel(LogLevel::kWarn);
  asio::io_context io;
  TcpOptions options;
  options.max_frame_bytes = MaxBodyBytesForModel(params);
  auto server = TcpTransport::Create(io, "127.0.0.1:0", options);
  auto client = TcpTransport::Create(io, "127.0.0.1:0", options);
  if (!server.ok() || !client.ok()) {
    std::fprintf(stderr, "cannot listen: %s\n", (server.ok() ? client.status() : server.status()).ToString().c_str());
    return 1;
  }
  const ModelSnapshot server_model = MakeModel(params, 0.5f);
  const ModelSnapshot client_model = MakeModel(params, 0.25f);
  (*server)->Listen([&](const std::string&, Frame request, Transport::Respond respond) {
    Result<ExchangeRequest> decoded = DecodeMessage<ExchangeRequest>(request);
    if (!decoded.ok() || !ValidateRemote(decoded->model, server_model.signature, params).ok()) {
      return respond(EncodeMessage(Error{"bad request"}));
    }
    respond(EncodeMessage(ExchangeReply{"server", server_model}));
  });

  std::vector<double> round_trips_ms;
  std::uint64_t wire_bytes = 0;
  int failures = 0;
  const std::string to = (*server)->LocalAddress();
  std::function<void(int)> exchange = [&](int remaining) {
    if (remaining == 0) {
      (*client)->Shutdown();
      (*server)->Shutdown();  // lets io.run() return
      return;
    }
    const TransportStats before = (*client)->Stats();
    const auto start = Clock::now();
    (*client)->Request(to, EncodeMessage(ExchangeRequest{"client", client_model}), std::chrono::seconds(5),
                       [&, start, before, remaining](Status status, Frame reply) {
                         Result<ExchangeReply> decoded =
                             status.ok() ? DecodeMessage<ExchangeReply>(reply) : Result<ExchangeReply>(status);
                         const bool ok = decoded.ok() && ValidateRemote(decoded->model, "gru-bench", params).ok();
                         const auto end = Clock::now();
                         if (!ok) ++failures;
                         const int index = exchanges + kWarmup - remaining;
                         if (ok && index >= kWarmup) {
                           round_trips_ms.push_back(std::chrono::duration<double, std::milli>(end - start).count());
                           const TransportStats after = (*client)->Stats();
                           wire_bytes += (after.bytes_sent - before.bytes_sent) +
                                         (after.bytes_received - before.bytes_received);
                         }
                         exchange(remaining - 1);
                       });
  };
  exchange(exchanges + kWarmup);
  io.run();

  if (round_trips_ms.empty()) {
    std::fprintf(stderr, "no exchange succeeded (%d failures)\n", failures);
    return 1;
  }
  std::sort(round_trips_ms.begin(), round_trips_ms.end());
  const auto percentile = [&](double p) {
    return round_trips_ms[static_cast<std::size_t>(p * static_cast<double>(round_trips_ms.size() - 1))];
  };
  const double median = percentile(0.5);
  const double per_exchange = static_cast<double>(wire_bytes) / static_cast<double>(round_trips_ms.size());
  const double fp32_both_ways = 2.0 * static_cast<double>(params) * sizeof(float);
  const double factor = per_exchange / fp32_both_ways;
  std::printf("gossip exchange on loopback TCP: %zu floats (%.1f KB), %zu exchanges, %d failed\n", params,
              static_cast<double>(params) * sizeof(float) / 1000.0, round_trips_ms.size(), failures);
  std::printf("  round trip  median %.3f ms  p90 %.3f ms  max %.3f ms   target: median <= %.1f ms  %s\n", median,
              percentile(0.9), round_trips_ms.back(), kTargetMedianMs, median <= kTargetMedianMs ? "MET" : "MISSED");
  std::printf("  wire bytes  %.0f per exchange = %.4f x 2 x fp32 (%.0f)   target: <= %.2f x  %s\n", per_exchange,
              factor, fp32_both_ways, kTargetWireFactor, factor <= kTargetWireFactor ? "MET" : "MISSED");
  return 0;
}

}  // namespace
}  // namespace gl::gossip

int main(int argc, char** argv) {
  gl::KeepModelBuffersInHeap();  // as the node does (src/node/main.cc)
  const int exchanges = argc > 1 ? std::atoi(argv[1]) : 300;
  const std::size_t params = argc > 2 ? static_cast<std::size_t>(std::atol(argv[2])) : 75000;
  if (exchanges <= 0 || params == 0) {
    std::fprintf(stderr, "usage: %s [exchanges>0] [params>0]\n", argv[0]);
    return 2;
  }
  return gl::gossip::Run(exchanges, params);
}
