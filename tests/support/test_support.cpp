#include "tests/support/test_support.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <sstream>

#include "common/sha256.h"
#include "counting/jpeg.h"
#include "protocol/signing.h"
#include "protocol/upload_client.h"

namespace att::testing {

TempDir::TempDir() {
  std::random_device rd;
  const auto base = std::filesystem::temp_directory_path();
  for (;;) {
    path_ = base / ("att-test-" + std::to_string(rd()));
    if (std::filesystem::create_directory(path_)) break;
  }
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void write_file(const std::filesystem::path& path, const std::string& content) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::map<std::string, std::string> files_in(const std::filesystem::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& f : std::filesystem::directory_iterator(dir)) {
    out[f.path().filename().string()] = read_file(f.path());
  }
  return out;
}

std::vector<std::string> changed_files(const std::map<std::string, std::string>& a,
                                       const std::map<std::string, std::string>& b) {
  std::vector<std::string> out;
  for (const auto& [name, bytes] : a) {
    auto it = b.find(name);
    if (it == b.end() || it->second != bytes) out.push_back(name);
  }
  for (const auto& [name, bytes] : b) {
    if (a.contains(name) || name.ends_with("-shm")) continue;
    if (name.ends_with("-wal") && bytes.empty()) continue;
    out.push_back(name);
  }
  return out;
}

std::filesystem::path shared_dir() {
  return (std::filesystem::path(ATTENDANCE_SOURCE_DIR) / ".." / "shared").lexically_normal();
}

std::optional<std::filesystem::path> shared_file(const std::string& relative) {
  auto p = shared_dir() / relative;
  if (std::filesystem::exists(p)) return p;
  return std::nullopt;
}

std::string synthetic_jpeg(int width, int height, int quality) {
  cv::Mat img(height, width, CV_8UC3);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      img.at<cv::Vec3b>(y, x) = cv::Vec3b(uchar(x * 255 / width), uchar(y * 255 / height), 90);
    }
  }
  cv::circle(img, {width / 3, height / 2}, std::max(4, height / 6), {255, 255, 255}, cv::FILLED);
  cv::rectangle(img, cv::Rect(width / 2, height / 4, width / 4, height / 3), {20, 20, 200},
                cv::FILLED);
  const auto bytes = encode_jpeg(img, quality);
  return std::string(bytes.begin(), bytes.end());
}

std::string jpeg_with_scans(int scans) {
  cv::Mat img(120, 200, CV_8UC3);
  cv::randu(img, cv::Scalar::all(0), cv::Scalar::all(255));
  std::vector<unsigned char> b;
  cv::imencode(".jpg", img, b, {cv::IMWRITE_JPEG_PROGRESSIVE, 1});
  const auto is_marker = [&](size_t i) {
    return b[i] == 0xFF && b[i + 1] != 0x00 && !(b[i + 1] >= 0xD0 && b[i + 1] <= 0xD7);
  };
  // The first scan: its segment, then its data up to the next marker.
  size_t sos = 2;
  while (b[sos + 1] != 0xDA) sos += 2 + ((size_t{b[sos + 2]} << 8) | b[sos + 3]);
  size_t end = sos + 2 + ((size_t{b[sos + 2]} << 8) | b[sos + 3]);
  while (!is_marker(end)) ++end;
  int have = 0;
  for (size_t i = 0; i + 1 < b.size(); ++i) have += b[i] == 0xFF && b[i + 1] == 0xDA;
  std::string out(b.begin(), b.begin() + static_cast<long>(end));
  const std::string first(b.begin() + static_cast<long>(sos), b.begin() + static_cast<long>(end));
  for (int i = have; i < scans; ++i) out += first;
  out.append(b.begin() + static_cast<long>(end), b.end());
  return out;
}

