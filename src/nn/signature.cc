#include "nn/signature.h"

#include <cstdio>

#include "nn/hash.h"

namespace gl::nn {

std::string ModelSignature(int hidden_size, int max_name_length, const Alphabet& alphabet,
                           const std::vector<std::string>& labels) {
  std::uint64_t labels_hash = kFnvOffset;
  for (const auto& label : labels) labels_hash = Fnv1a64(label + '\n', labels_hash);
  char hashes[40];
  std::snprintf(hashes, sizeof hashes, "a%08x/c%zu/%08x", alphabet.Fingerprint(), labels.size(),
                static_cast<unsigned>(labels_hash & 0xFFFFFFFFu));
  return "gru1/h" + std::to_string(hidden_size) + "/l" + std::to_string(max_name_length) + "/" + hashes;
}

}  // namespace gl::nn
