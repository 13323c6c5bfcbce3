// gossip::Options: every knob of the gossip engine, with its meaning, unit, default and
// trade-off. Start from DefaultLanOptions() (Pis on one LAN) or DefaultLocalOptions() (tests
// and loopback clusters), override fields, then check Validate() once. Plain value type.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "gossip/token_account.h"
#include "gossip/wire/auth.h"
#include "gossip/wire/frame_format.h"

namespace gl::gossip {

// How models travel (docs/wire.md "Push"). Every mode answers all three kinds of request.
enum class FlowControl {
  kPushPull,      // each interval: ExchangeRequest with my model -> ExchangeReply with the peer's
  kPush,          // each interval: Push with my model -> PushAck (no model back)
  kTokenAccount,  // Pushes paced by a token account (token_account.h): proactive and reactive
};
// "push-pull", "push", "token-account".
std::string FlowControlName(FlowControl flow);

struct Options {
  // ---- Identity ----

  // Name of this node in Hello/Ping messages, logs and peers' status. Must not be empty.
  std::string node_id;
  // "node" (trains and gossips) or "coordinator" (runs FedAvg rounds). Sent in Hello. Default "node".
  std::string role = "node";

  // ---- Gossip schedule ----

  // Time between two exchanges (or pushes, see `flow`) this node starts with a random peer.
  // Default 3 s. Shorter mixes models faster at the cost of bandwidth (2 x model bytes per
  // push-pull exchange, 1 x per push) and CPU.
  // 0 means never initiate: the node only answers exchanges started by others.
  std::chrono::milliseconds gossip_interval{3000};
  // Each interval is drawn uniformly from interval x [1 - jitter, 1 + jitter], so nodes started
  // together drift apart. Fraction in [0, 1). Default 0.25. 0 means a fixed period.
  double gossip_jitter = 0.25;
  // Deadline for one whole exchange (connect, send model, receive model), and for each read
  // or write on an answered connection. Default 5 s. Too short fails exchanges over slow
  // links; too long keeps a hung peer's slot busy. Must be > 0.
  std::chrono::milliseconds exchange_timeout{5000};
  // Seed of the random choices (first delays, jitter, gossip partners). Default 0 = from
  // std::random_device: nodes booted together from one image must not pick in lockstep.
  // Non-zero makes a run repeatable (gossip-learner simulate).
  std::uint64_t seed = 0;
  // kPushPull (default): 2 models per exchange, and both sides learn from each. kPush sends one
  // model per interval, half the bytes, but a model spreads only one way per contact.
  // kTokenAccount sends at most one model per interval on average too, but saves tokens while
  // idle and spends them to pass a freshly merged model on at once. A peer whose Hello did
  // not say it accepts pushes (an older build) gets push-pull exchanges instead.
  FlowControl flow = FlowControl::kPushPull;
  // kTokenAccount: the account holds at most token_capacity tokens (C), and a received model
  // is passed on to about balance / token_reactivity peers (A), so a larger A keeps more
  // tokens for proactive sends. 1 <= A <= C. Defaults C = 10, A = 5.
  int token_capacity = 10;
  int token_reactivity = 5;
  // False plays a build that predates pushes: its Hello does not list them and a Push is
  // refused with Error. Default true; for tests of mixed clusters.
  bool accept_pushes = true;

  // ---- Failure detection ----