std::vector<Site> small_province() {
  return {
      {"td-01", "Trường THCS Bản Giang", "Tam Đường", SchoolLevel::kLowerSecondary,
       "Xã Bản Giang, huyện Tam Đường, tỉnh Lai Châu", 60, "IP camera"},
      {"td-02", "Trường Tiểu học Bình Lư", "Tam Đường", SchoolLevel::kPrimary,
       "Xã Bình Lư, huyện Tam Đường, tỉnh Lai Châu", 45, "USB camera"},
      {"mt-01", "Trường Mầm non Bum Nưa", "Mường Tè", SchoolLevel::kPreschool,
       "Xã Bum Nưa, huyện Mường Tè, tỉnh Lai Châu", 38, "IP camera"},
  };
}

RawDb::RawDb(const std::filesystem::path& path) {
  const int rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr);
  if (rc != SQLITE_OK) ADD_FAILURE() << "cannot open " << path << ": " << sqlite3_errstr(rc);
  sqlite3_busy_timeout(db_, 5000);
}

RawDb::~RawDb() {
  sqlite3_close_v2(db_);
}

std::string RawDb::try_exec(const std::string& sql) {
  char* msg = nullptr;
  std::string out;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &msg) != SQLITE_OK) {
    out = msg && *msg ? msg : "?";
  }
  sqlite3_free(msg);
  return out;
}

void RawDb::exec(const std::string& sql) {
  EXPECT_EQ(try_exec(sql), "") << sql;
}

std::string RawDb::scalar(const std::string& sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db_);
    return "";
  }
  std::string out;
  const int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    const auto* t = sqlite3_column_text(s, 0);
    out = t ? reinterpret_cast<const char*>(t) : "";
  } else if (rc != SQLITE_DONE) {
    ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db_);
  }
  sqlite3_finalize(s);
  return out;
}

bool RawDb::has_table(const std::string& name) {
  return integer("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '" + name +
                 "'") == 1;
}

pid_t spawn(const std::vector<std::string>& args, const std::filesystem::path& log) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

int wait_exit(pid_t pid, std::chrono::milliseconds limit) {
  int status = 0;
  const bool exited = eventually([&] { return waitpid(pid, &status, WNOHANG) == pid; }, limit);
  if (!exited) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int unused_port() {
  // Taken below the kernel's ephemeral range (read from /proc, 32768 by default), so that no
  // outgoing connection of this or another test takes it as its source port in the seconds
  // before the test binds it; bound and closed without listen() to check that it is free.
  int ephemeral_low = 32768;
  std::ifstream("/proc/sys/net/ipv4/ip_local_port_range") >> ephemeral_low;
  const int low = 10000, high = std::max(low + 1000, ephemeral_low);
  thread_local std::mt19937 random(std::random_device{}());
  // Nor one given a moment ago: a test that asks twice before binding either (nginx's HTTP and
  // HTTPS ports) gets two ports.
  static std::mutex given_mu;
  static std::deque<int> given;  // the latest 256, newest last
  std::lock_guard lock(given_mu);
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int port = std::uniform_int_distribution<int>(low, high - 1)(random);
    if (std::ranges::find(given, port) != given.end()) continue;
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return 0;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    const bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    if (!free) continue;
    given.push_back(port);
    if (given.size() > 256) given.pop_front();
    return port;
  }
  return 0;
}

std::string site_secret(const std::string& site_id) {
  return sha256_hex("test key of " + site_id);
}

httplib::Result post_signed(httplib::Client& client, const std::string& path,
                            const std::string& site, const std::string& sequence,
                            const std::string& capture_time, const std::string& body,
                            const std::string& content_type, const std::string& extra,
                            const std::string& secret) {
  const SignedFields fields{path, site, sequence, capture_time, extra, body, content_type};
  httplib::Headers h;
  for (auto& [name, value] :
       signed_upload_headers(fields, secret.empty() ? site_secret(site) : secret)) {
    h.emplace(name, value);
  }
  return client.Post(path, h, body, content_type);
}

