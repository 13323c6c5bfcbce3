// Model::Create: the surname classifier on tiny-dnn. A model holds its own state only
// (parameters, Adam's moments, dropout engine, trainer settings); every forward or backward
// pass runs in the calling thread's TrainingWorkspace for its architecture, to which the
// model lends its parameters for the call. Softmax and cross-entropy are computed here;
// training is one optimizer step (nn::Adam, or nn::SgdStep) per TrainBatch call.
#include <cmath>
#include <limits>
#include <random>

#include "common/log.h"
#include "nn/adam.h"
#include "nn/model.h"
#include "nn/model_file.h"
#include "nn/sgd.h"
#include "nn/signature.h"
#include "nn/training_workspace.h"

namespace gl::nn {
namespace {

constexpr int kEvalBatch = 32;

class TinyDnnModel final : public Model {
 public:
  explicit TinyDnnModel(const ModelOptions& options)
      : options_(options),
        alphabet_(options.alphabet),
        signature_(ModelSignature(options.hidden_size, options.max_name_length, alphabet_, options.labels)),
        shape_{alphabet_.size(), options.hidden_size, options.max_name_length,
               static_cast<int>(options.labels.size())},
        class_weights_(options.labels.size(), 1.0f),
        dropout_rng_(options.seed) {
    for (std::size_t size : ParameterBlockSizes(shape_)) {
      weights_.emplace_back(size);
      parameter_count_ += size;
    }
    // PyTorch's initialisation for GRU and Linear: uniform in +-1/sqrt(hidden).
    std::mt19937_64 rng(options.seed);
    const double bound = 1.0 / std::sqrt(static_cast<double>(options.hidden_size));
    for (tiny_dnn::vec_t& block : weights_) {
      for (float& w : block) w = static_cast<float>(((rng() >> 11) * 0x1.0p-53 * 2.0 - 1.0) * bound);
    }
  }

  Status Save(const std::string& path) const override {
    ModelFileContents c;
    c.hidden_size = options_.hidden_size;
    c.max_name_length = options_.max_name_length;
    c.alphabet = options_.alphabet;
    c.labels = options_.labels;
    c.signature = signature_;
    c.parameters = GetParameters();
    return WriteModelFile(path, c);
  }

  const std::string& Signature() const override { return signature_; }
  const std::vector<std::string>& Labels() const override { return options_.labels; }
  std::size_t ParameterCount() const override { return parameter_count_; }

  std::vector<float> GetParameters() const override {
    std::vector<float> flat;
    flat.reserve(parameter_count_);
    for (const tiny_dnn::vec_t& block : weights_) flat.insert(flat.end(), block.begin(), block.end());
    return flat;
  }

  Status SetParameters(const std::vector<float>& params) override {
    if (Status s = CheckParameters(params); !s.ok()) return s;
    std::size_t i = 0;
    for (tiny_dnn::vec_t& block : weights_) {
      std::copy(params.begin() + i, params.begin() + i + block.size(), block.begin());
      i += block.size();
    }
    return Status::Ok();
  }

  Status MoveToward(const std::vector<float>& target, float share) override {
    if (!(share >= 0 && share <= 1)) return Status::InvalidArgument("share must be in [0, 1]");
    if (Status s = CheckParameters(target); !s.ok()) return s;
    const float* t = target.data();
    for (tiny_dnn::vec_t& block : weights_) {
      for (float& w : block) w += share * (*t++ - w);
    }
    return Status::Ok();
  }

  void SetTrainerOptions(const TrainerOptions& options) override {
    trainer_ = options;
    trainer_.dropout = std::clamp(options.dropout, 0.0f, 0.95f);
  }

  void SetClassWeights(const std::vector<std::size_t>& counts) override {
    std::size_t total = 0, present = 0;
    for (std::size_t c : counts) total += c, present += c > 0;
    for (std::size_t k = 0; k < class_weights_.size(); ++k) {
      const std::size_t n = k < counts.size() ? counts[k] : 0;
      class_weights_[k] = n == 0 ? 0.0f : static_cast<float>(static_cast<double>(total) / (present * n));
    }
  }

  float TrainBatch(const std::vector<Example>& batch) override {
    return NoThrow("TrainBatch", std::numeric_limits<float>::quiet_NaN(), [&] { return Train(batch); });
  }

  std::vector<float> Predict(const std::string& name) const override {
    return NoThrow("Predict", std::vector<float>(), [&] {
      const std::vector<Example> one = {Example{name, 0}};
      Lease workspace = Lend();
      return Softmax(workspace->Forward(alphabet_, one.begin(), one.end(), false)[0][0]);
    });
  }

  Metrics Evaluate(const Dataset& data) const override {
    return NoThrow("Evaluate", Metrics(), [&] { return Score(data); });
  }

 private:
  // What SetParameters and MoveToward refuse: another length, a non-finite value.
  Status CheckParameters(const std::vector<float>& params) const {
    if (params.size() != parameter_count_) {
      return Status::Rejected("expected " + std::to_string(parameter_count_) + " parameters, got " +
                              std::to_string(params.size()) + " (a model of another signature?)");
    }
    for (std::size_t i = 0; i < params.size(); ++i) {
      if (!std::isfinite(params[i])) return Status::Rejected("parameter " + std::to_string(i) + " is not finite");
    }
    return Status::Ok();
  }

  using Lease = TrainingWorkspace::Lease;

  // Parameters and dropout engine lent to this thread's workspace until the Lease ends;
  // const because they come back unchanged unless the caller trains.
  Lease Lend() const {
    return Lease(TrainingWorkspace::ForThread(shape_), weights_, trainer_.dropout, dropout_rng_);
  }

