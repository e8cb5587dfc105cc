#include "capture/sequence_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

namespace att {
namespace {

Status write_durably(const std::filesystem::path& path, const std::string& text) {
  const std::string tmp = path.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fail("cannot write " + tmp + ": " + std::strerror(errno));
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                  ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  if (!ok) return fail("cannot write " + tmp + ": " + std::strerror(saved));
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return fail("cannot rename " + tmp + ": " + std::strerror(errno));
  }
  return {};
}

}  // namespace

Result<SequenceFile> SequenceFile::open(const std::filesystem::path& path) {
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  if (ec) return fail("cannot create " + path.parent_path().string() + ": " + ec.message());
  std::ifstream in(path);
  if (!in) return SequenceFile(path, 1);
  std::ostringstream text;
  text << in.rdbuf();
  std::string s = text.str();
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
  if (auto s = write_durably(path_, std::to_string(number + 1) + "\n"); !s) {
    return std::unexpected(s.error());
  }
  next_ = number + 1;
  return number;
}

}  // namespace att
