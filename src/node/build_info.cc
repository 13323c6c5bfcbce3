#include "node/build_info.h"

#include "node/build_info_values.h"

namespace gl::node {
namespace {

constexpr const char* kArchitecture =
#if defined(__aarch64__)
    "aarch64 (Debian arm64)";
#elif defined(__x86_64__)
    "x86_64 (Debian amd64)";
#elif defined(__arm__) && defined(__ARM_PCS_VFP)
    "armv7l (Debian armhf)";
#elif defined(__i386__)
    "i686 (Debian i386)";
#else
    "unknown";
#endif

}  // namespace

const BuildInfo& ThisBuild() {
  static const BuildInfo info{GL_BUILD_VERSION, GL_BUILD_COMMIT, kArchitecture, GL_BUILD_COMPILER,
                              std::string(GL_BUILD_FLAGS) + " (" + GL_BUILD_TYPE + ")"};
  return info;
}

std::string VersionText() {
  const BuildInfo& b = ThisBuild();
  return "gossip-learner " + b.version + "\ncommit:       " + b.commit + "\narchitecture: " + b.architecture +
         "\ncompiler:     " + b.compiler + "\nbuild flags:  " + b.flags;
}

}  // namespace gl::node
