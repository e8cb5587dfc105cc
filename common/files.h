// Whole-file reads and crash-safe writes.
#pragma once

#include <filesystem>
#include <string>

#include "common/error.h"

namespace att {

Result<std::string> read_file(const std::filesystem::path& path);

// Writes `bytes` to `path` through a temporary file and a rename, creating the directory,
// so that a crash never leaves half a file under the final name. With `sync`, the data is
// fsync'd before the rename (survives power loss, costs a disk flush). The file gets `mode`
// (0600 for secrets), never less private whatever a stale temporary file had.
Status write_file_atomically(const std::filesystem::path& path, const std::string& bytes, bool sync,
                             unsigned mode = 0644);

}  // namespace att
