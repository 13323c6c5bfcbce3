#include "node/simulate_command.h"

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "common/log.h"
#include "node/settings.h"
#include "node/sim/simulation.h"

namespace gl::node {
namespace {

// The sections of node.toml a simulation takes: every node's [training] and [gossip], and the
// round settings of rounds mode's coordinator; [node] (data, addresses, peers, keys) is the
// simulation's own business.
const std::vector<std::string> kSectionsTaken = {"training", "gossip", "coordinator"};

struct SimulateFlags {
  sim::SimulationOptions options;
  double latency_ms = 0;
  double bandwidth_mbit = 0;
  std::string config_file;
  std::vector<std::string> crashes, leaves, joins, partitions;
};

// The churn flags into options.churn; the first bad one as an error.
Status ParseChurn(SimulateFlags& f) {
  for (const auto& [texts, steps, flag] : {std::tuple{&f.crashes, &f.options.churn.crashes, "--crash"},
                                           std::tuple{&f.leaves, &f.options.churn.leaves, "--leave"},
                                           std::tuple{&f.joins, &f.options.churn.joins, "--join"}}) {
    for (const std::string& text : *texts) {
      Result<sim::ShareAt> step = sim::ParseShareAt(text, flag);
      if (!step.ok()) return step.status();
      steps->push_back(*step);
    }
  }
  for (const std::string& text : f.partitions) {
    Result<sim::Window> window = sim::ParseWindow(text, "--partition");
    if (!window.ok()) return window.status();
    f.options.churn.partitions.push_back(*window);
  }
  return Status::Ok();
}

// The node settings: --config's [training], [gossip] and [coordinator], then the flags, checked as
// `run` checks them.
Status ReadNodeSettings(const SimulateFlags& f, const SettingFlags& flags, Config& node) {
  if (!f.config_file.empty()) {
    if (Status s = LoadConfigFile(f.config_file, node, kSectionsTaken); !s.ok()) return s;
  }
  if (Status s = flags.Apply(node); !s.ok()) return s;
  return ValidateSettings(node);
}

int Run(SimulateFlags& f, const SettingFlags& flags) {
  sim::SimulationOptions& o = f.options;
  if (Status s = ReadNodeSettings(f, flags, o.node); !s.ok()) {
    std::cerr << "error: " << s.message() << "\n";
    return 2;
  }
  if (Status s = ParseChurn(f); !s.ok()) {
    std::cerr << "error: " << s.message() << "\n";
    return 1;
  }
  o.links.latency = std::chrono::microseconds(static_cast<long long>(f.latency_ms * 1000));
  o.links.bytes_per_s = f.bandwidth_mbit * 1e6 / 8;
  SetLogLevel(LogLevel::kError);  // thousands of engines would drown the progress in peer events
  Result<sim::Summary> summary = sim::RunSimulation(o, std::cout);
  if (!summary.ok()) {
    std::cerr << "error: " << summary.status().message() << "\n";
    return 1;
  }
  std::cout << "done: " << summary->nodes << " nodes, " << summary->mode << ", " << summary->virtual_s
            << " s virtual in " << summary->wall_s << " s wall; accuracy median " << 100 * summary->median_accuracy
            << "%, 10th percentile " << 100 * summary->p10_accuracy << "%, min " << 100 * summary->min_accuracy
            << "%; " << summary->mb_sent_per_node << " MB sent per node; peak RSS " << summary->peak_rss_mb
            << " MB; wrote " << o.out << "/curves.csv and " << o.out << "/summary.json\n";
  return 0;
}

}  // namespace

void AddSimulateCommand(CLI::App& app, int& exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "simulate",
      "Simulate N nodes in this process on a virtual clock, with the node's own engine, merge code and model; "
      "writes curves.csv and summary.json to --out (tools/report DIR plots them)");
  auto f = std::make_shared<SimulateFlags>();
  sim::SimulationOptions& o = f->options;
  cmd->add_option("--nodes", o.nodes, "Virtual nodes (at most one per name in --data)")->required();
  cmd->add_option("--data", o.data, "Training data (folder or TSV), split into the nodes' shards")->required();
  cmd->add_option("--scheme", o.scheme, "Sharding: iid | dirichlet")->capture_default_str();
  cmd->add_option("--alpha", o.alpha, "Dirichlet concentration; smaller = more skewed shards")->capture_default_str();
  cmd->add_option("--seed", o.seed,
                  "Shards, peers, churn, losses; node i's model and shuffling use seed + i, its engine a seed "
                  "mixed from both: one seed, one run")
      ->capture_default_str();
  cmd->add_option("--eval-data", o.eval_data, "Held-out file every node is scored on")->required();
  cmd->add_option("--out", o.out, "Folder for curves.csv and summary.json: new, empty, or an earlier run's")
      ->required();
  cmd->add_option("--mode", o.mode,
                  "gossip | rounds (a coordinator runs FedAvg rounds) | local (no communication) | central (one model on all the data); same shards for each")
      ->capture_default_str();
  cmd->add_option("--duration", o.duration_s, "Virtual seconds to simulate; 0 = until --epochs")->capture_default_str();
  cmd->add_option("--epochs", o.epochs, "Stop once the nodes' mean local epochs reach this (0 = no limit)")
      ->capture_default_str();
  cmd->add_option("--sample-every", o.sample_every_s, "Virtual seconds between two scorings of every node")
      ->capture_default_str();
  cmd->add_option("--samples-per-s", o.samples_per_s,
                  "Virtual training speed of each node (default: a Raspberry Pi 4 core, bench/RESULTS.md)")
      ->capture_default_str();
  cmd->add_option("--peers", o.peers, "Static peers per node, random (capped at nodes - 1)")->capture_default_str();
  cmd->add_option("--smoothing-merges", o.smoothing_merges,
                  "Nodes are scored on an average of the last ~this many peer models they merged; 0 = raw "
                  "(the node's is fixed at this default)")
      ->capture_default_str();
  cmd->add_option("--latency-ms", f->latency_ms, "One-way latency of every link")->capture_default_str();
  cmd->add_option("--bandwidth-mbit", f->bandwidth_mbit, "Bandwidth of every link in Mbit/s; 0 = unlimited")
      ->capture_default_str();
  cmd->add_option("--loss", o.links.loss, "Share of messages lost on every link, [0, 1)")->capture_default_str();
  cmd->add_option("--crash", f->crashes, "SHARE@SECONDS: that share of the nodes crashes then (repeatable)");
  cmd->add_option("--leave", f->leaves, "SHARE@SECONDS: that share of the nodes leaves then (repeatable)");
  cmd->add_option("--join", f->joins, "SHARE@SECONDS: that share of the nodes joins only then (repeatable)");
  cmd->add_option("--partition", f->partitions, "FROM-TO: the nodes split into two random halves from FROM to TO s");
  cmd->add_option("--online-share", o.churn.online_share, "Share of the time each node is online, (0, 1]")
      ->capture_default_str();
  cmd->add_option("--session", o.churn.session_s, "Mean online session in seconds (with --online-share < 1)")
      ->capture_default_str();
  cmd->add_option("--tick-ms", o.tick_ms, "Largest virtual step while gossip runs: timers fire at most this late")
      ->capture_default_str();
  cmd->add_option("--config", f->config_file,
                  "A node's TOML config file (config/node.toml): its [training] and [gossip] apply to every node, "
                  "flags override it; its [coordinator] round settings to rounds mode's coordinator; [node] is "
                  "skipped (the simulation sets data, addresses and peers)")
      ->check(CLI::ExistingFile);
  // --seed is the simulation's: the [training] seed (file or flag) has no effect here.
  auto flags = std::make_shared<SettingFlags>(*cmd, SettingScope{kSectionsTaken, {"seed"}});
  cmd->footer(
      "The flags of the groups \"Training settings\" and \"Gossip settings\" are `run`'s, with the same defaults; "
      "every simulated node takes them; those of \"Coordinator settings\" set rounds mode's coordinator. --seed is the simulation's (shards, peers, churn; node i's model and "
      "shuffling use seed + i): the [training] seed of --config is ignored. validation_fraction, eval_interval_s and "
      "checkpoint_interval_s have no effect: nodes are scored on --eval-data every --sample-every, and keep no files.");
  cmd->callback([f, flags, &exit_code] { exit_code = Run(*f, *flags); });
}

}  // namespace gl::node
