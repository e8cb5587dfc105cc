#include "capture/sequence_file.h"

#include <charconv>

#include "common/files.h"

namespace att {

Result<SequenceFile> SequenceFile::open(const std::filesystem::path& path) {
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  if (ec) return fail("cannot create " + path.parent_path().string() + ": " + ec.message());
  if (!std::filesystem::exists(path, ec)) return SequenceFile(path, 1);
  auto text = read_file(path);
  if (!text) return std::unexpected(text.error());
  std::string s = *text;
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  std::int64_t next = 0;
  auto [ptr, err] = std::from_chars(s.data(), s.data() + s.size(), next);
  if (s.empty() || err != std::errc() || ptr != s.data() + s.size() || next < 1) {
    return fail(path.string() + " does not hold a sequence number ('" + s.substr(0, 40) +
                "'); fix it to a number above the last one the server has for this site");
  }
  return SequenceFile(path, next);
}

Result<std::int64_t> SequenceFile::reserve() {
  const std::int64_t number = next_;
  if (auto s = write_file_atomically(path_, std::to_string(number + 1) + "\n", /*sync=*/true); !s) {
    return std::unexpected(s.error());
  }
  next_ = number + 1;
  return number;
}

}  // namespace att
