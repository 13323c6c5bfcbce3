// node::Config: every setting of `gossip-learner run`, with its default.
//
// What each setting means, its TOML key, its flag and its valid range are declared once, in
// node/settings_table.cc; the config file reader, the flags, Validate() and the check of
// config/node.toml all come from there (node/settings.h).
// Precedence: the defaults below < the config file (TOML, config/node.toml) < command-line flags.
// Validate() names the first bad value as the user gave it (the flag typed, or the file and key:
// see `origins`) and its valid range.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "node/setting_choices.h"

namespace gl::node {

// Where the packaged service's node serves its status (status_socket in the packaged
// /etc/gossip-learner/node.toml): `gossip-learner status` looks there when no node was started here.
inline constexpr const char* kServiceStatusSocket = "/run/gossip-learner/status.sock";

// int8 first: a quarter of fp32's bytes for the same accuracy (bench/RESULTS.md).
inline std::vector<std::string> DefaultCodecs() { return {"int8", "fp16", "fp32"}; }

struct Config {
  // ---- [node] identity and wiring
  std::string id;
  std::string listen = "0.0.0.0:7070";
  std::string data;
  std::string eval_data;
  std::string state_dir = "gl-state";
  std::string status_socket;
  std::vector<std::string> peers;
  DiscoveryMode discovery = DiscoveryMode::kBoth;
  std::string cluster = "default";
  Role role = Role::kNode;
  std::string key_file;
  bool encrypt = false;
  int io_nice = 10;
  bool fresh = false;  // command line only

  // ---- [training]
  int hidden = 128;
  int batch_size = 32;
  double learning_rate = 0.02;
  double lr_half_life_epochs = 10;
  double min_learning_rate = 1e-4;
  double dropout = 0.4;
  double consensus_pull = 0.0025;
  double validation_fraction = 0.1;
  double eval_interval_s = 10;
  double checkpoint_interval_s = 30;
  bool class_weighting = false;
  double intervals_per_epoch = 2;
  int min_epoch_samples = 0;
  std::uint64_t seed = 1;

  // ---- [gossip]
  double gossip_interval_s = 3;
  double interval_stretch_start = 3;
  double interval_stretch_max = 1;
  double exchange_timeout_s = 5;
  double probe_interval_s = 1;
  int dead_after_failures = 3;
  FlowChoice flow_control = FlowChoice::kPushPull;
  int token_capacity = 10;
  int token_reactivity = 5;
  MergeChoice merge = MergeChoice::kAgeWeighted;
  int merge_window = 4;
  double max_update_norm = 200;
  double clip_factor = 1;
  int clip_window = 8;
  double clip_radial_share = 0.05;
  double clip_drop_factor = 2;
  double max_frames_per_second = 200;
  int max_connections_per_host = 8;
  std::vector<std::string> codecs = DefaultCodecs();
  double max_upload_kbps = 0;

  // ---- [coordinator] server-led Federated Averaging rounds
  double fraction = 1.0;
  int min_nodes = 2;
  int local_epochs = 1;
  double client_lr = 1e-2;
  ClientOptimizerChoice client_optimizer = ClientOptimizerChoice::kAdam;
  double round_deadline_s = 600;
  double failover_timeout_s = 15;
  StrategyChoice strategy = StrategyChoice::kFedNova;
  bool coordinator_trains = false;
  ServerOptimizerChoice server_optimizer = ServerOptimizerChoice::kSgd;
  double server_lr = 0.5;
  double server_momentum = 0.5;
  double server_tau = 1e-3;
  double lr_decay = 0.93;

  // How the user gave a setting, by its key: "--batch-size" (the flag typed), or
  // "node.toml: batch_size" (the file and key). A setting not in it kept its default.
  std::map<std::string, std::string> origins;

  std::string StatusSocketPath() const;
  // Every setting in its range (whatever the role), then the rules that tie settings together.
  Status Validate() const;
};

// A setting given in seconds as the duration the node's parts take (sub-millisecond part dropped).
inline std::chrono::milliseconds Ms(double seconds) {
  return std::chrono::milliseconds(static_cast<long long>(seconds * 1000));
}

}  // namespace gl::node
