#include "gossip/options.h"

#include <algorithm>

#include "gossip/wire/model_codec.h"
#include "gossip/wire/tcp_transport.h"

namespace gl::gossip {
namespace {

Status Invalid(const std::string& field, const std::string& range) {
  return Status::InvalidArgument("gossip option " + field + " must be " + range);
}

}  // namespace

std::string FlowControlName(FlowControl flow) {
  switch (flow) {
    case FlowControl::kPushPull:
      return "push-pull";
    case FlowControl::kPush:
      return "push";
    case FlowControl::kTokenAccount:
      return "token-account";
  }
  return "?";
}

Status Options::Validate() const {
  using std::chrono::milliseconds;
  if (node_id.empty() || node_id.size() > kMaxIdBytes) {
    return Invalid("node_id", "a non-empty name of at most " + std::to_string(kMaxIdBytes) + " bytes");
  }
  if (role != "node" && role != "coordinator") return Invalid("role", "\"node\" or \"coordinator\"");
  if (gossip_interval < milliseconds(0)) return Invalid("gossip_interval", ">= 0 ms (0 = never initiate)");
  if (!(gossip_jitter >= 0.0 && gossip_jitter < 1.0)) return Invalid("gossip_jitter", "in [0, 1)");
  if (exchange_timeout <= milliseconds(0)) return Invalid("exchange_timeout", "> 0 ms");
  if (flow != FlowControl::kPushPull && flow != FlowControl::kPush && flow != FlowControl::kTokenAccount) {
    return Invalid("flow", "push-pull, push or token-account");
  }
  if (token_capacity < 1 || token_capacity > kMaxTokenCapacity) {
    return Invalid("token_capacity", "in [1, " + std::to_string(kMaxTokenCapacity) + "]");
  }
  if (token_reactivity < 1 || token_reactivity > token_capacity) {
    return Invalid("token_reactivity", "in [1, token_capacity]");
  }
  if (probe_interval < milliseconds(0)) return Invalid("probe_interval", ">= 0 ms (0 = no probing)");
  if (probe_interval > milliseconds(0) && probe_timeout <= milliseconds(0)) {
    return Invalid("probe_timeout", "> 0 ms when probing is on");
  }
  if (dead_after_failures < 1) return Invalid("dead_after_failures", ">= 1");
  if (retry_backoff_base <= milliseconds(0)) return Invalid("retry_backoff_base", "> 0 ms");
  if (retry_backoff_max < retry_backoff_base) return Invalid("retry_backoff_max", ">= retry_backoff_base");
  if (max_frame_bytes < 1024 || max_frame_bytes > kMaxFrameBytes) {
    return Invalid("max_frame_bytes", "in [1024, " + std::to_string(kMaxFrameBytes) + "] bytes");
  }
  if (max_inbound_connections < 1) return Invalid("max_inbound_connections", ">= 1");
  if (max_connections_per_host < 1) return Invalid("max_connections_per_host", ">= 1");
  if (!(max_frames_per_second >= 0)) return Invalid("max_frames_per_second", ">= 0 (0 = no limit)");
  if (std::find(codecs.begin(), codecs.end(), ModelCodec::kFp32) == codecs.end() ||
      codecs.size() > kMaxCodecListEntries ||
      std::any_of(codecs.begin(), codecs.end(), [](ModelCodec c) { return !IsKnownCodec(static_cast<std::uint8_t>(c)); })) {
    return Invalid("codecs", "a list of known codecs (fp32, fp16, int8) that includes fp32");
  }
  if (!(max_upload_kbps >= 0)) return Invalid("max_upload_kbps", ">= 0 (0 = unlimited)");
  if (encrypt_frames && !cluster_key) return Invalid("encrypt_frames", "false without a cluster_key");
  return Status::Ok();
}

TcpOptions TransportOptions(const Options& options) {
  TcpOptions tcp;
  tcp.max_frame_bytes = options.max_frame_bytes;
  tcp.max_inbound_connections = options.max_inbound_connections;
  tcp.max_connections_per_host = options.max_connections_per_host;
  tcp.io_timeout = options.exchange_timeout;
  tcp.cluster_key = options.cluster_key;
  tcp.encrypt = options.encrypt_frames;
  tcp.max_frames_per_second = options.max_frames_per_second;
  return tcp;
}

Options DefaultLanOptions() { return Options{}; }

Options DefaultLocalOptions() {
  using std::chrono::milliseconds;
  Options options;
  options.gossip_interval = milliseconds(300);
  options.exchange_timeout = milliseconds(1000);
  options.probe_interval = milliseconds(100);
  options.probe_timeout = milliseconds(100);
  options.retry_backoff_base = milliseconds(100);
  options.retry_backoff_max = milliseconds(1000);
  return options;
}

}  // namespace gl::gossip
