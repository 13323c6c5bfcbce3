// WriteFileAtomically: replaces the file at `path` with `bytes` so that a crash or power cut at
// any moment leaves either the old contents or the new ones there, never a mix: a temporary
// file next to it (<path>.tmp.<pid>), fsync, rename over `path`, fsync of the folder. The
// folder must exist. Thread-safe for distinct paths.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace gl {

// IoError naming the step that failed; the temporary file is removed when the rename fails.
Status WriteFileAtomically(const std::string& path, std::string_view bytes);

}  // namespace gl
