// model_memory: the memory of many models in one process, as a simulation of N nodes
// holds them. Builds N default models (hidden 128), then trains each on one minibatch of
// 32 real names (so each holds what a node's model holds after training: parameters and
// optimizer state), and prints the growth of the resident set (VmRSS) and of the heap in
// use (mallinfo2) per model after each stage, what the first model cost with any buffers
// built once per thread, and the peak (VmHWM).
// Usage: model_memory [N] [DATA]   (default 100, data/names)
#include <malloc.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "nn/model.h"

namespace {

// A field of /proc/self/status in kB (VmRSS, VmHWM), or -1.
long StatusKb(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string key;
  long value = 0;
  while (status >> key) {
    if (key == field + ":") return status >> value ? value : -1;
    status.ignore(1 << 10, '\n');
  }
  return -1;
}

double HeapInUseMb() { return static_cast<double>(mallinfo2().uordblks) / (1 << 20); }

struct Usage {
  long rss_kb;
  double heap_mb;
};

Usage Measure() { return Usage{StatusKb("VmRSS"), HeapInUseMb()}; }

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 100;
  const std::string path = argc > 2 ? argv[2] : GL_SOURCE_DIR "/data/names";
  if (n < 1) {
    std::fprintf(stderr, "model_memory: N must be >= 1\n");
    return 2;
  }
  gl::Result<gl::nn::Dataset> data = gl::nn::LoadDataset(path);
  if (!data.ok() || data->examples.size() < 32) {
    std::fprintf(stderr, "model_memory: cannot load 32 names from %s: %s\n", path.c_str(),
                 data.ok() ? "too few" : data.status().ToString().c_str());
    return 1;
  }
  const std::vector<gl::nn::Example> batch(data->examples.begin(), data->examples.begin() + 32);
  gl::nn::ModelOptions options;
  // One model trained first, so that what is built once per process (a shared training
  // workspace, if any) is not counted per model.
  options.seed = 0;
  const double heap_start = HeapInUseMb();
  auto first = std::move(gl::nn::Model::Create(options)).value();
  first->TrainBatch(batch);
  const Usage start = Measure();
  std::vector<std::unique_ptr<gl::nn::Model>> models;
  for (int i = 0; i < n; ++i) {
    options.seed = i + 1;
    models.push_back(std::move(gl::nn::Model::Create(options)).value());
  }
  const Usage built = Measure();
  for (auto& model : models) model->TrainBatch(batch);
  const Usage trained = Measure();
  std::printf("models %d (hidden %d, %zu parameters each)\n", n, options.hidden_size, models[0]->ParameterCount());
  std::printf("per model, built:                     RSS %.2f MB, heap %.2f MB\n",
              (built.rss_kb - start.rss_kb) / 1024.0 / n, (built.heap_mb - start.heap_mb) / n);
  std::printf("per model, trained on one batch of 32: RSS %.2f MB, heap %.2f MB\n",
              (trained.rss_kb - start.rss_kb) / 1024.0 / n, (trained.heap_mb - start.heap_mb) / n);
  std::printf("first model and the thread's shared buffers %.2f MB\n", start.heap_mb - heap_start);
  std::printf("peak RSS %.1f MB\n", StatusKb("VmHWM") / 1024.0);
  return 0;
}
