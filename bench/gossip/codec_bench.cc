// Measures each model codec on the node's model: the time to encode and decode one
// ExchangeRequest (the engine's whole work per frame: codec plus message framing), its body
// size, and the error a receiver merges: the decoded model against the exact one (max abs,
// RMS), and the same for an equal-weight average with the receiver's model, which halves it.
// Prints the figures beside the target of issue 15 (encode + decode <= 0.3 ms per frame).
//
// Usage: gossip_codec_bench [MODEL.glm] [repetitions=300]
//   MODEL.glm: a trained model (`gossip-learner train --out`); without it, a fresh one.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "gossip/wire/codec.h"
#include "gossip/wire/model_codec.h"
#include "nn/model.h"

namespace gl::gossip {
namespace {

using Clock = std::chrono::steady_clock;
constexpr double kTargetMs = 0.3;

double MedianMs(std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  return samples[samples.size() / 2];
}

struct Error {
  double max_abs = 0;
  double rms = 0;
};

Error Compare(const std::vector<float>& got, const std::vector<float>& exact, double weight) {
  Error error;
  double squares = 0;
  for (std::size_t i = 0; i < exact.size(); ++i) {
    const double diff = weight * (static_cast<double>(got[i]) - exact[i]);
    error.max_abs = std::max(error.max_abs, std::fabs(diff));
    squares += diff * diff;
  }
  error.rms = std::sqrt(squares / static_cast<double>(exact.size()));
  return error;
}

int Run(const std::string& model_path, int repetitions) {
  auto model = model_path.empty() ? nn::Model::Create(nn::ModelOptions{}) : nn::Model::Load(model_path);
  if (!model.ok()) {
    std::fprintf(stderr, "cannot get a model: %s\n", model.status().ToString().c_str());
    return 1;
  }
  const ModelSnapshot snapshot{(*model)->Signature(), (*model)->GetParameters(), 1000, 500};
  float largest = 0;
  for (const float v : snapshot.params) largest = std::max(largest, std::fabs(v));
  std::printf("model: %s, %zu parameters, max |w| %.3f\n", model_path.empty() ? "fresh (untrained)" : model_path.c_str(),
              snapshot.params.size(), largest);
  std::printf("%-5s %10s %10s %10s %10s %7s %12s %12s %12s %12s\n", "codec", "body B", "encode ms", "decode ms",
              "sum ms", "target", "max |err|", "RMS err", "merge max", "merge RMS");
  for (const ModelCodec codec : {ModelCodec::kFp32, ModelCodec::kFp16, ModelCodec::kInt8}) {
    const ExchangeRequest request{"bench", snapshot, codec};
    std::vector<double> encode_ms, decode_ms;
    Frame frame;
    Result<ExchangeRequest> decoded = Status::Corruption("not decoded yet");
    for (int i = 0; i < repetitions; ++i) {
      const auto start = Clock::now();
      frame = EncodeMessage(request);
      const auto encoded = Clock::now();
      decoded = DecodeMessage<ExchangeRequest>(frame);
      const auto end = Clock::now();
      encode_ms.push_back(std::chrono::duration<double, std::milli>(encoded - start).count());
      decode_ms.push_back(std::chrono::duration<double, std::milli>(end - encoded).count());
    }
    if (!decoded.ok() || decoded->codec != codec) {
      std::fprintf(stderr, "%s did not round-trip: %s\n", CodecName(codec).c_str(),
                   decoded.ok() ? "sent as another codec" : decoded.status().ToString().c_str());
      return 1;
    }
    const double encode = MedianMs(encode_ms), decode = MedianMs(decode_ms);
    const Error value = Compare(decoded->model.params, snapshot.params, 1.0);
    const Error merged = Compare(decoded->model.params, snapshot.params, 0.5);
    std::printf("%-5s %10zu %10.3f %10.3f %10.3f %7s %12.3g %12.3g %12.3g %12.3g\n", CodecName(codec).c_str(),
                frame.body.size(), encode, decode, encode + decode, encode + decode <= kTargetMs ? "<= 0.3" : "MISSED",
                value.max_abs, value.rms, merged.max_abs, merged.rms);
  }
  std::printf("(medians of %d; merge = equal-weight average with the receiver's model, whose error is half the "
              "decoded model's)\n",
              repetitions);
  return 0;
}

}  // namespace
}  // namespace gl::gossip

int main(int argc, char** argv) {
  const std::string model_path = argc > 1 ? argv[1] : "";
  const int repetitions = argc > 2 ? std::atoi(argv[2]) : 300;
  return gl::gossip::Run(model_path, std::max(repetitions, 1));
}
