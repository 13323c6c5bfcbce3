// WriteFileAtomically: replaces the file at `path` with `bytes` so that a crash or power cut at
// any moment leaves either the old contents or the new ones there, never a mix: a temporary
// file next to it (<path>.tmp.<pid>), fsync, rename over `path`, fsync of the folder. The
// folder must exist. Thread-safe for distinct paths. A writer killed mid-write leaves its
// temporary file behind; RemoveLeftoverTemporaries clears them.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace gl {

// IoError naming the step that failed; the temporary file is removed when the rename fails.
Status WriteFileAtomically(const std::string& path, std::string_view bytes);

// Deletes the temporary files (<name>.tmp.<pid>) that writers killed mid-write left in `dir`,
// and returns how many. Call before any writer in `dir` starts (a node, on its state dir at
// start). A missing folder holds none.
Result<int> RemoveLeftoverTemporaries(const std::string& dir);

}  // namespace gl
