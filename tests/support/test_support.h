// Helpers shared by the test suites: temporary directories, generated fixtures, and the
// location of ../shared (models, classroom frames, clips), which tests skip without, saying so.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "analysis/app/server_config.h"
#include "analysis/domain/province.h"
#include "analysis/domain/store.h"
#include "analysis/web/auth.h"

struct sqlite3;

namespace att::testing {

// A fresh directory under the system temp dir, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

void write_file(const std::filesystem::path& path, const std::string& content);
std::string read_file(const std::filesystem::path& path);
// Every file in `dir` with its bytes.
std::map<std::string, std::string> files_in(const std::filesystem::path& dir);
// The files of snapshot `a` whose bytes differ in `b` or that `b` lacks, and the files new in
// `b` other than SQLite's own beside a database opened read-only: a -shm (a reader's shared
// index) and an empty -wal.
std::vector<std::string> changed_files(const std::map<std::string, std::string>& a,
                                       const std::map<std::string, std::string>& b);

// ../shared beside the source tree, and a file in it when present.
std::filesystem::path shared_dir();
std::optional<std::filesystem::path> shared_file(const std::string& relative);

// A JPEG of a generated picture (gradient and shapes) of the given size.
std::string synthetic_jpeg(int width, int height, int quality = 85);
// A progressive JPEG of 200x120 noise from OpenCV (about 10 scans), its first scan repeated
// until it has `scans`: what a JPEG probe reads, not a picture to decode.
std::string jpeg_with_scans(int scans);

// Three sites in two districts, enough for service tests.
std::vector<Site> small_province();

// Waits up to `limit` for `done`, checking every `period`; true when it came true.
template <class Pred>
bool eventually(Pred done, std::chrono::milliseconds limit,
                std::chrono::milliseconds period = std::chrono::milliseconds(50)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(period);
  }
  return true;
}

// A second, independent connection to a database file, for what the Store API does not offer
// (journal mode, user_version, raw rows) and for tampering as someone with the sqlite3 shell
// would. Errors are test failures, except from try_exec.
class RawDb {
 public:
  explicit RawDb(const std::filesystem::path& path);
  ~RawDb();
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  std::string try_exec(const std::string& sql);  // "" when it ran, SQLite's message otherwise
  void exec(const std::string& sql);
  // The first column of the first row as text ("" when there is no row).
  std::string scalar(const std::string& sql);
  int integer(const std::string& sql) { return std::stoi(scalar(sql)); }
  bool has_table(const std::string& name);

 private:
  ::sqlite3* db_ = nullptr;
};

// Starts `args[0]` with `args`, its stdout and stderr appended to `log`; returns the pid.
pid_t spawn(const std::vector<std::string>& args, const std::filesystem::path& log);
// The exit status (128 + signal when killed), or -1 if the process did not exit within
// `limit` (it is then killed).
int wait_exit(pid_t pid, std::chrono::milliseconds limit);

// A command run to completion: its exit status (128 + signal when killed, -1 when it could
// not be started or waited for) and what it wrote.
struct CommandRun {
  int exit_code = -1;
  std::string out, err;
};
// Runs `args` (args[0] is the program) to completion with `input` on its stdin; its stdout
// and stderr go through files in `dir`.
CommandRun run_command(const std::vector<std::string>& args, const std::filesystem::path& dir,
                       const std::string& input = "");

// The sites of small_province() as a sites CSV, and a minimal valid server.yaml in `dir`
// naming them and a one-morning schedule (both written beside it), `extra` YAML appended.
// Returns the YAML's path.
extern const char kSmallProvinceCsv[];
std::filesystem::path write_small_server_yaml(const std::filesystem::path& dir,
                                              const std::string& extra = "");

// A loopback TCP port that was free a moment ago and has no listener: connecting to it is
// refused (for a service that is not up yet, or a dead one). It is outside the ephemeral range,
// so no outgoing connection takes it before the test binds it, and none of the process's
// latest 256 answers, so that two asked together differ.
int unused_port();

// The test key of a site (64 hex digits, derived from its id); test_server_config has them.
std::string site_secret(const std::string& site_id);

// POSTs a signed upload as a capture node does (protocol/wire.h). `extra` goes in X-Health
// for frames and X-Spool-Dropped for heartbeats, when not empty. `secret` defaults to the
// site's test key.
httplib::Result post_signed(httplib::Client& client, const std::string& path,
                            const std::string& site, const std::string& sequence,
                            const std::string& capture_time, const std::string& body,
                            const std::string& content_type, const std::string& extra = "",
                            const std::string& secret = "");

// Logins. The password of the users tests add.
inline constexpr char kTestPassword[] = "test-password-1";

// Adds a user to the database behind `store`, as `attendance-server users add` does; a test
// failure if it cannot.
void add_user(Store& store, const std::string& name, Role role,
              const std::string& password = kTestPassword);

// Logs in over HTTP (POST /api/v1/login) and returns what a logged-in browser sends with each
// request: the session cookie and the X-CSRF-Token. Empty, and a test failure, if the login
// does not succeed.
httplib::Headers log_in(httplib::Client& client, const std::string& user,
                        const std::string& password = kTestPassword);

// Makes `client` a browser logged in as `role`: a user named after the role ("organizer",
// "auditor", "technician", "admin") is added to `store` unless it exists, logs in, and its
// cookie and CSRF token become the client's default headers. Returns those headers.
httplib::Headers log_in_as(httplib::Client& client, Store& store, Role role);

// A valid service config around `dir`: data in dir/data, sites from small_province(),
// listening on 127.0.0.1 port 0, dashboard from the source tree; no capture-time limits
// and no retention, as fixtures carry fixed dates.
ServerConfig test_server_config(const std::filesystem::path& dir);

}  // namespace att::testing

// Skips the current test, saying which shared file it lacks.
#define ATT_REQUIRE_SHARED(var, relative)                                                   \
  auto var##_opt = ::att::testing::shared_file(relative);                                   \
  if (!var##_opt) GTEST_SKIP() << "skipped: needs ../shared/" << (relative) << " (absent)"; \
  const std::filesystem::path var = *var##_opt
