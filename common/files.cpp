#include "common/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace att {

Result<std::string> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return fail(errno == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo,
                path.string() + ": cannot open");
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) return fail(ErrorCode::kIo, path.string() + ": read error");
  return out.str();
}

Status write_file_atomically(const std::filesystem::path& path, const std::string& bytes, bool sync,
                             unsigned mode) {
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  if (ec)
    return fail(ErrorCode::kIo,
                "cannot create " + path.parent_path().string() + ": " + ec.message());
  const std::string tmp = path.string() + ".tmp";
  // A fresh file every time: a stale temporary (another mode) or a link planted in its place
  // is never written through.
  ::unlink(tmp.c_str());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                        static_cast<mode_t>(mode));
  if (fd < 0) return fail(ErrorCode::kIo, "cannot write " + tmp + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  // The mode asked for, whatever the umask (a private file stays private, a public one
  // readable by the web server).
  bool ok = done == bytes.size() && ::fchmod(fd, static_cast<mode_t>(mode)) == 0 &&
            (!sync || ::fsync(fd) == 0);
  const int saved = errno;
  ok = ::close(fd) == 0 && ok;
  if (!ok) {
    ::unlink(tmp.c_str());
    return fail(ErrorCode::kIo,
                "cannot write " + tmp + ": " + std::strerror(saved) + " (disk full?)");
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return fail(ErrorCode::kIo, "cannot rename " + tmp + ": " + std::strerror(err));
  }
  return {};
}

}  // namespace att
