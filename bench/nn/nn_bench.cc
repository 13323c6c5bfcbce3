// Micro-benchmarks: the GRU-128 products per step of a 32-name batch, each with both
// kernels of nn/gemm.h (items = multiply-adds), and TrainBatch on 32 real names.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <random>
#include <vector>

#include "nn/gemm.h"
#include "nn/model.h"

namespace gl::nn {
namespace {

constexpr int kBatch = 32, kHidden = 128, kGates = 3 * kHidden;

struct Operands {
  std::vector<float> h = Random(kBatch * kHidden), wh = Random(kHidden * kGates), dg = Random(kBatch * kGates),
                     wh_t = Random(kGates * kHidden), gh = Random(kBatch * kGates), dwh = Random(kHidden * kGates),
                     dh = Random(kBatch * kHidden);
  static std::vector<float> Random(int n) {
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> u(-1, 1);
    std::vector<float> v(n);
    for (float& x : v) x = u(rng);
    return v;
  }
};

// state.range(0): 0 = streaming kernel, 1 = register-tiled kernel.
template <typename Product>
void RunProduct(benchmark::State& state, Product product) {
  Operands o;
  for (auto _ : state) {
    product(o, state.range(0) == 1);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * kBatch * kHidden * kGates);
}

void BM_ForwardGates(benchmark::State& state) {  // gh += h Wh
  RunProduct(state, [](Operands& o, bool tiled) {
    auto* kernel = tiled ? &GemmAccumulateTiled<float> : &GemmAccumulate<float>;
    kernel(kBatch, kGates, kHidden, o.h.data(), kHidden, 1, o.wh.data(), kGates, o.gh.data(), kGates);
  });
}

void BM_WeightGradient(benchmark::State& state) {  // dWh += h^T dG
  RunProduct(state, [](Operands& o, bool tiled) {
    auto* kernel = tiled ? &GemmAccumulateTiled<float> : &GemmAccumulate<float>;
    kernel(kHidden, kGates, kBatch, o.h.data(), 1, kHidden, o.dg.data(), kGates, o.dwh.data(), kGates);
  });
}

void BM_StateGradient(benchmark::State& state) {  // dH += dG Wh^T
  RunProduct(state, [](Operands& o, bool tiled) {
    auto* kernel = tiled ? &GemmAccumulateTiled<float> : &GemmAccumulate<float>;
    kernel(kBatch, kHidden, kGates, o.dg.data(), kGates, 1, o.wh_t.data(), kHidden, o.dh.data(), kHidden);
  });
}

void BM_TrainBatch32(benchmark::State& state) {
  Result<Dataset> data = LoadDataset(std::string(GL_SOURCE_DIR) + "/data/names");
  if (!data.ok()) return state.SkipWithError(data.status().message().c_str());
  std::vector<Example> all = data->examples;
  std::shuffle(all.begin(), all.end(), std::mt19937_64(1));
  auto model = std::move(Model::Create(ModelOptions{})).value();
  std::size_t at = 0;
  for (auto _ : state) {
    if (at + kBatch > all.size()) at = 0;
    const std::vector<Example> batch(all.begin() + at, all.begin() + at + kBatch);
    at += kBatch;
    benchmark::DoNotOptimize(model->TrainBatch(batch));
  }
  state.SetItemsProcessed(state.iterations() * kBatch);  // items/s = training samples/s
}

BENCHMARK(BM_ForwardGates)->Arg(0)->Arg(1);
BENCHMARK(BM_WeightGradient)->Arg(0)->Arg(1);
BENCHMARK(BM_StateGradient)->Arg(0)->Arg(1);
BENCHMARK(BM_TrainBatch32);

}  // namespace
}  // namespace gl::nn

BENCHMARK_MAIN();
