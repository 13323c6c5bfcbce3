#include "node/config.h"

#include <map>
#include <set>
#include <sstream>
#include <type_traits>
#include <toml++/toml.h>

#include "common/host_port.h"
#include "gossip/wire/round_messages.h"

namespace gl::node {
namespace {

// Copies table[key] into `out` when present; records a type error otherwise.
template <typename T>
void Read(const toml::table& table, const char* key, T& out, std::string& error) {
  const toml::node* value = table.get(key);
  if (value == nullptr || !error.empty()) return;
  if constexpr (std::is_same_v<T, std::vector<std::string>>) {
    const toml::array* array = value->as_array();
    if (array == nullptr) { error = std::string(key) + " must be an array of strings"; return; }
    out.clear();
    for (const toml::node& item : *array) {
      if (!item.is_string()) { error = std::string(key) + " must be an array of strings"; return; }
      out.push_back(*item.value<std::string>());
    }
  } else if constexpr (std::is_same_v<T, double>) {
    std::optional<double> v = value->value<double>();  // accepts integers too
    if (!v) { error = std::string(key) + " must be a number"; return; }
    out = *v;
  } else if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    std::optional<int64_t> v = value->value_exact<int64_t>();
    if (!v || *v < 0) { error = std::string(key) + " must be a non-negative integer"; return; }
    out = static_cast<T>(*v);
  } else {
    std::optional<T> v = value->value_exact<T>();  // bool or string
    if (!v) { error = std::string(key) + " has the wrong type"; return; }
    out = *v;
  }
}

Status CheckKeys(const toml::table& root, const std::map<std::string, std::set<std::string>>& known) {
  for (const auto& [section, node] : root) {
    auto it = known.find(std::string(section.str()));
    if (it == known.end() || !node.is_table()) {
      return Status::InvalidArgument("unknown section [" + std::string(section.str()) +
                                     "]; valid sections: [node], [training], [gossip], [coordinator]");
    }
    for (const auto& [key, unused] : *node.as_table()) {
      if (!it->second.count(std::string(key.str()))) {
        return Status::InvalidArgument("unknown key '" + std::string(key.str()) + "' in [" + it->first +
                                       "]; see config/node.toml for the valid keys");
      }
    }
  }
  return Status::Ok();
}

}  // namespace

std::string Config::StatusSocketPath() const {
  return status_socket.empty() ? state_dir + "/status.sock" : status_socket;
}

