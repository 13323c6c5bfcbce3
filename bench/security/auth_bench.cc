// Cost of security per gossip exchange: a push-pull exchange of a 75k-float (~300 KB) model
// over TCP, done open, with a cluster key (nonce handshake, Poly1305 tags on both frames) and
// with a key and encryption (ChaCha20-Poly1305). Each side runs the engine's validation
// (ValidateRemote); the keyed runs add the update-norm check. Prints the median round trip of
// each, the overhead in percent against the 10% target, the raw cost of Seal, of Open
// (and of its part after the last byte) and of UpdateNorm, and the libsodium primitives that
// were candidates for the tag (ChaCha20-Poly1305, AES-256-GCM where the CPU has AES-NI,
// BLAKE2b of protocol v1).
//
// Usage: security_auth_bench [exchanges=300] [params=75000]
//          everything on loopback, in this process
//        security_auth_bench serve HOST:PORT KEY_FILE [params=75000]
//          open, keyed and encrypted servers on PORT, PORT+1, PORT+2 until SIGTERM/SIGINT
//        security_auth_bench client HOST:PORT KEY_FILE [exchanges=300] [params=75000]
//          the table, against a `serve` elsewhere (bench/security/netns_exchange.sh)
#include <sodium.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/heap_tuning.h"
#include "common/host_port.h"
#include "common/log.h"
#include "gossip/wire/auth.h"
#include "gossip/wire/codec.h"
#include "gossip/merge/merge.h"
#include "gossip/wire/tcp_transport.h"

