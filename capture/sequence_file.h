// The node's upload sequence counter, kept on disk so that a restarted node never reuses a
// number (the service would take a reused number with new bytes as a conflict). A number
// is reserved, and made durable, before the frame that carries it is sent; a crash leaves
// a harmless gap, never a reuse. Not thread-safe; one per node.
#pragma once

#include <cstdint>
#include <filesystem>

#include "common/error.h"

namespace att {

class SequenceFile {
 public:
  // Reads `path` (created with first number 1 when absent). A file that holds anything but a
  // number is an error: guessing could reuse numbers.
  static Result<SequenceFile> open(const std::filesystem::path& path);

  // Returns the next number and persists the one after it (write, fsync, rename).
  Result<std::int64_t> reserve();

 private:
  SequenceFile(std::filesystem::path path, std::int64_t next)
      : path_(std::move(path)), next_(next) {}
  std::filesystem::path path_;
  std::int64_t next_;
};

}  // namespace att
