#include "nn/gru_layer.h"

#include <algorithm>
#include <numeric>

namespace gl::nn {

using tiny_dnn::shape3d;
using tiny_dnn::tensor_t;
using tiny_dnn::vector_type;

GruLayer::GruLayer(int symbols, int hidden, int max_length)
    : tiny_dnn::layer({vector_type::data, vector_type::weight, vector_type::weight, vector_type::bias,
                       vector_type::bias},
                      {vector_type::data}),
      symbols_(symbols),
      hidden_(hidden),
      max_length_(max_length) {}

tiny_dnn::vec_t GruLayer::EncodeInput(const std::vector<int>& symbols, int max_length) {
  tiny_dnn::vec_t v(max_length + 1, 0.0f);
  const int length = std::min(static_cast<int>(symbols.size()), max_length);
  v[0] = static_cast<float>(length);
  for (int t = 0; t < length; ++t) v[t + 1] = static_cast<float>(symbols[t]);
  return v;
}

std::vector<shape3d> GruLayer::in_shape() const {
  const auto gates = static_cast<tiny_dnn::serial_size_t>(3 * hidden_);
  return {shape3d(max_length_ + 1, 1, 1), shape3d(gates, symbols_, 1), shape3d(gates, hidden_, 1),
          shape3d(gates, 1, 1), shape3d(gates, 1, 1)};
}

std::vector<shape3d> GruLayer::out_shape() const { return {shape3d(hidden_, 1, 1)}; }

// tiny_dnn::layer's, except that the weights' gradients keep their one slot.
void GruLayer::set_sample_count(tiny_dnn::serial_size_t sample_count) {
  auto resize = [sample_count](tensor_t* tensor) { tensor->resize(sample_count, (*tensor)[0]); };
  for (tiny_dnn::serial_size_t i = 0; i < in_channels_; ++i) {
    if (tiny_dnn::is_trainable_weight(in_type_[i]) || !prev()[i]) continue;
    resize(prev()[i]->get_data());
    resize(prev()[i]->get_gradient());
  }
  for (tiny_dnn::serial_size_t i = 0; i < out_channels_; ++i) {
    if (!next()[i]) continue;
    resize(next()[i]->get_data());
    resize(next()[i]->get_gradient());
  }
}

GruWeights<float> GruLayer::Weights(const std::vector<tensor_t*>& in_data) const {
  return GruWeights<float>{(*in_data[1])[0].data(), (*in_data[2])[0].data(), (*in_data[3])[0].data(),
                           (*in_data[4])[0].data(), symbols_, hidden_};
}

void GruLayer::forward_propagation(const std::vector<tensor_t*>& in_data, std::vector<tensor_t*>& out_data) {
  const tensor_t& in = *in_data[0];
  const int samples = static_cast<int>(in.size());
  sequences_.resize(samples);
  for (int s = 0; s < samples; ++s) {
    const int length = std::clamp(static_cast<int>(in[s][0]), 0, max_length_);
    sequences_[s].resize(length);
    for (int t = 0; t < length; ++t) {
      sequences_[s][t] = std::clamp(static_cast<int>(in[s][t + 1]), 0, symbols_ - 1);
    }
  }
  order_.resize(samples);
  std::iota(order_.begin(), order_.end(), 0);
  std::stable_sort(order_.begin(), order_.end(),
                   [&](int a, int b) { return sequences_[a].size() > sequences_[b].size(); });
  std::vector<const std::vector<int>*> sorted(samples);
  for (int row = 0; row < samples; ++row) sorted[row] = &sequences_[order_[row]];
  batch_.Assign(sorted);
  core_.Forward(Weights(in_data), batch_);
  tensor_t& out = *out_data[0];
  for (int row = 0; row < samples; ++row) {
    const float* h = core_.Final(batch_, row, hidden_);
    std::copy(h, h + hidden_, out[order_[row]].begin());
  }
  if (phase_ != tiny_dnn::net_phase::train || dropout_ <= 0 || dropout_rng_ == nullptr) return;
  dropout_scale_.resize(static_cast<std::size_t>(samples) * hidden_);
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  for (int s = 0; s < samples; ++s) {
    for (int j = 0; j < hidden_; ++j) {
      const float scale = uniform(*dropout_rng_) < dropout_ ? 0.0f : 1.0f / (1.0f - dropout_);
      dropout_scale_[s * hidden_ + j] = scale;
      out[s][j] *= scale;
    }
  }
}

void GruLayer::back_propagation(const std::vector<tensor_t*>& in_data, const std::vector<tensor_t*>&,
                                std::vector<tensor_t*>& out_grad, std::vector<tensor_t*>& in_grad) {
  const tensor_t& d_out = *out_grad[0];
  d_final_.resize(static_cast<std::size_t>(batch_.size()) * hidden_);
  const bool dropped = phase_ == tiny_dnn::net_phase::train && dropout_ > 0 && dropout_rng_ != nullptr;
  for (int row = 0; row < batch_.size(); ++row) {
    const int s = order_[row];
    for (int j = 0; j < hidden_; ++j) {
      d_final_[row * hidden_ + j] = d_out[s][j] * (dropped ? dropout_scale_[s * hidden_ + j] : 1.0f);
    }
  }
  const GruGradients<float> grads{(*in_grad[1])[0].data(), (*in_grad[2])[0].data(), (*in_grad[3])[0].data(),
                                  (*in_grad[4])[0].data()};
  core_.Backward(Weights(in_data), batch_, d_final_.data(), grads);
}

}  // namespace gl::nn
