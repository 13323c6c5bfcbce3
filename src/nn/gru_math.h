// The GRU recurrence, forward and back-propagation through time, on a whole minibatch
// at once, templated on the scalar type: float in the tiny-dnn layer, double in the
// gradient-check test. PyTorch's GRU equations, gates in the order r, z, n:
//   r = s(Wx_r[x] + bx_r + h Wh_r + bh_r)     z = s(Wx_z[x] + bx_z + h Wh_z + bh_z)
//   n = tanh(Wx_n[x] + bx_n + r * (h Wh_n + bh_n))     h' = (1 - z) * n + z * h
// The input is one symbol per step, so Wx[x] is a row lookup, not a product.
// Parameter layout (the model's flat parameter order): wx [symbols][3H], wh [H][3H],
// bx [3H], bh [3H]. Sequences are sorted by length, longest first, so the sequences still
// running at step t are rows 0..active(t)-1 and each step is one matrix product.
// A GruCore owns its caches; not thread-safe.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <vector>

#include "nn/gemm.h"

namespace gl::nn {

template <typename T>
struct GruWeights {
  const T* wx;
  const T* wh;
  const T* bx;
  const T* bh;
  int symbols;
  int hidden;
};

template <typename T>
struct GruGradients {  // accumulated into (+=)
  T* wx;
  T* wh;
  T* bx;
  T* bh;
};

// Symbol sequences of one batch, longest first.
struct GruBatch {
  std::vector<int> lengths;  // [b], non-increasing
  std::vector<int> symbols;  // [t * size() + b], valid where t < lengths[b]
  std::vector<int> active;   // [t]: how many sequences are longer than t

  int size() const { return static_cast<int>(lengths.size()); }
  int steps() const { return static_cast<int>(active.size()); }
  // `sequences` must be sorted by length, longest first.
  void Assign(const std::vector<const std::vector<int>*>& sequences) {
    const int b_count = static_cast<int>(sequences.size());
    const int steps = b_count == 0 ? 0 : static_cast<int>(sequences[0]->size());
    lengths.resize(b_count);
    symbols.assign(static_cast<std::size_t>(steps) * b_count, 0);
    active.assign(steps, 0);
    for (int b = 0; b < b_count; ++b) {
      const auto& seq = *sequences[b];
      lengths[b] = static_cast<int>(seq.size());
      for (int t = 0; t < lengths[b]; ++t) {
        symbols[static_cast<std::size_t>(t) * b_count + b] = seq[t];
        active[t] = b + 1;
      }
    }
  }
};

// exp: std::exp for double (the gradient check); for float a branch-free version that
// GCC vectorises (e^x = 2^k e^f, k = round(x / ln2), |f| <= ln2/2, degree-6 Taylor
// polynomial; relative error < 1e-6), because libm's expf/tanhf calls were a fifth of training time.
template <typename T>
inline T Exp(T x) {
  return std::exp(x);
}

// x clamped to [-87, 87], where e^x is a normal float, in the form each vector unit does in
// one instruction: fmaxnm/fminnm on aarch64 (the comparisons cost a compare and a select
// each there, and the extra registers made the cell loop spill); minps/maxps on x86, where
// std::fmin/fmax do not vectorise. Not std::clamp: it returns a reference.
inline float ClampExpArgument(float x) {
#if defined(__aarch64__)
  return std::fmin(std::fmax(x, -87.0f), 87.0f);
#else
  return x < -87.0f ? -87.0f : (x > 87.0f ? 87.0f : x);
#endif
}

template <>
inline float Exp(float x) {
  x = ClampExpArgument(x);
  // round(x / ln2): adding and removing 1.5 * 2^23 rounds to an integer (std::floor does
  // not vectorise without -fno-trapping-math).
  const float rounded = (x * 1.44269504f + 12582912.0f) - 12582912.0f;
  const float f = x - rounded * 0.693145752f - rounded * 1.42860677e-6f;  // ln2 split in two: exact product
  const float p =
      1.0f + f * (1.0f + f * (0.5f + f * (1.0f / 6 + f * (1.0f / 24 + f * (1.0f / 120 + f * (1.0f / 720))))));
  return p * std::bit_cast<float>((static_cast<std::int32_t>(rounded) + 127) << 23);
}

template <typename T>
inline T Sigmoid(T x) {
  return T(1) / (T(1) + Exp(-x));
}

template <typename T>
inline T Tanh(T x) {
  return T(1) - T(2) / (T(1) + Exp(T(2) * x));
}

template <typename T>
class GruCore {
 public:
  void Forward(const GruWeights<T>& w, const GruBatch& batch) {
    const int h_size = w.hidden, g_size = 3 * w.hidden, b_count = batch.size();
    const std::size_t step_size = static_cast<std::size_t>(b_count) * h_size;
    h_.assign(step_size * (batch.steps() + 1), T(0));
    r_.resize(step_size * batch.steps());
    z_.resize(r_.size());
    n_.resize(r_.size());
    ghn_.resize(r_.size());
    gh_.resize(static_cast<std::size_t>(b_count) * g_size);
    for (int t = 0; t < batch.steps(); ++t) {
      const int rows = batch.active[t];
      const T* h_prev = &h_[t * step_size];
      for (int b = 0; b < rows; ++b) std::copy(w.bh, w.bh + g_size, &gh_[b * g_size]);
      GemmAccumulateTiled(rows, g_size, h_size, h_prev, h_size, 1, w.wh, g_size, gh_.data(), g_size);
      for (int b = 0; b < rows; ++b) {
        const T* gx = w.wx + static_cast<std::size_t>(batch.symbols[t * b_count + b]) * g_size;
        const std::size_t at = t * step_size + b * h_size;
        ForwardCell(h_size, gx, w.bx, &gh_[b * g_size], h_prev + b * h_size, &r_[at], &z_[at], &n_[at], &ghn_[at],
                    &h_[at + step_size]);
      }
    }
  }

