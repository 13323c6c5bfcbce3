// What this binary is: version, git commit, CPU architecture, compiler and flags, for
// `gossip-learner --version` and `gossip-learner bench`. The commit and flags are fixed when
// cmake configures the build (cmake/BuildInfo.cmake); the architecture is the compiler's target,
// named as uname -m and as Debian does, so it can be matched against a .deb's Architecture.
#pragma once

#include <string>

namespace gl::node {

struct BuildInfo {
  std::string version;
  std::string commit;
  std::string architecture;  // e.g. "aarch64 (Debian arm64)"
  std::string compiler;
  std::string flags;  // C++ flags of the build type, target CPU flags included
};

const BuildInfo& ThisBuild();

// Several lines, "gossip-learner <version>" first.
std::string VersionText();

}  // namespace gl::node
