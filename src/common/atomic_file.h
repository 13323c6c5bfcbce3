// WriteFileAtomically: replaces the file at `path` with `bytes` so that a crash or power cut at
// any moment leaves either the old contents or the new ones there, never a mix: a temporary
// file next to it (<path>.tmp.<pid>), fsync, rename over `path`, fsync of the folder. The
// folder must exist. Thread-safe for distinct paths. A failed write (disk full, I/O error)
// removes its temporary file and leaves `path` as it was; only a writer killed mid-write
// leaves its temporary behind, which RemoveLeftoverTemporaries clears.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace gl {

// IoError naming the step that failed.
Status WriteFileAtomically(const std::string& path, std::string_view bytes);

// As WriteFileAtomically, and once the new contents are safely on disk (and only then), the
// file at `path` (if any) becomes `previous_path`: a failed write leaves both files as they
// were. A crash between the two renames leaves the old file at `previous_path` and no `path`.
Status WriteFileAtomicallyKeepingPrevious(const std::string& path, const std::string& previous_path,
                                          std::string_view bytes);

// Deletes the temporary files (<name>.tmp.<pid>) that writers killed mid-write left in `dir`,
// and returns how many. Call before any writer in `dir` starts (a node, on its state dir at
// start). A missing folder holds none.
Result<int> RemoveLeftoverTemporaries(const std::string& dir);

}  // namespace gl
