#include "node/predict_command.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "nn/alphabet.h"
#include "nn/model.h"
#include "nn/utf8.h"

namespace gl::node {
namespace {

constexpr std::string_view kStdin = "-";
constexpr std::size_t kTop = 3;

struct PredictArgs {
  std::string model;
  std::vector<std::string> names;
  bool json = false;
};

// Six decimals: a float's own precision, without the digits its widening to double invents.
double Rounded(float p) { return std::round(static_cast<double>(p) * 1e6) / 1e6; }

std::string_view TrimBlanks(std::string_view s) {
  constexpr std::string_view kBlanks = " \t\r\n\v\f";
  const std::size_t begin = s.find_first_not_of(kBlanks);
  if (begin == std::string_view::npos) return {};
  return s.substr(begin, s.find_last_not_of(kBlanks) - begin + 1);
}

// Answers names one at a time, as text or JSON lines, and counts the ones it refused.
class Predictor {
 public:
  Predictor(const nn::Model& model, bool json) : model_(model), json_(json) {}

  // `where` names the source of a name read from stdin ("stdin line 3: "), or is empty.
  void Answer(std::string_view raw, const std::string& where) {
    const std::string name(TrimBlanks(raw));
    std::u32string ignored;
    if (!nn::DecodeUtf8(name, &ignored)) return Refuse(name, where, "not valid UTF-8");
    if (name.empty()) return Refuse(std::string(raw), where, raw.empty() ? "empty name" : "blank name");
    // Every alphabet kind knows the same characters (they differ only in whether accented
    // letters get symbols of their own), so the default one judges any model's input.
    const std::vector<int> symbols = alphabet_.Encode(name, std::numeric_limits<int>::max());
    if (alphabet_.CountLetters(name) == 0) {
      return Refuse(name, where, "no letter the model knows (it reads Latin-script names)");
    }
    const auto unknown = std::count(symbols.begin(), symbols.end(), alphabet_.unknown_symbol());
    const std::vector<float> p = model_.Predict(name);
    std::vector<std::size_t> order(p.size());
    for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
    const std::size_t top = std::min(kTop, order.size());
    std::partial_sort(order.begin(), order.begin() + top, order.end(), [&](auto x, auto y) { return p[x] > p[y]; });
    const auto& labels = model_.Labels();
    if (json_) {
      nlohmann::json j = {{"name", name}, {"top", nlohmann::json::array()}};
      for (std::size_t i = 0; i < top; ++i) {
        j["top"].push_back({{"language", labels[order[i]]}, {"probability", Rounded(p[order[i]])}});
      }
      if (unknown > 0) j["unknown_characters"] = unknown;
      PrintJson(j);
      return;
    }
    std::printf("%s:", name.c_str());
    for (std::size_t i = 0; i < top; ++i) std::printf("  %s %.3f", labels[order[i]].c_str(), p[order[i]]);
    if (unknown > 0) std::printf("  (%td of %zu characters unknown to the model)", unknown, symbols.size());
    std::printf("\n");
    std::fflush(stdout);
  }

  // Every line of `in` is a name; a byte order mark before the first is dropped, and blank
  // lines are passed over (they end files and separate groups; no one asks about them).
  void AnswerLines(std::istream& in) {
    std::string line;
    for (std::size_t number = 1; std::getline(in, line); ++number) {
      std::string_view name = line;
      if (number == 1) name = nn::StripUtf8Bom(name);
      if (TrimBlanks(name).empty()) continue;
      Answer(name, "stdin line " + std::to_string(number) + ": ");
    }
  }

  int refused() const { return refused_; }

 private:
  void Refuse(const std::string& name, const std::string& where, const std::string& reason) {
    ++refused_;
    if (json_) {
      PrintJson({{"name", name}, {"error", reason}});
      return;
    }
    std::fprintf(stderr, "predict: %s'%s': %s; no prediction\n", where.c_str(), name.c_str(), reason.c_str());
  }

  static void PrintJson(const nlohmann::json& j) {
    // replace: an invalid UTF-8 name is echoed with U+FFFD rather than aborting the dump
    std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
  }

  const nn::Model& model_;
  const bool json_;
  const nn::Alphabet alphabet_{nn::AlphabetKind::kFoldAccents};
  int refused_ = 0;
};

int RunPredict(const PredictArgs& a) {
  Result<std::unique_ptr<nn::Model>> model = nn::Model::Load(a.model);
  if (!model.ok()) {
    std::cerr << "error: " << model.status().message() << "\n";
    return 1;
  }
  Predictor predictor(**model, a.json);
  const bool only_stdin = a.names.empty();
  if (only_stdin && isatty(STDIN_FILENO)) std::cerr << "reading names from stdin, one per line (Ctrl-D ends)\n";
  if (only_stdin) predictor.AnswerLines(std::cin);
  for (const std::string& name : a.names) {
    if (name == kStdin) {
      predictor.AnswerLines(std::cin);
    } else {
      predictor.Answer(name, "");
    }
  }
  if (predictor.refused() == 0) return 0;
  std::cerr << "predict: " << predictor.refused() << " name(s) without a prediction (see above)\n";
  return 1;
}

}  // namespace

void AddPredictCommand(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<PredictArgs>();
  CLI::App* p = app.add_subcommand("predict", "Print the 3 most likely languages of each name");
  p->add_option("--model", args->model, "Model file written by `train`")->required();
  p->add_flag("--json", args->json, "One JSON object per name and line: {\"name\", \"top\": [{\"language\", \"probability\"}], ...}");
  p->add_option("names", args->names, "Surnames; none or - reads them from stdin, one per line");
  p->callback([args, &exit_code] { exit_code = RunPredict(*args); });
}

}  // namespace gl::node
