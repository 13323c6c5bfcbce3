#include "node/node_commands.h"

#include <filesystem>
#include <iomanip>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "common/atomic_file.h"
#include "common/log.h"
#include "node/config.h"
#include "node/node.h"
#include "node/prometheus_text.h"
#include "node/status_server.h"

namespace gl::node {
namespace {

// Binds a flag to a Config field (its TOML `key`) without letting CLI11's default overwrite a
// value that came from the config file: the flag is applied only when it was given, and then
// recorded in Config::origins, so that an error names the flag the user typed.
class FlagOverrides {
 public:
  template <typename T>
  void Add(CLI::App* app, const std::string& name, const std::string& key, T Config::*field, const std::string& help) {
    auto value = std::make_shared<T>();
    CLI::Option* option = app->add_option(name, *value, help);
    apply_.push_back([option, value, field, name, key](Config& c) {
      if (option->count() == 0) return;
      c.*field = *value;
      c.origins[key] = name;
    });
  }
  void AddFlag(CLI::App* app, const std::string& name, const std::string& key, bool Config::*field,
               const std::string& help) {
    CLI::Option* option = app->add_flag(name, help);
    apply_.push_back([option, field, name, key](Config& c) {
      if (option->count() == 0) return;
      c.*field = true;
      c.origins[key] = name;
    });
  }
  void Apply(Config& c) const {
    for (const auto& apply : apply_) apply(c);
  }

