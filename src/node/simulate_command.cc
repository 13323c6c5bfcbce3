#include "node/simulate_command.h"

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "common/log.h"
#include "node/sim/simulation.h"

namespace gl::node {
namespace {

struct SimulateFlags {
  sim::SimulationOptions options;
  double latency_ms = 0;
  double bandwidth_mbit = 0;
  double learning_rate = 0.02;
  double dropout = 0.4;
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

int Run(SimulateFlags& f) {
  if (Status s = ParseChurn(f); !s.ok()) {
    std::cerr << "error: " << s.message() << "\n";
    return 1;
  }
  sim::SimulationOptions& o = f.options;
  o.links.latency = std::chrono::microseconds(static_cast<long long>(f.latency_ms * 1000));
  o.links.bytes_per_s = f.bandwidth_mbit * 1e6 / 8;
  o.training.trainer.learning_rate = static_cast<float>(f.learning_rate);
  o.training.trainer.dropout = static_cast<float>(f.dropout);
  o.training.learning_rate.initial = static_cast<float>(f.learning_rate);
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
  cmd->add_option("--seed", o.seed, "Shards, peers, churn; node i's model and shuffling use seed + i")
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
  cmd->add_option("--samples-per-s", o.training.samples_per_s,
                  "Virtual training speed of each node (default: a Raspberry Pi 4 core, bench/RESULTS.md)")
      ->capture_default_str();
  cmd->add_option("--peers", o.peers, "Static peers per node, random (capped at nodes - 1)")->capture_default_str();
  cmd->add_option("--gossip-interval-s", o.gossip_interval_s, "Seconds between two exchanges a node starts")
      ->capture_default_str();
  cmd->add_option("--probe-interval-s", o.probe_interval_s, "Seconds between liveness pings")->capture_default_str();
  cmd->add_option("--intervals-per-epoch", o.intervals_per_epoch, "A local epoch spans at least this many intervals")
      ->capture_default_str();
  cmd->add_option("--hidden", o.hidden, "GRU hidden size")->capture_default_str();
  cmd->add_option("--learning-rate", f->learning_rate, "Adam learning rate at the start (see --lr-half-life-epochs)")
      ->capture_default_str();
  cmd->add_option("--lr-half-life-epochs", o.training.learning_rate.half_life_epochs,
                  "The learning rate halves every this many local epochs; 0 = constant")
      ->capture_default_str();
  cmd->add_option("--smoothing-merges", o.training.smoothing_merges,
                  "Nodes are scored on an average of their models over about this many merges; 0 = raw")
      ->capture_default_str();
  cmd->add_option("--dropout", f->dropout, "Dropout on the GRU's last state")->capture_default_str();
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
  cmd->callback([f, &exit_code] { exit_code = Run(*f); });
}

}  // namespace gl::node