  // tiny-dnn reports internal errors (and allocation failures) by exception; none may
  // leave the library: they are logged and `fallback` is returned.
  template <typename R, typename F>
  static R NoThrow(const char* what, R fallback, F&& f) {
    try {
      return f();
    } catch (const std::exception& e) {
      GL_LOG(kError, "nn") << what << " failed: " << e.what();
      return fallback;
    }
  }

  bool ValidLabel(int label) const { return label >= 0 && label < static_cast<int>(options_.labels.size()); }

  float Train(const std::vector<Example>& batch) {
    if (batch.empty()) return 0.0f;
    // Loss = sum_i w_i CE_i / sum_i w_i (PyTorch's weighted mean); w_i = 1 unweighted, and
    // 0 for an example whose label is out of range (it is ignored).
    std::vector<float> weights(batch.size(), 1.0f);
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (!ValidLabel(batch[i].label)) {
        weights[i] = 0.0f;
      } else if (trainer_.class_weighting) {
        weights[i] = std::pow(class_weights_[batch[i].label], trainer_.class_weight_power);
      }
    }
    double weight_sum = 0;
    for (float w : weights) weight_sum += w;
    if (weight_sum <= 0) return 0.0f;
    Lease workspace = Lend();
    const std::vector<tiny_dnn::tensor_t>& logits = workspace->Forward(alphabet_, batch.begin(), batch.end(), true);
    std::vector<tiny_dnn::tensor_t> d_logits(batch.size(), tiny_dnn::tensor_t(1));
    double loss = 0;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      std::vector<float> p = Softmax(logits[i][0]);
      if (weights[i] == 0.0f) {
        d_logits[i][0].assign(p.size(), 0.0f);
        continue;
      }
      loss += weights[i] * -std::log(std::max(p[batch[i].label], 1e-30f));
      p[batch[i].label] -= 1.0f;
      const auto scale = static_cast<float>(weights[i] / weight_sum);
      for (float& x : p) x *= scale;
      d_logits[i][0].assign(p.begin(), p.end());
    }
    const std::span<const float> grads = workspace->Backward(d_logits);
    if (trainer_.optimizer == Optimizer::kSgd) {
      SgdStep(workspace->Parameters(), grads, trainer_.learning_rate, trainer_.clip_norm);
    } else {
      adam_.Step(workspace->Parameters(), grads, trainer_.learning_rate, trainer_.clip_norm);
    }
    return static_cast<float>(loss / weight_sum);
  }

  // Evaluate without the exception guard; examples with an out-of-range label are skipped.
  Metrics Score(const Dataset& data) const {
    const std::size_t n_labels = options_.labels.size();
    std::vector<std::vector<std::size_t>> confusion(n_labels, std::vector<std::size_t>(n_labels, 0));
    double loss = 0;
    Lease workspace = Lend();
    for (std::size_t begin = 0; begin < data.examples.size(); begin += kEvalBatch) {
      const auto first = data.examples.begin() + begin;
      const auto last = data.examples.begin() + std::min(begin + kEvalBatch, data.examples.size());
      const std::vector<tiny_dnn::tensor_t>& logits = workspace->Forward(alphabet_, first, last, false);
      for (auto it = first; it != last; ++it) {
        if (!ValidLabel(it->label)) continue;
        const std::vector<float> p = Softmax(logits[it - first][0]);
        const auto predicted = static_cast<std::size_t>(std::max_element(p.begin(), p.end()) - p.begin());
        confusion[it->label][predicted]++;
        loss -= std::log(std::max(p[it->label], 1e-30f));
      }
    }
    Metrics m = MetricsFromConfusion(std::move(confusion));
    if (m.samples > 0) m.mean_loss = loss / m.samples;
    return m;
  }


  static std::vector<float> Softmax(const tiny_dnn::vec_t& logits) {
    std::vector<float> p(logits.begin(), logits.end());
    const float top = *std::max_element(p.begin(), p.end());
    double sum = 0;
    for (float& x : p) sum += (x = std::exp(x - top));
    for (float& x : p) x = static_cast<float>(x / sum);
    return p;
  }

  ModelOptions options_;
  Alphabet alphabet_;
  std::string signature_;
  NetworkShape shape_;
  // The trainable vectors in flat order; lent to a workspace (swapped out) during a call.
  mutable std::vector<tiny_dnn::vec_t> weights_;
  std::size_t parameter_count_ = 0;
  std::vector<float> class_weights_;
  TrainerOptions trainer_;
  Adam adam_;
  mutable std::mt19937_64 dropout_rng_;
};

}  // namespace

Result<std::unique_ptr<Model>> Model::Create(const ModelOptions& options) {
  if (options.hidden_size < 8 || options.hidden_size > 1024) {
    return Status::InvalidArgument("hidden size " + std::to_string(options.hidden_size) + " is outside 8..1024");
  }
  if (options.max_name_length < 1 || options.max_name_length > 256) {
    return Status::InvalidArgument("max name length " + std::to_string(options.max_name_length) +
                                   " is outside 1..256");
  }
  if (options.labels.size() < 2 || options.labels.size() > 1000) {
    return Status::InvalidArgument("a model needs 2..1000 labels, got " + std::to_string(options.labels.size()));
  }
  try {
    return std::unique_ptr<Model>(std::make_unique<TinyDnnModel>(options));
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("cannot build the model: ") + e.what());
  }
}

}  // namespace gl::nn