  // The last state of sequence b (zeros for an empty sequence); valid after Forward.
  const T* Final(const GruBatch& batch, int b, int hidden) const {
    return &h_[(static_cast<std::size_t>(batch.lengths[b]) * batch.size() + b) * hidden];
  }

  // d_final[b * H + j]: gradient of the loss wrt Final(b)[j]. Call after Forward on the
  // same batch and weights.
  void Backward(const GruWeights<T>& w, const GruBatch& batch, const T* d_final, const GruGradients<T>& g) {
    const int h_size = w.hidden, g_size = 3 * w.hidden, b_count = batch.size();
    const std::size_t step_size = static_cast<std::size_t>(b_count) * h_size;
    wh_t_.resize(static_cast<std::size_t>(g_size) * h_size);
    for (int k = 0; k < h_size; ++k) {
      for (int j = 0; j < g_size; ++j) wh_t_[j * h_size + k] = w.wh[k * g_size + j];
    }
    dh_.assign(step_size, T(0));
    dh_next_.resize(step_size);
    dgh_.resize(static_cast<std::size_t>(b_count) * g_size);
    for (int t = batch.steps() - 1; t >= 0; --t) {
      const int rows = batch.active[t];
      // Sequences [active(t + 1), active(t)) end at step t: their loss gradient enters here.
      const int ending = t + 1 < batch.steps() ? batch.active[t + 1] : 0;
      for (int i = ending * h_size; i < rows * h_size; ++i) dh_[i] += d_final[i];
      const T* h_prev = &h_[t * step_size];
      for (int b = 0; b < rows; ++b) {
        const std::size_t at = t * step_size + b * h_size;
        T* gwx = g.wx + static_cast<std::size_t>(batch.symbols[t * b_count + b]) * g_size;
        BackwardCell(h_size, &r_[at], &z_[at], &n_[at], &ghn_[at], h_prev + b * h_size, &dh_[b * h_size],
                     &dh_next_[b * h_size], &dgh_[b * g_size], gwx, g.bx, g.bh);
      }
      // dWh += h_prev^T dgh;  dh_prev = dh * z + dgh Wh^T
      GemmAccumulateTiled(h_size, g_size, rows, h_prev, 1, h_size, dgh_.data(), g_size, g.wh, g_size);
      GemmAccumulateTiled(rows, h_size, g_size, dgh_.data(), g_size, 1, wh_t_.data(), h_size, dh_next_.data(), h_size);
      std::copy(dh_next_.begin(), dh_next_.begin() + static_cast<std::size_t>(rows) * h_size, dh_.begin());
    }
  }

