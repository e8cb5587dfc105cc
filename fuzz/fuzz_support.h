// Helpers shared by the fuzz targets: a broken invariant aborts (libFuzzer saves the input
// as a crash), and a scratch directory made once per process, removed at exit.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace att::fuzz {

// Aborts with `what` when `ok` is false; unlike assert() it stays on in release builds.
inline void check(bool ok, const char* target, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "%s: invariant broken: %s\n", target, what);
    std::abort();
  }
}

// A fresh directory under $TMPDIR (or /tmp), made on first use and removed with everything in
// it when the process exits normally (a crash leaves it, for a look).
inline const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/att-fuzz-XXXXXX";
    if (!mkdtemp(pattern.data())) {
      std::perror("mkdtemp");
      std::abort();
    }
    return std::filesystem::path(pattern);
  }();
  static const bool registered = [] {
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    });
    return true;
  }();
  (void)registered;
  return dir;
}

}  // namespace att::fuzz
