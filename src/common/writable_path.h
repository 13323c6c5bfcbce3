// CheckCanWriteFile: whether a file can be written at `path` now, asked before hours of
// work whose result goes there rather than after. It creates and removes a probe file
// (<path>.tmp.<pid>, the name WriteFileAtomically uses) in the file's folder, so it
// answers for permissions, read-only mounts and missing folders alike; a disk that fills
// up later is not foreseen. Thread-safe for distinct paths.
#pragma once

#include <string>

#include "common/status.h"

namespace gl {

// InvalidArgument if `path` is empty or a folder; IoError, naming the folder and the
// reason, if no file can be created there.
Status CheckCanWriteFile(const std::string& path);

}  // namespace gl
