// ReadWholeFile: the bytes of a regular file, or a Status saying why not. Never throws:
// a folder, a device or a read error (EIO, EISDIR) is an error the caller can report,
// which std::ifstream plus istreambuf_iterator turns into an uncaught exception.
// Thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace gl {

// kNotFound if nothing is at `path`; kIoError if it is not a regular file, is larger than
// `max_bytes`, or cannot be opened or read. Messages start with `path`.
Result<std::string> ReadWholeFile(const std::string& path, std::uint64_t max_bytes);

}  // namespace gl
