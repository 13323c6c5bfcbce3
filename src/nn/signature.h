// Model signatures: "gru1/h<hidden>/l<max length>/a<alphabet>/c<labels>/<labels hash>".
// Two models can exchange parameters iff their signatures are equal. Pure; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "nn/alphabet.h"

namespace gl::nn {

std::string ModelSignature(int hidden_size, int max_name_length, const Alphabet& alphabet,
                           const std::vector<std::string>& labels);

}  // namespace gl::nn
