// GruLayer: a GRU over a sequence of symbols as a tiny-dnn layer (tiny-dnn 1.0.0a3 has
// none). Inputs: data, then the trainable vectors wx, wh (weight) and bx, bh (bias) in
// the layout of nn/gru_math.h, so tiny-dnn allocates, initialises and exposes them like
// any layer's weights. Output: the last hidden state (H values) of each sample.
//
// Input encoding of one sample (EncodeInput): [length, s_0, ..., s_{max_length-1}] as
// floats; each sample has its own length. Forward/backward process the whole minibatch
// as matrix products (GruCore). back_propagation accumulates the weight gradient of the
// whole batch into slot 0 of each weight-gradient tensor, which keeps that one slot
// (set_sample_count), so that a batch does not cost one copy of the weights per sample;
// the data tensors have one slot per sample as usual. The input (data) gradient is not
// computed: symbols are not differentiable.
// Dropout (inverted: kept outputs scaled by 1/(1-rate)) applies to the output only in the
// train phase (set_context), drawing from an engine the caller lends (SetDropout): the
// model's own, so that its runs are repeatable whichever other models share the layer.
//
// Include only from src/nn/*.cc (it pulls in tiny-dnn). Not thread-safe.
#pragma once

#include <random>
#include <string>
#include <vector>

#include "nn/gru_math.h"
#include "nn/tiny_dnn_compat/tiny_dnn.h"

namespace gl::nn {

class GruLayer : public tiny_dnn::layer {
 public:
  GruLayer(int symbols, int hidden, int max_length);

  // Output dropout rate in [0, 1) for the train phase, drawn from `rng` (must outlive its
  // use; may be null when rate is 0); 0 = off.
  void SetDropout(float rate, std::mt19937_64* rng) { dropout_ = rate, dropout_rng_ = rng; }
  void set_context(tiny_dnn::net_phase phase) override { phase_ = phase; }

  static tiny_dnn::vec_t EncodeInput(const std::vector<int>& symbols, int max_length);

  std::vector<tiny_dnn::shape3d> in_shape() const override;
  std::vector<tiny_dnn::shape3d> out_shape() const override;
  std::string layer_type() const override { return "gru"; }
  void set_sample_count(tiny_dnn::serial_size_t sample_count) override;
  tiny_dnn::serial_size_t fan_in_size() const override { return hidden_; }
  tiny_dnn::serial_size_t fan_out_size() const override { return hidden_; }

  void forward_propagation(const std::vector<tiny_dnn::tensor_t*>& in_data,
                           std::vector<tiny_dnn::tensor_t*>& out_data) override;
  void back_propagation(const std::vector<tiny_dnn::tensor_t*>& in_data,
                        const std::vector<tiny_dnn::tensor_t*>& out_data,
                        std::vector<tiny_dnn::tensor_t*>& out_grad,
                        std::vector<tiny_dnn::tensor_t*>& in_grad) override;

 private:
  GruWeights<float> Weights(const std::vector<tiny_dnn::tensor_t*>& in_data) const;

  int symbols_;
  int hidden_;
  int max_length_;
  std::vector<std::vector<int>> sequences_;  // [sample]
  std::vector<int> order_;                   // batch row -> sample, longest first
  GruBatch batch_;
  GruCore<float> core_;
  std::vector<float> d_final_;  // [row][H]
  tiny_dnn::net_phase phase_ = tiny_dnn::net_phase::test;
  float dropout_ = 0.0f;
  std::mt19937_64* dropout_rng_ = nullptr;
  std::vector<float> dropout_scale_;  // [sample][H]: 0 or 1/(1-rate), of the last train forward
};

}  // namespace gl::nn
