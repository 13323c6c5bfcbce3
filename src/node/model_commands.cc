#include "node/model_commands.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <string>
#include <vector>

#include "common/process_stats.h"
#include "common/writable_path.h"
#include "nn/model.h"
#include "nn/split.h"
#include "nn/trainer.h"
#include "node/predict_command.h"

namespace gl::node {
namespace {

struct TrainArgs {
  std::string data, out = "model.glm";
  int epochs = 15, hidden = 128, batch = 32, max_length = 20;
  float lr = 3e-3f, dropout = 0.2f, class_weight_power = 1.0f;
  int average_from = 3;
  double validation = 0.1;
  std::uint64_t seed = 1;
  bool class_weighting = false, skip_bad_lines = false, keep_accents = false;
};

struct EvalArgs {
  std::string model, data;
  bool json = false, skip_bad_lines = false;
};

struct SplitArgs {
  std::string data, out, scheme = "iid";
  int nodes = 4;
  double alpha = 0.3;
  std::uint64_t seed = 1;
  bool skip_bad_lines = false;
};

int Fail(const Status& status, const std::string& hint = "") {
  std::cerr << "error: " << status.message() << "\n";
  if (!hint.empty()) std::cerr << hint << "\n";
  return 1;
}

Result<nn::Dataset> LoadData(const std::string& path, bool skip_bad_lines) {
  nn::LoadOptions options;
  options.skip_bad_lines = skip_bad_lines;
  nn::LoadReport report;
  Result<nn::Dataset> data = nn::LoadDataset(path, options, &report);
  if (data.ok() && report.lines_skipped > 0) {
    std::cerr << "skipped " << report.lines_skipped << " bad line(s) of " << report.lines_read << ", e.g.\n";
    for (const auto& problem : report.problems) std::cerr << "  " << problem << "\n";
  }
  return data;
}

std::string DataHint(const Status& status) {
  if (status.code() == Status::Code::kNotFound) return "Check the --data path (e.g. data/names).";
  return "Fix the named file or line, or pass --skip-bad-lines to skip bad lines and count them.";
}

std::string Seconds(double s) {
  char buf[32];
  if (s < 120) {
    std::snprintf(buf, sizeof buf, "%.0fs", s);
  } else {
    std::snprintf(buf, sizeof buf, "%dm%02ds", static_cast<int>(s) / 60, static_cast<int>(s) % 60);
  }
  return buf;
}

int RunTrain(const TrainArgs& a) {
  if (Status s = CheckCanWriteFile(a.out); !s.ok()) return Fail(s, "Choose a writable --out path.");
  Result<nn::Dataset> data = LoadData(a.data, a.skip_bad_lines);
  if (!data.ok()) return Fail(data.status(), DataHint(data.status()));
  auto [train, validation] = nn::TrainValidationSplit(*data, a.validation, a.seed);
  if (train.examples.empty() || validation.examples.empty()) {
    return Fail(Status::InvalidArgument("too few names for a training and a validation set"),
                "Give more data or change --validation.");
  }
  nn::ModelOptions options;
  options.hidden_size = a.hidden;
  options.max_name_length = a.max_length;
  options.seed = a.seed;
  options.alphabet = a.keep_accents ? nn::AlphabetKind::kKeepAccents : nn::AlphabetKind::kFoldAccents;
  Result<std::unique_ptr<nn::Model>> created = nn::Model::Create(options);
  if (!created.ok()) return Fail(created.status(), "Choose --hidden in 8..1024 and --max-length in 1..256.");
  nn::Model& model = **created;
  nn::TrainerOptions trainer;
  trainer.learning_rate = a.lr;
  trainer.class_weighting = a.class_weighting;
  trainer.dropout = a.dropout;
  trainer.class_weight_power = a.class_weight_power;
  model.SetTrainerOptions(trainer);
  model.SetClassWeights(nn::CountPerLabel(train));
  std::printf("training on %zu names, validating on %zu; %zu parameters, signature %s\n", train.examples.size(),
              validation.examples.size(), model.ParameterCount(), model.Signature().c_str());
  // Kept: the best weights seen at an epoch's end, plain or averaged, by validation
  // accuracy (macro-F1 when the loss is class-weighted).
  struct Kept {
    int epoch = 0;
    bool averaged = false;
    double score = -1, accuracy = 0, macro_f1 = 0;
    std::vector<float> params;
  } kept;
  auto consider = [&](int epoch, bool averaged, const nn::Metrics& m, std::vector<float> params) {
    const double score = a.class_weighting ? m.macro_f1 : m.accuracy;
    if (score <= kept.score) return false;
    kept = Kept{epoch, averaged, score, m.accuracy, m.macro_f1, std::move(params)};
    return true;
  };
  std::mt19937_64 rng(a.seed);
  double elapsed = 0;
  nn::ParameterAverage average;  // of the weights after every batch from epoch average_from on
  for (int epoch = 1; epoch <= a.epochs; ++epoch) {
    const bool averaging = a.average_from > 0 && epoch >= a.average_from;
    const nn::EpochStats stats = nn::TrainEpoch(model, train, a.batch, rng, averaging ? &average : nullptr);
    const auto eval_start = std::chrono::steady_clock::now();
    const nn::Metrics m = model.Evaluate(validation);
    const bool best = consider(epoch, false, m, model.GetParameters());
    std::string average_note;
    if (average.count() > 0) {
      const std::vector<float> current = model.GetParameters();
      std::vector<float> mean = average.Mean();
      (void)model.SetParameters(mean);  // both come from this model: right length, finite
      const nn::Metrics am = model.Evaluate(validation);
      (void)model.SetParameters(current);
      const bool best_average = consider(epoch, true, am, std::move(mean));
      char buf[96];
      std::snprintf(buf, sizeof buf, "  averaged: val acc %.4f  macro-F1 %.4f%s", am.accuracy, am.macro_f1,
                    best_average ? "  *" : "");
      average_note = buf;
    }
    elapsed += stats.seconds + std::chrono::duration<double>(std::chrono::steady_clock::now() - eval_start).count();
    std::printf("epoch %2d/%d  loss %.4f  val acc %.4f  macro-F1 %.4f  %6.0f samples/s (%.0f per CPU-s)  elapsed %s  ETA %s%s%s\n",
                epoch, a.epochs, stats.mean_loss, m.accuracy, m.macro_f1, stats.samples / std::max(stats.seconds, 1e-9),
                stats.samples / std::max(stats.cpu_seconds, 1e-9),
                Seconds(elapsed).c_str(), Seconds(elapsed / epoch * (a.epochs - epoch)).c_str(), best ? "  *" : "",
                average_note.c_str());
    std::fflush(stdout);
  }
  if (Status s = model.SetParameters(kept.params); !s.ok()) return Fail(s);
  if (Status s = model.Save(a.out); !s.ok()) return Fail(s, "Choose a writable --out path.");
  std::printf("kept epoch %d%s: validation accuracy %.4f macro-F1 %.4f; saved %s\n", kept.epoch,
              kept.averaged ? " (averaged weights)" : "", kept.accuracy, kept.macro_f1, a.out.c_str());
  std::printf("peak RSS %.1f MB\n", PeakRssKb() / 1024.0);
  return 0;
}

void PrintReport(const nn::Metrics& m, const std::vector<std::string>& labels) {
  std::printf("samples %zu  accuracy %.4f  macro-F1 %.4f  balanced accuracy %.4f  mean loss %.4f\n", m.samples,
              m.accuracy, m.macro_f1, m.balanced_accuracy, m.mean_loss);
  std::printf("\nrecall per language:\n");
  for (std::size_t k = 0; k < labels.size(); ++k) std::printf("  %-11s %.3f\n", labels[k].c_str(), m.recall[k]);
  std::printf("\nconfusion matrix (rows: truth, columns: predicted, in label order):\n");
  for (std::size_t t = 0; t < labels.size(); ++t) {
    std::printf("  %-11s", labels[t].c_str());
    for (std::size_t p = 0; p < labels.size(); ++p) std::printf(" %5zu", m.confusion[t][p]);
    std::printf("\n");
  }
}

int RunEval(const EvalArgs& a) {
  Result<std::unique_ptr<nn::Model>> model = nn::Model::Load(a.model);
  if (!model.ok()) return Fail(model.status());
  Result<nn::Dataset> data = LoadData(a.data, a.skip_bad_lines);
  if (!data.ok()) return Fail(data.status(), DataHint(data.status()));
  const nn::Metrics m = (*model)->Evaluate(*data);
  const auto& labels = (*model)->Labels();
  if (!a.json) {
    PrintReport(m, labels);
    return 0;
  }
  nlohmann::json j = {{"samples", m.samples},
                      {"accuracy", m.accuracy},
                      {"macro_f1", m.macro_f1},
                      {"balanced_accuracy", m.balanced_accuracy},
                      {"mean_loss", m.mean_loss},
                      {"labels", labels},
                      {"confusion", m.confusion}};
  for (std::size_t k = 0; k < labels.size(); ++k) j["recall"][labels[k]] = m.recall[k];
  std::cout << j.dump() << "\n";
  return 0;
}

std::string ShardFileName(std::size_t node) { return "node-" + std::to_string(node) + ".tsv"; }

// Deletes the node-K.tsv files with K >= `nodes` that an earlier split into `folder` wrote, so
// that the folder holds one split only; files of any other name are left alone.
void RemoveStaleShards(const std::string& folder, int nodes) {
  static const std::regex kShardName("node-([0-9]{1,9})\\.tsv");
  std::error_code ec;
  std::vector<std::filesystem::path> stale;
  for (std::filesystem::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    std::smatch match;
    const std::string name = it->path().filename().string();
    if (std::regex_match(name, match, kShardName) && std::stol(match[1]) >= nodes && it->is_regular_file(ec)) {
      stale.push_back(it->path());
    }
  }
  for (const auto& path : stale) {
    if (std::filesystem::remove(path, ec)) {
      std::printf("removed %s, left by an earlier split into more shards\n", path.c_str());
    } else {
      std::fprintf(stderr, "warning: could not remove the stale shard %s: %s\n", path.c_str(), ec.message().c_str());
    }
  }
}

int RunSplit(const SplitArgs& a) {
  Result<nn::Dataset> data = LoadData(a.data, a.skip_bad_lines);
  if (!data.ok()) return Fail(data.status(), DataHint(data.status()));
  nn::ShardOptions options;
  options.nodes = a.nodes;
  options.scheme = a.scheme == "dirichlet" ? nn::ShardScheme::kDirichlet : nn::ShardScheme::kIid;
  options.alpha = a.alpha;
  options.seed = a.seed;
  Result<std::vector<nn::Dataset>> shards = nn::MakeShards(*data, options);
  if (!shards.ok()) return Fail(shards.status());
  std::error_code ec;
  std::filesystem::create_directories(a.out, ec);
  if (ec) return Fail(Status::IoError(a.out + ": " + ec.message()), "Choose a writable --out folder.");
  std::printf("%-12s %6s", "shard", "names");
  for (const auto& label : data->labels) std::printf(" %5.5s", label.c_str());
  std::printf("\n");
  for (std::size_t i = 0; i < shards->size(); ++i) {
    const std::string path = (std::filesystem::path(a.out) / ShardFileName(i)).string();
    if (Status s = nn::WriteTsv((*shards)[i], path); !s.ok()) return Fail(s);
    std::printf("%-12s %6zu", ("node-" + std::to_string(i)).c_str(), (*shards)[i].examples.size());
    for (std::size_t count : nn::CountPerLabel((*shards)[i])) std::printf(" %5zu", count);
    std::printf("\n");
  }
  RemoveStaleShards(a.out, a.nodes);
  return 0;
}

void AddDataOptions(CLI::App* cmd, std::string& data, bool& skip_bad_lines) {
  cmd->add_option("--data", data, "Folder of <Language>.txt files or a name<TAB>Language TSV file")->required();
  cmd->add_flag("--skip-bad-lines", skip_bad_lines, "Skip bad input lines (and report how many) instead of failing");
}

// CLI::PositiveNumber's message names the largest double, 309 digits long.
CLI::Validator Positive() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        double value = 0;
        if (!CLI::detail::lexical_cast(text, value)) return "'" + text + "' is not a number";
        return value > 0 ? "" : "must be > 0, not " + text;
      },
      "> 0");
}

}  // namespace

