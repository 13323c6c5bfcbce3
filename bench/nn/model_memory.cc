// model_memory: the memory of many models in one process, as a simulation of N nodes
// holds them. Builds N default models (hidden 128), trains each on one minibatch of 32
// real names (so each holds what a node's model holds after training: parameters and
// optimizer state), and prints the growth of the resident set (VmRSS) and of the heap in
// use (mallinfo2) per model, what the first model cost with any buffers built once per
// thread, and the peak (VmHWM).
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
  const long rss_before = StatusKb("VmRSS");
  const double heap_before = HeapInUseMb();
  std::vector<std::unique_ptr<gl::nn::Model>> models;
  for (int i = 0; i < n; ++i) {
    options.seed = i + 1;
    models.push_back(std::move(gl::nn::Model::Create(options)).value());
    models.back()->TrainBatch(batch);
  }
  const long rss_after = StatusKb("VmRSS");
  const double heap_after = HeapInUseMb();
  std::printf("models %d (hidden %d, %zu parameters each, trained on one batch of 32)\n", n, options.hidden_size,
              models[0]->ParameterCount());
  std::printf("RSS per model %.2f MB\n", (rss_after - rss_before) / 1024.0 / n);
  std::printf("heap per model %.2f MB\n", (heap_after - heap_before) / n);
  std::printf("first model and the thread's shared buffers %.2f MB\n", heap_before - heap_start);
  std::printf("peak RSS %.1f MB\n", StatusKb("VmHWM") / 1024.0);
  return 0;
}