Status Config::Validate() const {
  auto name = [this](const std::string& key) {
    auto it = origins.find(key);
    return it == origins.end() ? key : it->second;
  };
  auto bad = [&](const std::string& key, const std::string& rule) {
    return Status::InvalidArgument(name(key) + " must be " + rule);
  };
  // Seconds: 0 turns it off where `off` says so; otherwise at least `minimum`, for below that
  // it would spin (or, rounded to milliseconds, silently mean 0).
  auto interval = [&](const std::string& key, double value, double minimum, const char* off) -> Status {
    if (value == 0 && off != nullptr) return Status::Ok();
    if (value >= minimum && value <= 1e6) return Status::Ok();
    std::string rule = off ? "0 (" + std::string(off) + ") or " : std::string();
    std::ostringstream range;
    range << rule << "between " << minimum << " and 1e6 seconds, got " << value;
    return bad(key, range.str());
  };
  if (data.empty()) {
    return Status::InvalidArgument("no training data: pass --data PATH (a TSV shard or a folder of <Language>.txt)");
  }
  if (Result<HostPort> l = ParseHostPort(listen, PortZero::kAllowed); !l.ok()) {
    return Status::InvalidArgument(name("listen") + ": " + l.status().message());
  }
  for (const std::string& peer : peers) {
    if (Result<HostPort> p = ParseHostPort(peer); !p.ok()) {
      return Status::InvalidArgument(name("peers") + ": " + p.status().message());
    }
  }
  if (discovery != "mdns" && discovery != "static" && discovery != "both") {
    return bad("discovery", "mdns, static or both, got '" + discovery + "'");
  }
  if (role != "node" && role != "coordinator") return bad("role", "node or coordinator, got '" + role + "'");
  if (merge != "age-weighted" && merge != "average" && merge != "trimmed-mean") {
    return bad("merge", "age-weighted, average or trimmed-mean, got '" + merge + "'");
  }
  if (merge_window < 1 || merge_window > 32) return bad("merge_window", "in [1, 32]");
  if (io_nice < 0 || io_nice > 19) return bad("io_nice", "in [0, 19]");
  if (!(clip_factor >= 0)) return bad("clip_factor", ">= 0 (0 = no clipping)");
  if (clip_window < 3 || clip_window > 64) return bad("clip_window", "in [3, 64]");
  if (!(clip_drop_factor == 0 || clip_drop_factor >= 1)) return bad("clip_drop_factor", "0 (never drop) or >= 1");
  if (!(clip_radial_share >= 0 && clip_radial_share <= 1)) return bad("clip_radial_share", "in [0, 1] (0 = no cap)");
  if (hidden < 8 || hidden > 1024) return bad("hidden", "in [8, 1024]");
  if (batch_size < 1 || batch_size > static_cast<int>(gossip::kMaxRoundBatchSize)) {
    return bad("batch_size", "in [1, " + std::to_string(gossip::kMaxRoundBatchSize) + "]");
  }
  if (!(learning_rate > 0 && learning_rate < 1)) return bad("learning_rate", "in (0, 1)");
  if (!(lr_half_life_epochs >= 0)) return bad("lr_half_life_epochs", ">= 0 (0 = constant learning rate)");
  if (!(min_learning_rate >= 0 && min_learning_rate <= learning_rate)) {
    return bad("min_learning_rate", "in [0, " + name("learning_rate") + "]");
  }
  if (!(dropout >= 0 && dropout <= 0.9)) return bad("dropout", "in [0, 0.9]");
  if (!(validation_fraction > 0 && validation_fraction < 0.9)) return bad("validation_fraction", "in (0, 0.9)");
  for (const Status& s : {interval("eval_interval_s", eval_interval_s, 1, "only at start and exit"),
                          interval("checkpoint_interval_s", checkpoint_interval_s, 1, "only at exit"),
                          interval("interval_s", gossip_interval_s, 0.1, "answer only"),
                          interval("probe_interval_s", probe_interval_s, 0.1, "off"),
                          interval("exchange_timeout_s", exchange_timeout_s, 0.1, nullptr),
                          interval("round_deadline_s", round_deadline_s, 0.1, nullptr),
                          interval("failover_timeout_s", failover_timeout_s, 0.1, nullptr)}) {
    if (!s.ok()) return s;
  }
  if (encrypt && key_file.empty()) {
    return Status::InvalidArgument(name("encrypt") + " needs a cluster key (--key-file FILE, or key_file in the "
                                   "config file): frames are encrypted with it");
  }
  if (!(max_update_norm >= 0)) return bad("max_update_norm", ">= 0 (0 = no bound)");
  if (!(max_frames_per_second >= 0)) return bad("max_frames_per_second", ">= 0 (0 = no limit)");
  if (max_connections_per_host < 1) return bad("max_connections_per_host", ">= 1");
  if (!(intervals_per_epoch >= 0)) return bad("intervals_per_epoch", ">= 0 (0 = no pacing)");
  if (dead_after_failures < 1) return bad("dead_after_failures", ">= 1");
  if (!(fraction > 0 && fraction <= 1)) return bad("fraction", "in (0, 1]");
  if (min_nodes < 1) return bad("min_nodes", ">= 1");
  if (local_epochs < 1 || local_epochs > static_cast<int>(gossip::kMaxRoundEpochs)) {
    return bad("local_epochs", "in [1, " + std::to_string(gossip::kMaxRoundEpochs) + "]");
  }
  if (!(client_lr > 0 && client_lr < gossip::kMaxRoundLearningRate)) return bad("client_lr", "in (0, 1)");
  if (!(lr_decay > 0 && lr_decay <= 1)) return bad("lr_decay", "in (0, 1]");
  if (strategy != "fedavg" && strategy != "fednova" && strategy != "trimmed-mean") {
    return bad("strategy", "fedavg, fednova or trimmed-mean, got '" + strategy + "'");
  }
  return Status::Ok();
}