  // Every interval, each peer not heard from for about an interval gets a Ping; suspect and
  // dead peers are pinged when their retry is due (both checked half an interval ahead).
  // With the defaults, a peer that refuses connections is dead ~3 s after it went away. Default 1 s. Shorter detects crashes sooner at the cost
  // of one small connection per peer per interval. 0 means no probing: failures are then
  // only noticed by failed exchanges.
  std::chrono::milliseconds probe_interval{1000};
  // Deadline for one Ping/Pong. Default 500 ms. Must be > 0 when probing is on.
  std::chrono::milliseconds probe_timeout{500};
  // Consecutive failed contacts (exchange or probe) after which a peer is dead: it is no
  // longer chosen for gossip, only retried with backoff. The first failure makes it suspect.
  // Default 3. Larger tolerates flaky links but detects crashes later. Must be >= 1.
  std::uint32_t dead_after_failures = 3;
  // Retry delays: a suspect peer after base; a dead peer after base x 2^(failures -
  // dead_after_failures), capped at retry_backoff_max.
  // Defaults 1 s / 30 s. A larger cap costs less on a long-gone peer but re-admits a
  // restarted peer later (a fresh mDNS announcement re-admits it at once). base > 0, max >= base.
  std::chrono::milliseconds retry_backoff_base{1000};
  std::chrono::milliseconds retry_backoff_max{30000};

  // ---- Limits ----

  // Largest frame body accepted, in bytes. Set it from the model with
  // MaxBodyBytesForModel(param_count) (codec.h). Default 4 MiB (fits ~1M floats).
  // In [1 KiB, kMaxFrameBytes]; a larger value lets a peer make this node allocate more.
  std::uint32_t max_frame_bytes = 4u << 20;
  // Inbound connections served at once; more are closed on accept. Default 32.
  // Each costs up to one body buffer (max_frame_bytes). Must be >= 1.
  std::size_t max_inbound_connections = 32;
  // Of those, at most this many from one remote host; more are closed on accept, so one
  // address cannot hold every slot. Default 8: a peer opens one exchange and a probe or two
  // at a time, and nodes sharing one machine each count. Must be >= 1.
  std::size_t max_connections_per_host = 8;
  // Frames each remote host may send per second (bursts of 2x); a host over it has its
  // connections closed, with one log line per 10 s. Default 200: a node sends a few per
  // second to each peer. 0 = no limit. Must be >= 0.
  double max_frames_per_second = 200;

  // ---- Bandwidth ----

  // Codecs this node accepts for models (frame_format.h ModelCodec), listed in its Hello;
  // each pair of nodes exchanges models in the most compact codec both accept. Must hold
  // fp32, which every node reads. Default int8, fp16, fp32: int8 frames are a quarter of
  // fp32's with no measurable accuracy loss (bench/RESULTS.md "Model codecs"); {fp32} sends
  // and accepts exact models only, as older builds do. With kInt4Delta listed on both sides,
  // an exchange's reply is the difference from the request's model, at half of int8's bytes
  // but about half a point lower at the end (bench/RESULTS.md "Scoring window and delta
  // replies").
  std::vector<ModelCodec> codecs = {ModelCodec::kInt8, ModelCodec::kFp16, ModelCodec::kFp32};
  // Upload budget in kbit/s (1000 bits), all gossip traffic counted, replies to peers too.
  // Exchanges start only as the budget allows (upload_budget.h: paced at this rate, bursts
  // of 2 s of it), so any minute carries about a minute of it at most. Replies are never
  // held back, so peers' requests alone can exceed it. Default 0 = unlimited. Must be >= 0.
  double max_upload_kbps = 0;

  // ---- Security ----

  // Shared secret of the cluster (auth.h); TcpTransport then authenticates every frame.
  // None (the default) = run open: anyone who can connect may read and offer models.
  std::optional<ClusterKey> cluster_key;
  // With a cluster key: also encrypt every frame (ChaCha20-Poly1305, auth.h). Every node of a
  // cluster must agree; frames sealed the other way are rejected. Default false.
  bool encrypt_frames = false;

  // OK, or InvalidArgument naming the field and its valid range.
  Status Validate() const;
};

struct TcpOptions;  // gossip/wire/tcp_transport.h
// The TCP transport's limits these options ask for (its io_timeout = exchange_timeout).
TcpOptions TransportOptions(const Options& options);

// Pis on one LAN: the defaults above.
Options DefaultLanOptions();
// Loopback clusters and tests: everything 10x faster.
Options DefaultLocalOptions();

}  // namespace gl::gossip