 private:
  // One step of one sequence: gates and new state h from the input row gx = Wx[x] and
  // gh = h_prev Wh + bh. Separate functions so that __restrict applies (GCC ignores it on
  // block-scope pointers) and the loops vectorise.
  static void ForwardCell(int h_size, const T* __restrict gx, const T* __restrict bx, const T* __restrict gh,
                          const T* __restrict hp, T* __restrict r, T* __restrict z, T* __restrict n,
                          T* __restrict ghn, T* __restrict h) {
    for (int j = 0; j < h_size; ++j) {
      r[j] = Sigmoid(gx[j] + bx[j] + gh[j]);
      z[j] = Sigmoid(gx[h_size + j] + bx[h_size + j] + gh[h_size + j]);
      ghn[j] = gh[2 * h_size + j];
      n[j] = Tanh(gx[2 * h_size + j] + bx[2 * h_size + j] + r[j] * ghn[j]);
      h[j] = (T(1) - z[j]) * n[j] + z[j] * hp[j];
    }
  }

  // Gradients of one step of one sequence: from dh (wrt its new state) to dg (wrt the gate
  // pre-activations, h side) and dh_next = the direct part of the gradient wrt h_prev;
  // accumulates the input-side gradient into the row gwx = dWx[x] and the biases.
  static void BackwardCell(int h_size, const T* __restrict r, const T* __restrict z, const T* __restrict n,
                           const T* __restrict ghn, const T* __restrict hp, const T* __restrict dh,
                           T* __restrict dh_next, T* __restrict dg, T* __restrict gwx, T* __restrict gbx,
                           T* __restrict gbh) {
    for (int j = 0; j < h_size; ++j) {
      const T dn = dh[j] * (T(1) - z[j]);
      const T dz = dh[j] * (hp[j] - n[j]);
      const T dan = dn * (T(1) - n[j] * n[j]);
      const T daz = dz * z[j] * (T(1) - z[j]);
      const T dar = dan * ghn[j] * r[j] * (T(1) - r[j]);
      dg[j] = dar;
      dg[h_size + j] = daz;
      dg[2 * h_size + j] = dan;  // input side; the h side is scaled by r below
      dh_next[j] = dh[j] * z[j];
    }
    for (int j = 0; j < 3 * h_size; ++j) {
      gwx[j] += dg[j];
      gbx[j] += dg[j];
    }
    for (int j = 0; j < h_size; ++j) dg[2 * h_size + j] *= r[j];
    for (int j = 0; j < 3 * h_size; ++j) gbh[j] += dg[j];
  }

  std::vector<T> h_;                   // [t + 1][b][H]; h_[0] = 0
  std::vector<T> r_, z_, n_, ghn_;     // [t][b][H]: gates and h Wh_n + bh_n, cached for backward
  std::vector<T> gh_;                  // [b][3H]: h Wh + bh of the current step
  std::vector<T> wh_t_;                // [3H][H]: Wh transposed
  std::vector<T> dh_, dh_next_, dgh_;  // [b][H], [b][H], [b][3H]
};

}  // namespace gl::nn