void AddModelCommands(CLI::App& app, int& exit_code) {
  auto train = std::make_shared<TrainArgs>();
  CLI::App* t = app.add_subcommand("train", "Train the surname classifier on one machine and save it");
  AddDataOptions(t, train->data, train->skip_bad_lines);
  t->add_option("--epochs", train->epochs, "Passes over the training data")->capture_default_str()->check(Positive());
  t->add_option("--hidden", train->hidden, "GRU hidden size (8..1024)")->capture_default_str();
  t->add_option("--batch", train->batch, "Minibatch size")->capture_default_str()->check(Positive());
  t->add_option("--lr", train->lr, "Adam learning rate")->capture_default_str()->check(Positive());
  t->add_option("--dropout", train->dropout, "Dropout rate on the GRU's last state while training")
      ->capture_default_str()->check(CLI::Range(0.0, 0.9));
  t->add_option("--average-from", train->average_from, "Also score the mean of the weights after every batch from epoch N on, and keep it if better (0: off)")
      ->capture_default_str();
  t->add_option("--seed", train->seed, "Seed for split, initialisation and shuffling")->capture_default_str();
  t->add_option("--out", train->out, "Where to save the model")->capture_default_str();
  t->add_option("--validation", train->validation, "Held-out fraction per language")
      ->capture_default_str()->check(CLI::Range(0.01, 0.9));
  t->add_option("--max-length", train->max_length, "Longest name in characters; longer ones are truncated")
      ->capture_default_str();
  t->add_option("--class-weight-power", train->class_weight_power,
                 "With --class-weighting: weight = (balanced weight)^P; 0.5 is milder")
      ->capture_default_str()->check(CLI::Range(0.0, 2.0));
  t->add_flag("--class-weighting", train->class_weighting,
              "Weight each language's loss by its rarity; keep the epoch with the best macro-F1");
  t->add_flag("--keep-accents", train->keep_accents, "Give accented letters their own symbols instead of folding");
  t->callback([train, &exit_code] { exit_code = RunTrain(*train); });

  auto eval = std::make_shared<EvalArgs>();
  CLI::App* e = app.add_subcommand("eval", "Score a saved model on labelled data");
  e->add_option("--model", eval->model, "Model file written by `train`")->required();
  AddDataOptions(e, eval->data, eval->skip_bad_lines);
  e->add_flag("--json", eval->json, "Print one JSON object (accuracy, macro_f1, balanced_accuracy, samples, ...)");
  e->callback([eval, &exit_code] { exit_code = RunEval(*eval); });

  AddPredictCommand(app, exit_code);

  auto split = std::make_shared<SplitArgs>();
  CLI::App* s = app.add_subcommand("split", "Write one TSV shard of the data per node (node-0.tsv, ...)");
  AddDataOptions(s, split->data, split->skip_bad_lines);
  s->add_option("--nodes", split->nodes, "Number of shards")->required()->check(Positive());
  s->add_option("--scheme", split->scheme, "iid or dirichlet")->capture_default_str()->check(CLI::IsMember({"iid", "dirichlet"}));
  s->add_option("--alpha", split->alpha, "Dirichlet concentration: smaller is more skewed")->capture_default_str();
  s->add_option("--seed", split->seed, "Seed")->capture_default_str();
  s->add_option("--out", split->out, "Output folder")->required();
  s->callback([split, &exit_code] { exit_code = RunSplit(*split); });
}

}  // namespace gl::node
