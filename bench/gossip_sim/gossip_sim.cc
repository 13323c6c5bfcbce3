// gossip_sim: the training dynamics of an N-node gossip cluster in one process, in virtual
// time, with the node's own model, MergePolicy and parameter smoothing (no sockets, no
// waiting). One time unit is a gossip interval: in each, every node trains 1/intervals_per_epoch
// of its local epoch (epoch pacing) in small slices, and every node starts one push-pull
// exchange with a uniformly random other node, spread over the interval. A tuning tool for
// settings that the real cluster (bench/cluster/run.py accuracy) then confirms.
//
//   gossip_sim --shards DIR --eval FILE [--intervals 720] [--lr 3e-3] [--lr-half-life 0] ...
// DIR holds node-0.tsv ... node-(N-1).tsv as `gossip-learner split` writes them.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "common/log.h"
#include "gossip/merge/merge_policy.h"
#include "gossip/wire/codec.h"
#include "gossip/wire/model_codec.h"
#include "nn/dataset.h"
#include "nn/model.h"
#include "nn/split.h"
#include "node/learning_rate.h"
#include "node/parameter_ema.h"
#include "node/training_loop.h"

namespace {

struct SimOptions {
  std::string shards_dir;
  std::string eval_path;
  int intervals = 720;
  int eval_every = 60;
  double intervals_per_epoch = 2;
  int slices_per_interval = 8;
  int hidden = 128;
  int batch_size = 32;
  float dropout = 0.4f;  // defaults as the node's (config/node.toml)
  std::size_t smoothing_merges = gl::node::TrainingLoopOptions{}.smoothing_merges;
  gl::node::LearningRateSchedule schedule{0.02f, 10, 1e-4f};
  std::uint64_t seed = 1;
  // The node's MergePolicy, with the node's screen (max_update_norm 200) but no bounds
  // (clip_factor 0) unless given.
  gl::gossip::MergePolicyOptions merge = [] {
    gl::gossip::MergePolicyOptions m;
    m.clip_factor = 0;
    m.clip_drop_factor = 0;
    m.clip_radial_share = 0;
    return m;
  }();
  // A poisoner (the last node) when either is > 0: every model it sends is the receiver's
  // own plus random noise of L2 norm poison_norm, times poison_scale (if != 0), with an age
  // of 10^9.
  double poison_norm = 0;
  double poison_scale = 0;
  gl::gossip::ModelCodec codec = gl::gossip::ModelCodec::kFp32;  // of exchanged models, as the node frames them
};

struct SimNode {
  std::unique_ptr<gl::nn::Model> model;
  gl::nn::Dataset train;
  gl::node::ParameterEma smoothed{0};
  std::vector<std::size_t> order;
  std::size_t cursor = 0;    // next position in `order`
  double batch_credit = 0;   // minibatches owed in the current slice (fractional)
  std::uint64_t age = 0;
  std::uint64_t epochs = 0;
  std::mt19937_64 rng;
  std::optional<gl::gossip::MergePolicy> merge;  // set by MakeNodes
  bool poisoner = false;
  std::uint64_t bytes_sent = 0;  // model frames, header included
};

std::vector<SimNode> MakeNodes(const SimOptions& o) {
  std::vector<SimNode> nodes;
  for (int i = 0;; ++i) {
    const std::string path = o.shards_dir + "/node-" + std::to_string(i) + ".tsv";
    if (!std::filesystem::exists(path)) break;
    auto shard = gl::nn::LoadDataset(path);
    if (!shard.ok()) throw std::runtime_error(shard.status().ToString());
    const std::uint64_t seed = o.seed + i;
    SimNode node;
    node.train = gl::nn::TrainValidationSplit(*shard, 0.1, seed).first;
    gl::nn::ModelOptions mo;
    mo.hidden_size = o.hidden;
    mo.seed = seed;
    auto model = gl::nn::Model::Create(mo);
    if (!model.ok()) throw std::runtime_error(model.status().ToString());
    node.model = std::move(*model);
    node.smoothed = gl::node::ParameterEma(o.smoothing_merges);
    node.order.resize(node.train.examples.size());
    std::iota(node.order.begin(), node.order.end(), 0);
    node.rng.seed(seed);
    std::shuffle(node.order.begin(), node.order.end(), node.rng);
    node.merge.emplace(o.merge);
    nodes.push_back(std::move(node));
  }
  if (nodes.size() < 2) throw std::runtime_error("need at least node-0.tsv and node-1.tsv in " + o.shards_dir);
  nodes.back().poisoner = o.poison_norm > 0 || o.poison_scale != 0;
  return nodes;
}

void TrainBatches(SimNode& node, double batches, const SimOptions& o) {
  node.batch_credit += batches;
  std::vector<gl::nn::Example> batch;
  while (node.batch_credit >= 1) {
    node.batch_credit -= 1;
    if (node.cursor >= node.order.size()) {  // epoch boundary: new learning rate, new order
      ++node.epochs;
      node.cursor = 0;
      std::shuffle(node.order.begin(), node.order.end(), node.rng);
    }
    gl::nn::TrainerOptions trainer;
    trainer.dropout = o.dropout;
    trainer.learning_rate = o.schedule.At(node.epochs);
    node.model->SetTrainerOptions(trainer);
    batch.clear();
    const std::size_t end = std::min(node.order.size(), node.cursor + o.batch_size);
    for (std::size_t k = node.cursor; k < end; ++k) batch.push_back(node.train.examples[node.order[k]]);
    node.cursor = end;
    node.model->TrainBatch(batch);
    node.age += batch.size();
  }
}

gl::gossip::ModelSnapshot Sent(SimNode& from, const SimNode& to, const SimOptions& o) {
  if (!from.poisoner) return {from.model->Signature(), from.model->GetParameters(), from.age, from.train.examples.size()};
  std::vector<float> params = to.model->GetParameters();
  std::normal_distribution<double> gauss;
  std::vector<double> noise(params.size());
  double norm = 0;
  for (double& v : noise) {
    v = gauss(from.rng);
    norm += v * v;
  }
  const double noise_scale = o.poison_norm / std::sqrt(norm);
  const double model_scale = o.poison_scale != 0 ? o.poison_scale : 1.0;
  for (std::size_t k = 0; k < params.size(); ++k) {
    params[k] = static_cast<float>(model_scale * (params[k] + noise_scale * noise[k]));
  }
  return {to.model->Signature(), std::move(params), 1000000000, from.train.examples.size()};
}

// What the node does with a received model: its MergePolicy's screen, bounds and rule, and
// the remote model as merged (bounded) into the scored average. Returns the merged model.
gl::gossip::ModelSnapshot Received(SimNode& to, int from_index, gl::gossip::ModelSnapshot remote) {
  gl::gossip::ModelSnapshot local{to.model->Signature(), to.model->GetParameters(), to.age, to.train.examples.size()};
  std::vector<gl::gossip::ReceivedModel> offers;
  offers.push_back({std::to_string(from_index), std::move(remote)});
  std::vector<std::vector<float>> merged_models;
  to.merge->Merge(std::move(offers), local, &merged_models);
  for (const std::vector<float>& peer_model : merged_models) to.smoothed.Add(peer_model);
  return local;
}

// The model as its receiver gets it: framed in the codec as a node frames it, then decoded;
// the frame's bytes count as the sender's.
gl::gossip::ModelSnapshot OverTheWire(gl::gossip::ModelSnapshot model, SimNode& sender, const SimOptions& o) {
  const gl::gossip::Frame frame = gl::gossip::EncodeMessage(gl::gossip::ExchangeRequest{"sim", std::move(model), o.codec});
  sender.bytes_sent += gl::gossip::kFrameHeaderSize + frame.body.size();
  auto decoded = gl::gossip::DecodeMessage<gl::gossip::ExchangeRequest>(frame);
  if (!decoded.ok()) throw std::runtime_error("own frame did not decode: " + decoded.status().ToString());
  return std::move(decoded->model);
}

// Push-pull: both sides merge the other's model as it was before the exchange.
void Exchange(std::vector<SimNode>& nodes, int a_index, int b_index, const SimOptions& o) {
  SimNode &a = nodes[a_index], &b = nodes[b_index];
  gl::gossip::ModelSnapshot to_a = OverTheWire(Sent(b, a, o), b, o), to_b = OverTheWire(Sent(a, b, o), a, o);
  for (auto [node, index, remote] : {std::tuple{&a, b_index, &to_a}, std::tuple{&b, a_index, &to_b}}) {
    if (node->poisoner) continue;
    gl::gossip::ModelSnapshot merged = Received(*node, index, std::move(*remote));
    (void)node->model->SetParameters(merged.params);
    node->age = merged.age;
  }
}

void Report(int interval, std::vector<SimNode>& nodes, const gl::nn::Dataset& eval, const SimOptions& o,
            double started_s) {
  std::printf("interval %5d  epoch %4llu  eval acc %%:", interval, static_cast<unsigned long long>(nodes[0].epochs));
  double lo = 1, sum = 0;
  std::vector<float> consensus;
  std::uint64_t refused = 0, clipped = 0, dropped = 0, bytes_sent = 0;
  for (SimNode& node : nodes) {
    if (node.poisoner) continue;
    refused += node.merge->stats().refused();
    clipped += node.merge->stats().clipped;
    dropped += node.merge->stats().dropped;
    bytes_sent += node.bytes_sent;
    const std::vector<float> raw = node.model->GetParameters();
    if (!node.smoothed.empty()) (void)node.model->SetParameters(node.smoothed.value());
    const std::vector<float> scored = node.model->GetParameters();
    if (consensus.empty()) consensus.assign(scored.size(), 0.0f);
    for (std::size_t k = 0; k < scored.size(); ++k) consensus[k] += scored[k];
    const double acc = node.model->Evaluate(eval).accuracy;
    (void)node.model->SetParameters(raw);
    std::printf(" %5.1f", 100 * acc);
    lo = std::min(lo, acc);
    sum += acc;
  }
  // The mean of the nodes' scored models: how good the cluster's consensus is, apart from
  // how far each node has drifted from it.
  const std::size_t honest = nodes.size() - (nodes.back().poisoner ? 1 : 0);
  for (float& v : consensus) v /= honest;
  const std::vector<float> raw = nodes[0].model->GetParameters();
  (void)nodes[0].model->SetParameters(consensus);
  const double consensus_acc = nodes[0].model->Evaluate(eval).accuracy;
  (void)nodes[0].model->SetParameters(raw);
  const double now = std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  std::printf("   min %5.1f  mean %5.1f  consensus %5.1f  lr %.2e  refused %llu clipped %llu dropped %llu  "
              "MB sent/node %.2f  (%.0f s)\n",
              100 * lo,
              100 * sum / honest, 100 * consensus_acc, o.schedule.At(nodes[0].epochs),
              static_cast<unsigned long long>(refused), static_cast<unsigned long long>(clipped),
              static_cast<unsigned long long>(dropped), static_cast<double>(bytes_sent) / 1e6 / static_cast<double>(honest),
              now - started_s);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  SimOptions o;
  CLI::App app{"Gossip-learning dynamics of N nodes in one process, in virtual time"};
  app.add_option("--shards", o.shards_dir, "Folder of node-<i>.tsv shards")->required();
  app.add_option("--eval", o.eval_path, "Common held-out TSV file")->required();
  app.add_option("--intervals", o.intervals, "Gossip intervals to simulate")->capture_default_str();
  app.add_option("--eval-every", o.eval_every, "Intervals between reports")->capture_default_str();
  app.add_option("--intervals-per-epoch", o.intervals_per_epoch, "Epoch pacing")->capture_default_str();
  app.add_option("--hidden", o.hidden)->capture_default_str();
  app.add_option("--batch-size", o.batch_size)->capture_default_str();
  app.add_option("--dropout", o.dropout)->capture_default_str();
  app.add_option("--smoothing-merges", o.smoothing_merges, "Score an EMA of the last ~this many peer models merged, as the node does; 0 = raw")
      ->capture_default_str();
  const std::map<std::string, gl::gossip::MergeRule> rules{{"age-weighted", gl::gossip::MergeRule::kAgeWeighted},
                                                           {"average", gl::gossip::MergeRule::kAverage},
                                                           {"trimmed-mean", gl::gossip::MergeRule::kTrimmedMean}};
  app.add_option("--merge", o.merge.rule, "age-weighted | average | trimmed-mean")
      ->transform(CLI::CheckedTransformer(rules))
      ->default_str("age-weighted");
  app.add_option("--merge-window", o.merge.trimmed_mean_window, "trimmed-mean: distinct senders kept")
      ->capture_default_str();
  app.add_option("--lr", o.schedule.initial)->capture_default_str();
  app.add_option("--lr-half-life", o.schedule.half_life_epochs, "Local epochs per halving; 0 = constant")
      ->capture_default_str();
  app.add_option("--lr-min", o.schedule.minimum)->capture_default_str();
  app.add_option("--seed", o.seed)->capture_default_str();
  app.add_option("--max-update-norm", o.merge.max_update_norm)->capture_default_str();
  app.add_option("--clip-factor", o.merge.clip_factor, "Clip received models to this x the median distance; 0 = off")
      ->capture_default_str();
  app.add_option("--clip-window", o.merge.clip_window, "Distinct senders whose distances set the clip radius")
      ->capture_default_str();
  app.add_option("--clip-drop", o.merge.clip_drop_factor, "Do not merge models beyond this x the clip radius; 0 = never")
      ->capture_default_str();
  app.add_option("--radial-cap", o.merge.clip_radial_share, "Cap (received - local) along the local model at this x its norm; 0 = off")
      ->capture_default_str();
  app.add_option("--poison-norm", o.poison_norm,
                 "> 0: the last node is a poisoner sending the receiver's model plus noise of this norm")
      ->capture_default_str();
  app.add_option("--poison-scale", o.poison_scale, "!= 0: the last node is a poisoner sending the receiver's model x this")
      ->capture_default_str();
  std::string codec = "fp32";
  app.add_option("--codec", codec, "Codec of exchanged models: fp32 | fp16 | int8 (gossip/wire/model_codec.h)")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (auto parsed = gl::gossip::ParseCodec(codec)) {
    o.codec = *parsed;
  } else {
    std::fprintf(stderr, "--codec %s: use fp32, fp16 or int8\n", codec.c_str());
    return 1;
  }

  const double started_s = std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  auto eval = gl::nn::LoadDataset(o.eval_path);
  if (!eval.ok()) {
    std::fprintf(stderr, "%s\n", eval.status().ToString().c_str());
    return 1;
  }
  if (gl::Status valid = o.merge.Validate(); !valid.ok()) {
    std::fprintf(stderr, "%s\n", valid.ToString().c_str());
    return 2;
  }
  gl::SetLogLevel(gl::LogLevel::kError);  // a poisoner's refusals are counted in the report, not logged
  std::vector<SimNode> nodes = MakeNodes(o);
  std::mt19937_64 rng(o.seed * 7919);
  const int n = static_cast<int>(nodes.size());
  std::vector<int> initiators(n);
  std::iota(initiators.begin(), initiators.end(), 0);
  for (int interval = 1; interval <= o.intervals; ++interval) {
    std::shuffle(initiators.begin(), initiators.end(), rng);
    for (int slice = 0; slice < n; ++slice) {
      for (SimNode& node : nodes) {
        if (node.poisoner) continue;
        const double per_interval = node.train.examples.size() / o.intervals_per_epoch / o.batch_size;
        TrainBatches(node, per_interval / n, o);
      }
      const int a = initiators[slice];
      int b = std::uniform_int_distribution<int>(0, n - 2)(rng);
      if (b >= a) ++b;
      Exchange(nodes, a, b, o);
    }
    if (interval % o.eval_every == 0 || interval == o.intervals) Report(interval, nodes, *eval, o, started_s);
  }
  return 0;
}