namespace gl::gossip {
namespace {

using Clock = std::chrono::steady_clock;
constexpr double kTargetOverheadPercent = 10;

enum class Mode { kOpen, kMac, kEncrypted };
constexpr std::array<Mode, 3> kModes = {Mode::kOpen, Mode::kMac, Mode::kEncrypted};
constexpr std::array<const char*, 3> kModeNames = {"open", "keyed (MAC) + norm check", "encrypted + norm check"};

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values.empty() ? 0 : values[values.size() / 2];
}

ModelSnapshot MakeModel(std::size_t params, float value) {
  return ModelSnapshot{"gru-bench", std::vector<float>(params, value), 1000, 500};
}

TcpOptions OptionsFor(Mode mode, std::size_t params, const ClusterKey& key) {
  TcpOptions options;
  options.max_frame_bytes = MaxBodyBytesForModel(params);
  if (mode != Mode::kOpen) options.cluster_key = key;
  options.encrypt = mode == Mode::kEncrypted;
  options.max_frames_per_second = 0;
  return options;
}

// What the engine does with a received model before merging it.
bool Screen(const ModelSnapshot& remote, const ModelSnapshot& local, bool check_norm) {
  if (!ValidateRemote(remote, local.signature, local.params.size()).ok()) return false;
  return !check_norm || UpdateNorm(remote.params, local.params) <= 1e9;
}

// A transport on `listen` that answers every ExchangeRequest with its model.
std::unique_ptr<TcpTransport> Serve(asio::io_context& io, const std::string& listen, Mode mode, std::size_t params,
                                    const ClusterKey& key) {
  auto server = TcpTransport::Create(io, listen, OptionsFor(mode, params, key));
  if (!server.ok()) {
    std::fprintf(stderr, "cannot listen on %s: %s\n", listen.c_str(), server.status().ToString().c_str());
    return nullptr;
  }
  auto model = std::make_shared<const ModelSnapshot>(MakeModel(params, 0.5f));
  (*server)->Listen([model, mode](const std::string&, Frame request, Transport::Respond respond) {
    Result<ExchangeRequest> decoded = DecodeMessage<ExchangeRequest>(request);
    if (!decoded.ok() || !Screen(decoded->model, *model, mode != Mode::kOpen)) {
      return respond(EncodeMessage(Error{"bad"}));
    }
    respond(EncodeMessage(ExchangeReply{"server", *model}));
  });
  return std::move(server).value();
}

// "host:port" with the port moved up by `offset`.
std::string WithPortOffset(const std::string& host_port, int offset) {
  Result<HostPort> parsed = ParseHostPort(host_port, PortZero::kAllowed);
  if (!parsed.ok()) return host_port;
  const std::string host = host_port.substr(0, host_port.rfind(':'));  // brackets of IPv6 kept
  return host + ":" + std::to_string(parsed->port + offset);
}

// Median exchange per mode over 3 x `exchanges` exchanges each, taken round-robin (open, MAC,
// encrypted, open, ...) so that load from other processes hits every mode alike. `remote`
// empty: servers on loopback in this process; else the `serve` at that address.
std::optional<std::array<double, 3>> MeasureModes(const std::string& remote, int exchanges, std::size_t params,
                                                  const ClusterKey& key) {
  asio::io_context io;
  std::vector<std::unique_ptr<TcpTransport>> servers, clients;
  std::array<std::string, 3> to;
  for (std::size_t m = 0; m < kModes.size(); ++m) {
    to[m] = WithPortOffset(remote, static_cast<int>(m));
    if (remote.empty()) {
      servers.push_back(Serve(io, "127.0.0.1:0", kModes[m], params, key));
      if (!servers.back()) return std::nullopt;
      to[m] = servers.back()->LocalAddress();
    }
    auto client = TcpTransport::Create(io, "0.0.0.0:0", OptionsFor(kModes[m], params, key));
    if (!client.ok()) return std::nullopt;
    clients.push_back(std::move(client).value());
  }
  const ModelSnapshot model = MakeModel(params, 0.25f);
  std::array<std::vector<double>, 3> round_trips;
  int failures = 0;
  const int total = 3 * exchanges * static_cast<int>(kModes.size());
  std::function<void(int)> exchange = [&](int done) {
    if (done == total || failures > 0) {
      for (auto* transports : {&clients, &servers}) {
        for (auto& transport : *transports) transport->Shutdown();
      }
      return;
    }
    const std::size_t m = static_cast<std::size_t>(done) % kModes.size();
    const Clock::time_point start = Clock::now();
    clients[m]->Request(to[m], EncodeMessage(ExchangeRequest{"client", model}), std::chrono::seconds(5),
                        [&, m, start, done](Status status, Frame reply) {
                          Result<ExchangeReply> decoded = DecodeMessage<ExchangeReply>(reply);
                          const bool keyed = kModes[m] != Mode::kOpen;
                          if (!status.ok() || !decoded.ok() || !Screen(decoded->model, model, keyed)) {
                            std::fprintf(stderr, "%s exchange with %s failed: %s\n", kModeNames[m], to[m].c_str(),
                                         status.ToString().c_str());
                            ++failures;
                          } else {
                            round_trips[m].push_back(Ms(Clock::now() - start));
                          }
                          exchange(done + 1);
                        });
  };
  exchange(0);
  io.run();
  if (failures > 0) return std::nullopt;
  return std::array<double, 3>{Median(round_trips[0]), Median(round_trips[1]), Median(round_trips[2])};
}

// ms per frame to seal and to open one model frame, each averaged over `reps` (copies outside
// the timing). The frame is opened as TcpTransport opens it, in kCipherChunkBytes pieces; what
// is left once its last byte has arrived (the last piece and the tag) is also timed alone.
struct SealOpenMs {
  double seal = 0;
  double open = 0;
  double open_after_last_byte = 0;
};
std::optional<SealOpenMs> TimeSealOpen(const ClusterKey& key, const Frame& frame, bool encrypt, int reps) {
  AuthSession client(key, AuthRole::kClient, encrypt), server(key, AuthRole::kServer, encrypt);
  (void)server.AcceptPeerNonce(client.NonceFrame());
  (void)client.AcceptPeerNonce(server.NonceFrame());
  const std::uint16_t flags = kFlagAuthenticated | (encrypt ? kFlagEncrypted : 0);
  Clock::duration sealing{}, opening{}, after_last_byte{};
  for (int i = 0; i < reps; ++i) {
    Frame copy = frame;
    Clock::time_point start = Clock::now();
    const SealedFrame sealed = client.Seal(std::move(copy));
    sealing += Clock::now() - start;
    Frame received{frame.type, sealed.body, flags};  // what the transport reads
    received.body.insert(received.body.end(), sealed.tag.begin(), sealed.tag.end());
    const std::span<std::uint8_t> body(received.body);
    const std::size_t last_piece = (body.size() - 1) / kCipherChunkBytes * kCipherChunkBytes;
    start = Clock::now();
    server.BeginOpen(FrameHeader{received.type, flags, static_cast<std::uint32_t>(body.size())});
    for (std::size_t offset = 0; offset < last_piece; offset += kCipherChunkBytes) {
      server.OpenPiece(body.subspan(offset, kCipherChunkBytes));
    }
    const Clock::time_point last_byte = Clock::now();
    server.OpenPiece(body.subspan(last_piece));
    const bool ok = server.FinishOpen(std::move(received)).ok();
    opening += Clock::now() - start;
    after_last_byte += Clock::now() - last_byte;
    if (!ok) return std::nullopt;
  }
  return SealOpenMs{Ms(sealing) / reps, Ms(opening) / reps, Ms(after_last_byte) / reps};
}

// ms per call of `f`, averaged over `reps` after a warm-up.
template <class F>
double TimeMs(int reps, F f) {
  for (int i = 0; i < reps / 10; ++i) f();
  const Clock::time_point start = Clock::now();
  for (int i = 0; i < reps; ++i) f();
  return Ms(Clock::now() - start) / reps;
}

// One pass of each candidate primitive over `bytes` bytes (seal side only).
void PrintPrimitives(std::size_t bytes) {
  std::vector<std::uint8_t> data(bytes, 7), out(bytes + 1);
  std::uint8_t key[32] = {1}, nonce[12] = {}, tag[32], ad[12] = {};
  constexpr int kReps = 300;
  const double chacha_mac = TimeMs(kReps, [&] {
    crypto_aead_chacha20poly1305_ietf_encrypt_detached(out.data(), tag, nullptr, nullptr, 0, data.data(), bytes,
                                                        nullptr, nonce, key);
  });
  const double chacha_encrypt = TimeMs(kReps, [&] {
    crypto_aead_chacha20poly1305_ietf_encrypt_detached(out.data(), tag, nullptr, data.data(), bytes, ad, sizeof ad,
                                                        nullptr, nonce, key);
  });
  const double blake2b = TimeMs(kReps, [&] { crypto_generichash(tag, 32, data.data(), bytes, key, 32); });
  std::printf("primitives on %zu bytes: ChaCha20-Poly1305 MAC-only %.3f ms, encrypt %.3f ms; keyed BLAKE2b %.3f ms",
              bytes, chacha_mac, chacha_encrypt, blake2b);
  if (crypto_aead_aes256gcm_is_available() == 0) {
    std::printf("; AES-256-GCM not available on this CPU\n");
    return;
  }
  const double aes_mac = TimeMs(kReps, [&] {
    crypto_aead_aes256gcm_encrypt_detached(out.data(), tag, nullptr, nullptr, 0, data.data(), bytes, nullptr, nonce,
                                           key);
  });
  const double aes_encrypt = TimeMs(kReps, [&] {
    crypto_aead_aes256gcm_encrypt_detached(out.data(), tag, nullptr, data.data(), bytes, ad, sizeof ad, nullptr, nonce,
                                           key);
  });
  std::printf("; AES-256-GCM MAC-only %.3f ms, encrypt %.3f ms\n", aes_mac, aes_encrypt);
}

void PrintTable(const std::array<double, 3>& median_ms, const std::string& where, int exchanges,
                std::size_t params, const ClusterKey& key) {
  const Frame frame = EncodeMessage(ExchangeRequest{"client", MakeModel(params, 0.25f)});
  const ModelSnapshot a = MakeModel(params, 0.25f), b = MakeModel(params, 0.5f);
  constexpr int kReps = 200;
  const SealOpenMs mac = TimeSealOpen(key, frame, false, kReps).value_or(SealOpenMs{-1, -1, -1});
  const SealOpenMs encrypted = TimeSealOpen(key, frame, true, kReps).value_or(SealOpenMs{-1, -1, -1});
  const Clock::time_point start = Clock::now();
  double sink = 0;
  for (int i = 0; i < kReps; ++i) sink += UpdateNorm(a.params, b.params);
  const double norm_ms = Ms(Clock::now() - start) / kReps;

  std::printf("%s; model: %zu floats (%zu-byte body); %d exchanges per mode, round-robin\n", where.c_str(), params,
              frame.body.size(), 3 * exchanges);
  const double open = median_ms[0];
  for (std::size_t m = 0; m < kModes.size(); ++m) {
    const double overhead = 100 * (median_ms[m] - open) / open;
    std::printf("median exchange, %-26s %8.3f ms", kModeNames[m], median_ms[m]);
    if (m == 0) {
      std::printf("\n");
    } else {
      std::printf("  %+6.1f%%  (target <= %.0f%%: %s)\n", overhead, kTargetOverheadPercent,
                  overhead <= kTargetOverheadPercent ? "met" : "NOT met");
    }
  }
  std::printf("seal of one model frame:        MAC %.3f ms, encrypted %.3f ms (x2 per exchange)\n", mac.seal,
              encrypted.seal);
  std::printf("open of one model frame:        MAC %.3f ms, encrypted %.3f ms (x2 per exchange)\n", mac.open,
              encrypted.open);
  std::printf("  of which after its last byte: MAC %.3f ms, encrypted %.3f ms (last piece, <= 64 KiB, + tag)\n",
              mac.open_after_last_byte, encrypted.open_after_last_byte);
  std::printf("UpdateNorm of one model:        %.3f ms (x2 per exchange)%s\n", norm_ms, sink < 0 ? " " : "");
  for (const auto& [name, crypto_ms] :
       {std::pair{"MAC", mac.seal + mac.open}, std::pair{"encrypted", encrypted.seal + encrypted.open}}) {
    const double cost = 2 * (crypto_ms + norm_ms);
    std::printf("computed security cost per exchange, %-9s %.3f ms = %5.1f%% of the open exchange\n", name, cost,
                100 * cost / open);
  }
  PrintPrimitives(frame.body.size());
}

int Run(int argc, char** argv) {
  SetLogLevel(LogLevel::kWarn);
  const std::string command = argc > 1 ? argv[1] : "";
  if (command == "serve" || command == "client") {
    if (argc < 4) {
      std::fprintf(stderr, "usage: %s serve|client HOST:PORT KEY_FILE [...]\n", argv[0]);
      return 2;
    }
    Result<ClusterKey> key = LoadClusterKey(argv[3]);
    if (!key.ok()) {
      std::fprintf(stderr, "%s\n", key.status().ToString().c_str());
      return 1;
    }
    if (command == "serve") {
      const std::size_t params = argc > 4 ? static_cast<std::size_t>(std::atoll(argv[4])) : 75000;
      asio::io_context io;
      std::vector<std::unique_ptr<TcpTransport>> servers;
      for (std::size_t m = 0; m < kModes.size(); ++m) {
        servers.push_back(Serve(io, WithPortOffset(argv[2], static_cast<int>(m)), kModes[m], params, *key));
        if (!servers.back()) return 1;
      }
      asio::signal_set stop(io, SIGINT, SIGTERM);
      stop.async_wait([&](const std::error_code&, int) {
        for (auto& server : servers) server->Shutdown();
      });
      io.run();
      return 0;
    }
    const int exchanges = argc > 4 ? std::atoi(argv[4]) : 300;
    const std::size_t params = argc > 5 ? static_cast<std::size_t>(std::atoll(argv[5])) : 75000;
    const auto medians = MeasureModes(argv[2], exchanges, params, *key);
    if (!medians) return 1;
    PrintTable(*medians, std::string("remote ") + argv[2], exchanges, params, *key);
    return 0;
  }
  const int exchanges = argc > 1 ? std::atoi(argv[1]) : 300;
  const std::size_t params = argc > 2 ? static_cast<std::size_t>(std::atoll(argv[2])) : 75000;
  Result<ClusterKey> key = GenerateClusterKey();
  if (!key.ok()) return 1;
  const auto medians = MeasureModes("", exchanges, params, *key);
  if (!medians) return 1;
  PrintTable(*medians, "loopback", exchanges, params, *key);
  return 0;
}

}  // namespace
}  // namespace gl::gossip

int main(int argc, char** argv) {
  gl::KeepModelBuffersInHeap();  // as the node does (src/node/main.cc)
  return gl::gossip::Run(argc, argv);
}