void add_user(Store& store, const std::string& name, Role role, const std::string& password) {
  Auth auth(store, AuthConfig{});
  const auto added = auth.add_user(name, role, password);
  EXPECT_TRUE(added) << "add user " << name << ": " << added.error().message;
}

httplib::Headers log_in(httplib::Client& client, const std::string& user,
                        const std::string& password) {
  const nlohmann::json body = {{"user", user}, {"password", password}};
  auto res = client.Post("/api/v1/login", body.dump(), "application/json");
  EXPECT_TRUE(res) << "login of " << user << ": " << httplib::to_string(res.error());
  if (!res) return {};
  EXPECT_EQ(res->status, 200) << "login of " << user << ": " << res->body;
  if (res->status != 200) return {};
  const std::string cookie = res->get_header_value("Set-Cookie");
  const auto json = nlohmann::json::parse(res->body);
  return {{"Cookie", cookie.substr(0, cookie.find(';'))},
          {kCsrfHeader, json["csrf_token"].get<std::string>()}};
}

httplib::Headers log_in_as(httplib::Client& client, Store& store, Role role) {
  const std::string name(to_string(role));
  auto existing = store.find_user(name);
  EXPECT_TRUE(existing) << existing.error().message;
  if (existing && !*existing) add_user(store, name, role);
  httplib::Headers headers = log_in(client, name);
  client.set_default_headers(headers);
  return headers;
}

CommandRun run_command(const std::vector<std::string>& args, const std::filesystem::path& dir,
                       const std::string& input) {
  const std::filesystem::path in = dir / "command.in", out = dir / "command.out",
                              err = dir / "command.err";
  write_file(in, input);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, in.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  std::vector<std::string> all = args;
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  CommandRun run;
  if (spawned != 0) {
    run.err = std::string("posix_spawn: ") + std::strerror(spawned);
    return run;
  }
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return run;
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  run.out = read_file(out);
  run.err = read_file(err);
  return run;
}

const char kSmallProvinceCsv[] =
    "id,name,district,school_level,address,expected_attendees,camera\n"
    "td-01,Trường THCS Bản Giang,Tam Đường,lower_secondary,Xã Bản Giang,60,IP\n"
    "td-02,Trường Tiểu học Bình Lư,Tam Đường,primary,Xã Bình Lư,45,USB\n"
    "mt-01,Trường Mầm non Bum Nưa,Mường Tè,preschool,Xã Bum Nưa,38,IP\n";

std::filesystem::path write_small_server_yaml(const std::filesystem::path& dir,
                                              const std::string& extra) {
  write_file(dir / "sites.csv", kSmallProvinceCsv);
  write_file(dir / "schedule.yaml",
             "timezone: Asia/Ho_Chi_Minh\n"
             "days:\n"
             "  - date: 2027-07-12\n"
             "    periods:\n"
             "      - {name: morning, start: \"07:30\", end: \"11:30\"}\n");
  const std::filesystem::path yaml = dir / "server.yaml";
  write_file(yaml,
             "data_dir: data\n"
             "province:\n"
             "  name: Lai Châu\n"
             "  sites: sites.csv\n"
             "  schedule: schedule.yaml\n" +
                 extra);
  return yaml;
}

ServerConfig test_server_config(const std::filesystem::path& dir) {
  ServerConfig c;
  c.listen_host = "127.0.0.1";
  c.listen_port = 0;
  c.http_threads = 4;
  c.data_dir = dir / "data";
  c.province_name = "Lai Châu (test)";
  c.sites = small_province();
  c.schedule.timezone = "Asia/Ho_Chi_Minh";
  c.detector.workers = 1;
  c.max_age_s = 0;           // fixtures upload frames with fixed dates (July 2026)...
  c.storage.frame_days = 0;  // ...that retention must not delete under a test
  c.storage.heartbeat_days = 0;
  for (const Site& site : c.sites) c.site_keys[site.id] = site_secret(site.id);
  return c;
}

}  // namespace att::testing