Status LoadConfigFile(const std::string& path, Config& c) {
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    std::ostringstream where;
    where << path << ":" << e.source().begin.line << ": " << e.description();
    return Status::InvalidArgument("cannot parse config file " + where.str());
  }
  Status keys = CheckKeys(root, {
      {"node", {"id", "listen", "data", "eval_data", "state_dir", "status_socket", "peers", "discovery",
                "cluster", "role", "key_file", "encrypt", "io_nice"}},
      {"training", {"hidden", "batch_size", "learning_rate", "lr_half_life_epochs", "min_learning_rate", "dropout",
                    "validation_fraction", "eval_interval_s", "checkpoint_interval_s", "class_weighting",
                    "intervals_per_epoch", "seed"}},
      {"gossip", {"interval_s", "exchange_timeout_s", "probe_interval_s", "dead_after_failures", "merge",
                  "merge_window", "clip_factor", "clip_window", "clip_drop_factor", "clip_radial_share", "max_update_norm",
                  "max_frames_per_second", "max_connections_per_host"}},
      {"coordinator", {"fraction", "min_nodes", "local_epochs", "client_lr", "lr_decay", "round_deadline_s",
                       "failover_timeout_s", "strategy", "coordinator_trains", "server_optimizer", "server_lr",
                       "server_momentum", "server_tau"}},
  });
  if (!keys.ok()) return Status::InvalidArgument(path + ": " + keys.message());
  for (const auto& [section, table] : root) {
    for (const auto& [key, unused] : *table.as_table()) {
      c.origins[std::string(key.str())] = std::string(key.str()) + " in " + path;
    }
  }

  std::string error;
  static const toml::table kEmpty;
  const toml::table& n = root["node"].as_table() ? *root["node"].as_table() : kEmpty;
  Read(n, "id", c.id, error);
  Read(n, "listen", c.listen, error);
  Read(n, "data", c.data, error);
  Read(n, "eval_data", c.eval_data, error);
  Read(n, "state_dir", c.state_dir, error);
  Read(n, "status_socket", c.status_socket, error);
  Read(n, "peers", c.peers, error);
  Read(n, "discovery", c.discovery, error);
  Read(n, "cluster", c.cluster, error);
  Read(n, "role", c.role, error);
  Read(n, "key_file", c.key_file, error);
  Read(n, "encrypt", c.encrypt, error);
  Read(n, "io_nice", c.io_nice, error);
  const toml::table& t = root["training"].as_table() ? *root["training"].as_table() : kEmpty;
  Read(t, "hidden", c.hidden, error);
  Read(t, "batch_size", c.batch_size, error);
  Read(t, "learning_rate", c.learning_rate, error);
  Read(t, "lr_half_life_epochs", c.lr_half_life_epochs, error);
  Read(t, "min_learning_rate", c.min_learning_rate, error);
  Read(t, "dropout", c.dropout, error);
  Read(t, "validation_fraction", c.validation_fraction, error);
  Read(t, "eval_interval_s", c.eval_interval_s, error);
  Read(t, "checkpoint_interval_s", c.checkpoint_interval_s, error);
  Read(t, "class_weighting", c.class_weighting, error);
  Read(t, "intervals_per_epoch", c.intervals_per_epoch, error);
  Read(t, "seed", c.seed, error);
  const toml::table& g = root["gossip"].as_table() ? *root["gossip"].as_table() : kEmpty;
  Read(g, "interval_s", c.gossip_interval_s, error);
  Read(g, "exchange_timeout_s", c.exchange_timeout_s, error);
  Read(g, "probe_interval_s", c.probe_interval_s, error);
  Read(g, "dead_after_failures", c.dead_after_failures, error);
  Read(g, "merge", c.merge, error);
  Read(g, "merge_window", c.merge_window, error);
  Read(g, "clip_factor", c.clip_factor, error);
  Read(g, "clip_window", c.clip_window, error);
  Read(g, "clip_drop_factor", c.clip_drop_factor, error);
  Read(g, "clip_radial_share", c.clip_radial_share, error);
  Read(g, "max_update_norm", c.max_update_norm, error);
  Read(g, "max_frames_per_second", c.max_frames_per_second, error);
  Read(g, "max_connections_per_host", c.max_connections_per_host, error);
  const toml::table& r = root["coordinator"].as_table() ? *root["coordinator"].as_table() : kEmpty;
  Read(r, "fraction", c.fraction, error);
  Read(r, "min_nodes", c.min_nodes, error);
  Read(r, "local_epochs", c.local_epochs, error);
  Read(r, "client_lr", c.client_lr, error);
  Read(r, "round_deadline_s", c.round_deadline_s, error);
  Read(r, "failover_timeout_s", c.failover_timeout_s, error);
  Read(r, "strategy", c.strategy, error);
  Read(r, "coordinator_trains", c.coordinator_trains, error);
  Read(r, "server_optimizer", c.server_optimizer, error);
  Read(r, "server_lr", c.server_lr, error);
  Read(r, "server_momentum", c.server_momentum, error);
  Read(r, "server_tau", c.server_tau, error);
  Read(r, "lr_decay", c.lr_decay, error);
  if (!error.empty()) return Status::InvalidArgument(path + ": " + error);
  return Status::Ok();
}

}  // namespace gl::node
