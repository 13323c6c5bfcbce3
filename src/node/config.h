// node::Config: every setting of `gossip-learner run`, with its documented default.
//
// Precedence: the defaults below < the config file (TOML, see config/node.toml, which
// documents every key) < command-line flags. Validate() names the first bad value as the
// user gave it (the flag typed, or the key and its file: see `origins`) and its valid range.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"

namespace gl::node {

// Where the packaged service's node serves its status (status_socket in the packaged
// /etc/gossip-learner/node.toml): `gossip-learner status` looks there when no node was started here.
inline constexpr const char* kServiceStatusSocket = "/run/gossip-learner/status.sock";

struct Config {
  // ---- [node] identity and wiring
  std::string id;                        // "" = "<hostname>-<port>" once the port is bound
  std::string listen = "0.0.0.0:7070";   // HOST:PORT for gossip TCP; port 0 picks a free port
  std::string data;                      // local training data (TSV or folder); required
  std::string eval_data;                 // optional common evaluation file (experiments)
  std::string state_dir = "gl-state";    // checkpoints and, by default, the status socket
  std::string status_socket;             // "" = <state_dir>/status.sock (0600, 0660 under umask 007)
  std::vector<std::string> peers;        // static peers, HOST:PORT
  std::string discovery = "both";        // mdns | static | both
  std::string cluster = "default";       // mDNS cluster name; nodes of other clusters are ignored
  std::string role = "node";             // node | coordinator
  std::string key_file;                  // cluster key (gossip-learner keygen); "" = run open, with a warning
  bool encrypt = false;                  // with key_file: encrypt frames too (every node the same)
  bool fresh = false;                    // ignore a checkpoint in state_dir
  int io_nice = 10;                      // added to the network thread's nice value (training keeps 0), [0, 19]

  // ---- [training]
  int hidden = 128;                      // GRU hidden size
  int batch_size = 32;
  double learning_rate = 0.02;           // Adam, at the start (see config/node.toml for why so high)
  double lr_half_life_epochs = 10;       // it halves every this many local epochs; 0 = constant
  double min_learning_rate = 1e-4;       // floor of that decay
  double dropout = 0.4;                  // on the GRU's last state while training; [0, 0.9]
  double validation_fraction = 0.1;      // of the local data, stratified, for self-evaluation
  double eval_interval_s = 10;           // how often validation (and eval_data) is scored; 0 = only at exit
  double checkpoint_interval_s = 30;     // how often the model is saved; 0 = only at exit
  bool class_weighting = false;          // weight the loss by inverse label frequency
  double intervals_per_epoch = 4;        // a local epoch spans at least this many gossip intervals; 0 = no pacing
  std::uint64_t seed = 1;                // data split, shuffling and initial weights

  // ---- [gossip]
  double gossip_interval_s = 3;          // push-pull exchange period (+-25% jitter); 0 = answer only
  double exchange_timeout_s = 5;         // a peer that does not answer within this has failed once
  double probe_interval_s = 1;           // liveness ping period; 0 = off
  int dead_after_failures = 3;           // consecutive failures before a peer is evicted
  std::string merge = "age-weighted";    // age-weighted | average | trimmed-mean (robust, see merge_window)
  int merge_window = 4;                  // trimmed-mean: latest models of this many distinct senders, [1, 32]
  double max_update_norm = 200;          // received models further (L2) from the local one than this and 4x its norm are refused; 0 = no bound
  double clip_factor = 1;                // received models beyond this x the median peer distance are pulled in; 0 = off
  int clip_window = 8;                   // distinct senders whose latest distances set that median, [3, 64]
  double clip_radial_share = 0.05;       // (received - local) along the local model: at most this x its norm; 0 = no cap
  double clip_drop_factor = 2;           // received models beyond this x the clip radius are not merged; 0 = never, else >= 1
  double max_frames_per_second = 200;    // per remote host, bursts of 2x; more are dropped; 0 = no limit
  int max_connections_per_host = 8;      // inbound connections open at once from one remote host; more are reset

  // ---- [coordinator] server-led Federated Averaging rounds
  double fraction = 1.0;                 // share of live nodes asked to train each round, (0, 1]
  int min_nodes = 2;                     // replies a round needs; fewer -> retried
  int local_epochs = 1;                  // E: local epochs per round
  double client_lr = 1e-2;               // participants' Adam learning rate in round 1 (then x lr_decay per round)
  double round_deadline_s = 600;         // a participant not done by then is left out of the round
  double failover_timeout_s = 15;        // nodes go back to gossip after the coordinator is silent this long
  std::string strategy = "fednova";      // fednova | fedavg | trimmed-mean
  bool coordinator_trains = false;       // the coordinator trains on its own data in each round too
  std::string server_optimizer = "sgd";  // how the global model follows the mean: sgd | adam (FedAdam)
  double server_lr = 0.5;                // server learning rate, (0, 10]; sgd 1 + momentum 0 = plain FedAvg
  double server_momentum = 0.5;          // sgd: FedAvgM server momentum in [0, 1)
  double server_tau = 1e-3;              // adam: adaptivity floor, > 0
  double lr_decay = 0.93;                // round r trains with client_lr x lr_decay^(r-1); (0, 1]

  // How the user gave a setting, by its TOML key: "--batch", or "batch_size in node.toml".
  // Filled by LoadConfigFile and the flag parser; a setting not in it kept its default.
  std::map<std::string, std::string> origins;

  std::string StatusSocketPath() const;
  Status Validate() const;
};

// A setting given in seconds as the duration the node's parts take (sub-millisecond part dropped).
inline std::chrono::milliseconds Ms(double seconds) {
  return std::chrono::milliseconds(static_cast<long long>(seconds * 1000));
}

// Reads a TOML config file into `config` (keys absent from the file keep their value).
// Unknown keys are an error, so that typos do not go unnoticed.
Status LoadConfigFile(const std::string& path, Config& config);

}  // namespace gl::node
