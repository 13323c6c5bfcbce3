// The only way gossip-learner includes tiny-dnn: Debian's tiny-dnn 1.0.0a3 always defines
// CNN_USE_GEMMLOWP (gemmlowp is not packaged) and includes stb headers the package lacks
// (stand-ins in include/third_party/stb/). Include this from src/nn/*.cc only: every
// translation unit that includes it costs ~10 s and ~0.6 GB to compile.
#pragma once

#include <tiny_dnn/config.h>
#undef CNN_USE_GEMMLOWP
#include <tiny_dnn/tiny_dnn.h>
