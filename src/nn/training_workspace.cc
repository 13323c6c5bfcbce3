#include "nn/training_workspace.h"

#include <map>
#include <memory>
#include <stdexcept>
#include <string>

namespace gl::nn {

std::vector<std::size_t> ParameterBlockSizes(const NetworkShape& s) {
  const auto gates = static_cast<std::size_t>(3 * s.hidden);
  return {gates * s.symbols, gates * s.hidden, gates, gates, static_cast<std::size_t>(s.hidden) * s.labels,
          static_cast<std::size_t>(s.labels)};
}

TrainingWorkspace::TrainingWorkspace(const NetworkShape& shape)
    : max_length_(shape.max_length),
      gru_(shape.symbols, shape.hidden, shape.max_length),
      fc_(shape.hidden, static_cast<tiny_dnn::serial_size_t>(shape.labels)) {
  net_.add(gru_);
  net_.add(fc_);
  net_.setup(false);
  for (tiny_dnn::layer* layer : {static_cast<tiny_dnn::layer*>(&gru_), static_cast<tiny_dnn::layer*>(&fc_)}) {
    for (tiny_dnn::vec_t* w : layer->weights()) weight_slots_.push_back(w);
    for (tiny_dnn::tensor_t* g : layer->weights_grads()) grad_tensors_.push_back(g);
  }
  const std::vector<std::size_t> sizes = ParameterBlockSizes(shape);
  std::size_t count = 0;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    if (i >= weight_slots_.size() || weight_slots_[i]->size() != sizes[i]) {
      throw std::logic_error("the network's trainable vector " + std::to_string(i) +
                             " does not match ParameterBlockSizes");
    }
    count += sizes[i];
  }
  grads_.resize(count);
}

TrainingWorkspace& TrainingWorkspace::ForThread(const NetworkShape& shape) {
  thread_local std::map<NetworkShape, std::unique_ptr<TrainingWorkspace>> workspaces;
  std::unique_ptr<TrainingWorkspace>& workspace = workspaces[shape];
  if (!workspace) workspace = std::make_unique<TrainingWorkspace>(shape);
  return *workspace;
}

TrainingWorkspace::Lease::Lease(TrainingWorkspace& workspace, std::vector<tiny_dnn::vec_t>& weights, float dropout,
                                std::mt19937_64& dropout_rng)
    : workspace_(workspace), weights_(weights) {
  if (workspace_.leased_) throw std::logic_error("the training workspace is already in use on this thread");
  if (weights_.size() != workspace_.weight_slots_.size()) throw std::logic_error("parameter blocks do not match");
  workspace_.leased_ = true;
  for (std::size_t i = 0; i < weights_.size(); ++i) {
    std::swap(*workspace_.weight_slots_[i], weights_[i]);
    workspace_.parameters_.emplace_back(workspace_.weight_slots_[i]->data(), workspace_.weight_slots_[i]->size());
  }
  workspace_.gru_.SetDropout(dropout, &dropout_rng);
}

TrainingWorkspace::Lease::~Lease() {
  workspace_.gru_.SetDropout(0.0f, nullptr);
  workspace_.gru_.set_context(tiny_dnn::net_phase::test);
  workspace_.parameters_.clear();
  for (std::size_t i = 0; i < weights_.size(); ++i) std::swap(*workspace_.weight_slots_[i], weights_[i]);
  workspace_.leased_ = false;
}

const std::vector<tiny_dnn::tensor_t>& TrainingWorkspace::Forward(const Alphabet& alphabet, ExampleIt first,
                                                                  ExampleIt last, bool train) {
  inputs_.resize(last - first);
  for (auto it = first; it != last; ++it) {
    inputs_[it - first].assign(1, GruLayer::EncodeInput(alphabet.Encode(it->name, max_length_), max_length_));
  }
  gru_.set_context(train ? tiny_dnn::net_phase::train : tiny_dnn::net_phase::test);
  outputs_ = net_.forward(inputs_);
  return outputs_;
}

std::span<const float> TrainingWorkspace::Backward(const std::vector<tiny_dnn::tensor_t>& d_logits) {
  net_.backward(d_logits);
  gru_.set_context(tiny_dnn::net_phase::test);
  // Sum each weight's per-sample gradients into grads_, zeroing them for the next batch.
  std::fill(grads_.begin(), grads_.end(), 0.0f);
  std::size_t offset = 0;
  for (tiny_dnn::tensor_t* per_sample : grad_tensors_) {
    for (tiny_dnn::vec_t& g : *per_sample) {
      for (std::size_t k = 0; k < g.size(); ++k) grads_[offset + k] += g[k];
      std::fill(g.begin(), g.end(), 0.0f);
    }
    offset += (*per_sample)[0].size();
  }
  return grads_;
}

}  // namespace gl::nn