 private:
  std::vector<std::function<void(Config&)>> apply_;
};

void AddRun(CLI::App& app, int& exit_code) {
  CLI::App* run = app.add_subcommand("run", "Run a node: train on local data and gossip weights with peers");
  auto config_file = std::make_shared<std::string>();
  auto verbose = std::make_shared<bool>(false);
  auto flags = std::make_shared<FlagOverrides>();
  run->add_option("--config", *config_file, "TOML config file (see config/node.toml); flags override it")
      ->check(CLI::ExistingFile);
  flags->Add(run, "--id", "id", &Config::id, "Node id (default: <hostname>-<port>)");
  flags->Add(run, "--listen", "listen", &Config::listen,
             "HOST:PORT for gossip; port 0 picks a free port (default 0.0.0.0:7070)");
  flags->Add(run, "--data", "data", &Config::data, "Local training data: TSV shard or folder of <Language>.txt");
  flags->Add(run, "--eval-data", "eval_data", &Config::eval_data,
             "Common evaluation file, scored periodically (experiments)");
  flags->Add(run, "--peer", "peers", &Config::peers, "Static peer HOST:PORT (repeatable)");
  flags->Add(run, "--state-dir", "state_dir", &Config::state_dir,
             "This node's model.bin, checkpoints and status socket; one node per dir (default ./gl-state)");
  flags->Add(run, "--status-socket", "status_socket", &Config::status_socket,
             "Status socket path (default <state-dir>/status.sock)");
  flags->Add(run, "--discovery", "discovery", &Config::discovery, "mdns | static | both (default both)");
  flags->Add(run, "--cluster", "cluster", &Config::cluster, "Cluster name; nodes of other clusters are ignored");
  flags->Add(run, "--role", "role", &Config::role, "node | coordinator");
  flags->Add(run, "--hidden", "hidden", &Config::hidden, "GRU hidden size (default 128)");
  flags->Add(run, "--batch", "batch_size", &Config::batch_size, "Minibatch size (default 32)");
  flags->Add(run, "--lr", "learning_rate", &Config::learning_rate, "Adam learning rate at the start (default 0.02)");
  flags->Add(run, "--lr-half-life", "lr_half_life_epochs", &Config::lr_half_life_epochs,
             "Local epochs over which the learning rate halves (default 10); 0 = constant");
  flags->Add(run, "--min-lr", "min_learning_rate", &Config::min_learning_rate,
             "Floor of the learning-rate decay (default 0.0001)");
  flags->Add(run, "--dropout", "dropout", &Config::dropout,
             "Dropout on the GRU's last state while training (default 0.4)");
  flags->Add(run, "--seed", "seed", &Config::seed, "Seed for split, shuffling and initial weights");
  flags->Add(run, "--gossip-interval", "interval_s", &Config::gossip_interval_s,
             "Seconds between exchanges; 0 = answer only");
  flags->Add(run, "--eval-interval", "eval_interval_s", &Config::eval_interval_s, "Seconds between evaluations");
  flags->Add(run, "--checkpoint-interval", "checkpoint_interval_s", &Config::checkpoint_interval_s,
             "Seconds between checkpoints");
  flags->Add(run, "--merge", "merge", &Config::merge, "age-weighted | average | trimmed-mean");
  flags->Add(run, "--merge-window", "merge_window", &Config::merge_window,
             "trimmed-mean: distinct senders kept (default 4)");
  flags->Add(run, "--clip-factor", "clip_factor", &Config::clip_factor,
             "Pull in received models beyond this x the median peer distance; 0 = off (default 1)");
  flags->Add(run, "--clip-drop-factor", "clip_drop_factor", &Config::clip_drop_factor,
             "Do not merge received models beyond this x the clip radius; 0 = never (default 2)");
  flags->Add(run, "--clip-radial-share", "clip_radial_share", &Config::clip_radial_share,
             "A merge shrinks or grows the model by at most about this share of its norm; 0 = no cap (default 0.05)");
  flags->Add(run, "--key-file", "key_file", &Config::key_file,
             "Cluster key (gossip-learner keygen); without one the node runs open");
  flags->AddFlag(run, "--encrypt", "encrypt", &Config::encrypt,
                 "Encrypt frames with the cluster key (needs --key-file; every node the same)");
  flags->Add(run, "--io-nice", "io_nice", &Config::io_nice,
             "Added to the network thread's nice value, so a flood of frames cannot take training's CPU (default 10)");
  flags->Add(run, "--max-update-norm", "max_update_norm", &Config::max_update_norm,
             "Refuse received models further than this and 4x the local norm (L2) from the local one; 0 = no bound "
             "(default 200)");
  flags->Add(run, "--max-frames-per-second", "max_frames_per_second", &Config::max_frames_per_second,
             "Frames each remote host may send per second; 0 = no limit (default 200)");
  flags->Add(run, "--max-connections-per-host", "max_connections_per_host", &Config::max_connections_per_host,
             "Inbound connections one remote host may hold open at once (default 8)");
  flags->Add(run, "--intervals-per-epoch", "intervals_per_epoch", &Config::intervals_per_epoch,
             "A local epoch spans at least this many gossip intervals (default 4; 0 = no pacing)");
  flags->AddFlag(run, "--fresh", "fresh", &Config::fresh, "Ignore the checkpoint in the state dir");
  flags->Add(run, "--fraction", "fraction", &Config::fraction,
             "Coordinator: share of live nodes in each round (default 1)");
  flags->Add(run, "--min-nodes", "min_nodes", &Config::min_nodes, "Coordinator: replies a round needs (default 2)");
  flags->Add(run, "--local-epochs", "local_epochs", &Config::local_epochs,
             "Coordinator: local epochs per round (default 1)");
  flags->Add(run, "--client-lr", "client_lr", &Config::client_lr,
             "Coordinator: participants' learning rate in round 1 (default 0.01; --lr is for gossip training)");
  flags->Add(run, "--round-deadline", "round_deadline_s", &Config::round_deadline_s,
             "Seconds a round waits for replies (default 600)");
  flags->Add(run, "--failover-timeout", "failover_timeout_s", &Config::failover_timeout_s,
             "Seconds without a coordinator before nodes gossip again (default 15)");
  flags->Add(run, "--strategy", "strategy", &Config::strategy,
             "Coordinator: fednova | fedavg | trimmed-mean (default fednova)");
  flags->Add(run, "--server-optimizer", "server_optimizer", &Config::server_optimizer,
             "Coordinator: sgd | adam (FedAdam) (default sgd)");
  flags->Add(run, "--server-lr", "server_lr", &Config::server_lr, "Coordinator: server learning rate (default 0.5)");
  flags->Add(run, "--server-momentum", "server_momentum", &Config::server_momentum,
             "Coordinator: server momentum (default 0.5)");
  flags->Add(run, "--server-tau", "server_tau", &Config::server_tau,
             "Coordinator: FedAdam adaptivity floor (default 0.001)");
  flags->Add(run, "--lr-decay", "lr_decay", &Config::lr_decay,
             "Coordinator: round r trains with client lr x decay^(r-1) (default 0.93; 1 = constant)");
  flags->AddFlag(run, "--coordinator-trains", "coordinator_trains", &Config::coordinator_trains,
                 "Coordinator: train on its own data in each round too");
  run->add_flag("-v,--verbose", *verbose, "Debug logging");
  run->footer(
      "SIGTERM, SIGINT and SIGHUP (closed terminal, SSH logout) save a checkpoint and stop the node; start it under "
      "nohup to keep it running after you log out.\nThe model whose accuracy the node reports is "
      "<state-dir>/model.bin: `gossip-learner eval --model <state-dir>/model.bin --data FILE` scores it.");
  run->callback([config_file, verbose, flags, &exit_code] {
    HoldStopSignals();  // a signal during start-up then stops the node once it runs, not mid-way
    if (*verbose) SetLogLevel(LogLevel::kDebug);
    Config config;
    if (!config_file->empty()) {
      Status s = LoadConfigFile(*config_file, config);
      if (!s.ok()) {
        std::cerr << "error: " << s.message() << "\n";
        exit_code = 2;
        return;
      }
    }
    flags->Apply(config);
    Result<std::unique_ptr<Node>> node = Node::Create(config);
    if (!node.ok()) {
      std::cerr << "error: " << node.status().message() << "\n";
      exit_code = 1;
      return;
    }
    exit_code = (*node)->Run();
  });
}

void PrintSummary(const nlohmann::json& s) {
  auto pct = [](const nlohmann::json& m) {
    std::ostringstream out;
    if (m.is_null()) return std::string("-");
    out << std::fixed << std::setprecision(1) << 100 * m.value("accuracy", 0.0) << "% (F1 "
        << std::setprecision(3) << m.value("macro_f1", 0.0) << ")";
    return out.str();
  };
  std::cout << "node " << s.value("id", "?") << " [" << s.value("role", "?") << "] on " << s.value("listen", "?")
            << ", up " << static_cast<long>(s.value("uptime_s", 0.0)) << " s\n"
            << "  model  age " << s.value("model_age", 0) << ", epochs " << s.value("epochs", 0) << ", loss "
            << std::setprecision(4) << s.value("train_loss", 0.0) << ", "
            << static_cast<long>(s.value("samples_per_s", 0.0)) << " samples/s\n"
            << "  accuracy  validation " << pct(s["validation"]) << ", eval " << pct(s["eval"]) << "\n";
  if (s.contains("scored_model")) {
    const nlohmann::json& m = s["scored_model"];
    std::cout << "    of " << m.value("path", "?") << " (" << m.value("weights", "?") << " weights, age "
              << m.value("age", 0) << (m.value("saved", false) ? ")" : "; NOT saved, see the node's log)")
              << ": the model to take home\n";
  }
  std::cout
            << "  gossip  " << s.value("exchanges_ok", 0) << " exchanges ok, " << s.value("exchanges_failed", 0)
            << " failed, " << s.value("rejected_updates", 0) << " updates rejected, "
            << s.value("bytes_sent", 0) / 1024 << " KiB sent, " << s.value("bytes_received", 0) / 1024
            << " KiB received\n";
  if (s.contains("round")) {  // a coordinator
    std::cout << "  rounds  " << s.value("round", 0) << " done, last with " << s["participants"].size()
              << " participant(s), " << s["dropped"].size() << " dropped; global " << pct(s["global"]) << " on "
              << s.value("global_on", "?") << "; overhead " << static_cast<long>(s.value("mean_overhead_ms", 0.0))
              << " ms/round\n";
  } else if (s.contains("last_round_served")) {
    std::cout << "  mode  " << s.value("mode", "?") << ", coordinator '" << s.value("coordinator", "")
              << "', last round served " << s.value("last_round_served", 0) << "\n";
  }
  for (const auto& p : s["peers"]) {
    std::cout << "  peer " << std::left << std::setw(22) << p.value("address", "?") << std::setw(18)
              << p.value("id", "") << std::setw(12) << p.value("state", "?") << "found by "
              << p["found_by"].dump() << ", " << p.value("exchanges", 0) << " exchanges, "
              << p.value("failures", 0) << " failures\n";
  }
}

// The status document from --socket, else <--state-dir>/status.sock; with neither, from the
// node started here (./gl-state) if there is one, else from the packaged service's.
Result<std::string> ReadStatusOfChosenNode(const std::string& socket, const std::string& state_dir) {
  Config c;
  c.status_socket = socket;
  if (!state_dir.empty()) c.state_dir = state_dir;
  const std::string path = c.StatusSocketPath();
  std::error_code ec;
  if (!socket.empty() || !state_dir.empty() || std::filesystem::exists(path, ec)) return ReadStatus(path);
  Result<std::string> service = ReadStatus(kServiceStatusSocket);
  if (service.ok()) return service;
  return Status::Unavailable("no node in ./" + c.state_dir + ", and " + service.status().message());
}

// `status --prometheus [--out FILE]`: the exposition of the status, or of gossip_learner_up 0
// when the node does not answer (exit 1, so a timer's failed run shows up too).
int ExportPrometheus(const Result<std::string>& status_text, const std::string& out) {
  std::string exposition = PrometheusNodeDown();
  int code = 1;
  if (!status_text.ok()) {
    std::cerr << "error: " << status_text.status().message() << "\n";
  } else {
    nlohmann::json doc = nlohmann::json::parse(status_text.value(), nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) {
      std::cerr << "error: the node sent a status that is not JSON\n";
    } else {
      exposition = PrometheusText(doc);
      code = 0;
    }
  }
  if (out.empty()) {
    std::cout << exposition;
    return code;
  }
  Status written = WriteFileAtomically(out, exposition);
  if (!written.ok()) {
    std::cerr << "error: " << written.message() << "\n";
    return 1;
  }
  return code;
}

void AddStatus(CLI::App& app, int& exit_code) {
  CLI::App* status = app.add_subcommand("status", "Show a running node's status");
  auto socket = std::make_shared<std::string>();
  auto state_dir = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  status->add_option("--socket", *socket, "Status socket (default <state-dir>/status.sock)");
  status->add_option("--state-dir", *state_dir,
                     "The node's state dir (default ./gl-state, else the service's " + std::string(kServiceStatusSocket) +
                         ")");
  CLI::Option* json_flag = status->add_flag("--json", *json, "Print the raw JSON document");
  auto prometheus = std::make_shared<bool>(false);
  auto out = std::make_shared<std::string>();
  CLI::Option* prometheus_flag =
      status->add_flag("--prometheus", *prometheus,
                       "Print Prometheus text exposition (gossip_learner_up 0 when the node does not answer)")
          ->excludes(json_flag);
  status->add_option("--out", *out,
                     "With --prometheus: replace FILE atomically instead of printing (node_exporter textfile collector)")
      ->needs(prometheus_flag);
  status->callback([socket, state_dir, json, prometheus, out, &exit_code] {
    Result<std::string> text = ReadStatusOfChosenNode(*socket, *state_dir);
    if (*prometheus) {
      exit_code = ExportPrometheus(text, *out);
      return;
    }
    if (!text.ok()) {
      std::cerr << "error: " << text.status().message() << "\n";
      exit_code = 1;
      return;
    }
    if (*json) {
      std::cout << *text;
      exit_code = 0;
      return;
    }
    nlohmann::json doc = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) {
      std::cerr << "error: the node sent a status that is not JSON\n";
      exit_code = 1;
      return;
    }
    PrintSummary(doc);
    exit_code = 0;
  });
}

}  // namespace

void AddNodeCommands(CLI::App& app, int& exit_code) {
  AddRun(app, exit_code);
  AddStatus(app, exit_code);
}

}  // namespace gl::node
