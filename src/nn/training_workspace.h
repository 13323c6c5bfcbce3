// TrainingWorkspace: the tiny-dnn network of one architecture (GruLayer, then a fully
// connected layer to the label logits) and everything a forward or backward pass writes
// into it: per-sample activations and gradients, the GRU's caches, the flat gradient of a
// batch. It holds no model: a model lends it its parameters for the length of one call
// (Lease), so that one workspace serves any number of models of its architecture, one at
// a time, and a model costs only its own state (parameters, optimizer moments).
//
// ForThread() gives each thread one workspace per architecture, built on first use and
// kept until the thread ends: the models used on one thread share it, models used on
// different threads never do. Include only from src/nn/*.cc (it pulls in tiny-dnn).
#pragma once

#include <compare>
#include <cstddef>
#include <random>
#include <span>
#include <vector>

#include "nn/alphabet.h"
#include "nn/dataset.h"
#include "nn/gru_layer.h"

namespace gl::nn {

struct NetworkShape {
  int symbols = 0;  // alphabet size
  int hidden = 0;
  int max_length = 0;
  int labels = 0;
  auto operator<=>(const NetworkShape&) const = default;
};

// The sizes of the trainable vectors in the order the network exposes them, which is the
// model's flat parameter order: GRU wx, wh, bx, bh, then the logit layer's weights and bias.
std::vector<std::size_t> ParameterBlockSizes(const NetworkShape& shape);

class TrainingWorkspace {
 public:
  using ExampleIt = std::vector<Example>::const_iterator;

  explicit TrainingWorkspace(const NetworkShape& shape);
  TrainingWorkspace(const TrainingWorkspace&) = delete;
  TrainingWorkspace& operator=(const TrainingWorkspace&) = delete;

  // The calling thread's workspace for `shape`.
  static TrainingWorkspace& ForThread(const NetworkShape& shape);

  // While a Lease lives, the network computes with `weights` (swapped in, not copied: one
  // vector per ParameterBlockSizes entry) and its dropout draws from `dropout_rng`; the
  // destructor swaps them back. Throws if the workspace is already leased.
  class Lease {
   public:
    Lease(TrainingWorkspace& workspace, std::vector<tiny_dnn::vec_t>& weights, float dropout,
          std::mt19937_64& dropout_rng);
    ~Lease();
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    TrainingWorkspace* operator->() const { return &workspace_; }

   private:
    TrainingWorkspace& workspace_;
    std::vector<tiny_dnn::vec_t>& weights_;
  };

  // The logits of the names [first, last), one tensor per example (valid until the next
  // call). `train`: the train phase (dropout on), to be followed by Backward.
  const std::vector<tiny_dnn::tensor_t>& Forward(const Alphabet& alphabet, ExampleIt first, ExampleIt last,
                                                 bool train);
  // Back-propagates the logits' gradient of the last Forward; returns the gradient of the
  // batch (summed over its examples) in flat parameter order, valid until the next call.
  std::span<const float> Backward(const std::vector<tiny_dnn::tensor_t>& d_logits);
  // The leased parameters, in flat order, for the optimizer step.
  const std::vector<std::span<float>>& Parameters() const { return parameters_; }

 private:
  using FullyConnected = tiny_dnn::fully_connected_layer<tiny_dnn::activation::identity>;

  int max_length_;
  GruLayer gru_;
  FullyConnected fc_;
  tiny_dnn::sequential net_;
  std::vector<tiny_dnn::vec_t*> weight_slots_;     // the network's trainable vectors, flat order
  std::vector<tiny_dnn::tensor_t*> grad_tensors_;  // their gradients, one vec_t per sample slot
  std::vector<std::span<float>> parameters_;       // over weight_slots_, while leased
  std::vector<tiny_dnn::tensor_t> inputs_, outputs_;
  std::vector<float> grads_;
  bool leased_ = false;
};

}  // namespace gl::nn
