// The reliability suite: the real programs (attendance-server, attendance-capture,
// attendance-sim) as separate processes on loopback, under load and under faults, each
// scenario ending in an account of every frame: sampled, stored, lost (counted, with its
// reason), and how long the system took to recover. scripts/reliability.sh runs it and
// prints the tables; CI runs its short form through ctest.
//
//   load: simulated sites at rising rates until the service pushes back (503); the rate it
//         held, and that pushing back lost nothing;
//   faults, each with one real node (and simulated load where it says): kill -9 of the
//         server and of the node, and the link cut, with nodes sending frames and with nodes
//         that count (counts and evidence pictures); the link cut (a proxy on loopback that stops
//         forwarding, as a rural link does, not one that refuses); the camera (an RTSP server) gone
//         and back; the node's disk full and the server's disk full (small tmpfs mounts: needs
//         root); the node's clock ahead and behind (libfaketime).
//
// The accounting uses the node's durable state and the service's database, not the
// programs' own word: every sequence number the node issued is in the service's database,
// still in the node's spool, or counted by the node with a reason.
//
// RELIABILITY=long gives the long form (the link is cut for 30 minutes; 30 s phases);
// RELIABILITY_TABLE=FILE writes the Markdown tables to FILE.
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <poll.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstring>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "analysis/domain/province.h"
#include "common/time_util.h"
#include "tests/support/test_support.h"
#include "tools/rtsp_server.h"

namespace att {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing::eventually;

// ---- the form and the tables ---------------------------------------------------------------

struct Form {
  bool long_form;
  double phase_s;      // how long a fault lasts, and the load around it
  double cut_s;        // the link cut
  double load_step_s;  // each rate of the load ramp
};

Form form() {
  const char* v = std::getenv("RELIABILITY");
  if (v && std::string(v) == "long") return {true, 30, 1800, 30};
  return {false, 5, 20, 6};
}

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::string fixed(double v, int digits = 1) {
  return v < 0 ? "-" : fmt::format("{:.{}f}", v, digits);
}

struct FaultRow {
  std::string scenario;
  std::int64_t sampled = 0, stored = 0, lost = 0, unaccounted = 0;
  std::string lost_reason;    // what the counters say of the lost
  double first_after_s = -1;  // fault over -> first new frame stored
  double backlog_s = -1;      // fault over -> everything from before delivered
  std::string note;
};

struct LoadRow {
  int sites = 0;
  double offered_fps = 0, stored_fps = 0, p50_ms = 0, p99_ms = 0;
  std::int64_t sampled = 0, stored = 0, busy = 0, dropped = 0, held = 0, unaccounted = 0;
};

std::mutex g_rows_mu;
std::vector<FaultRow> g_faults;
std::vector<LoadRow> g_load;

std::string tables() {
  std::lock_guard lock(g_rows_mu);
  std::string out;
  if (!g_load.empty()) {
    out +=
        "| sites | offered frames/s | stored frames/s | 503 answers | capture → ack p50 / p99 | "
        "sampled | stored | dropped | unaccounted |\n|---|---|---|---|---|---|---|---|---|\n";
    for (const auto& r : g_load) {
      out += fmt::format("| {} | {} | {} | {} | {} / {} ms | {} | {} | {} | {} |\n", r.sites,
                         fixed(r.offered_fps), fixed(r.stored_fps), r.busy, fixed(r.p50_ms, 0),
                         fixed(r.p99_ms, 0), r.sampled, r.stored, r.dropped, r.unaccounted);
    }
    out += "\n";
  }
  if (!g_faults.empty()) {
    out +=
        "| fault | frames sampled | stored | lost, counted (reason) | unaccounted | first new "
        "frame stored | backlog delivered | note |\n|---|---|---|---|---|---|---|---|\n";
    for (const auto& r : g_faults) {
      out += fmt::format("| {} | {} | {} | {}{} | {} | {} | {} | {} |\n", r.scenario, r.sampled,
                         r.stored, r.lost, r.lost_reason.empty() ? "" : " (" + r.lost_reason + ")",
                         r.unaccounted, r.first_after_s < 0 ? "-" : fixed(r.first_after_s) + " s",
                         r.backlog_s < 0 ? "-" : fixed(r.backlog_s) + " s", r.note);
    }
  }
  return out;
}

class PrintTables : public ::testing::Environment {
 public:
  void TearDown() override {
    const std::string text = tables();
    std::cout << "\n== reliability (" << (form().long_form ? "long" : "short") << " form)\n"
              << text << std::flush;
    if (const char* path = std::getenv("RELIABILITY_TABLE")) std::ofstream(path) << text;
  }
};
const auto* const g_print = ::testing::AddGlobalTestEnvironment(new PrintTables);

// ---- processes -----------------------------------------------------------------------------

const fs::path kSource = ATTENDANCE_SOURCE_DIR;

// A node that counts, in the fault scenarios: yunet, a look every 0.25 s (the rate of a
// frame-sending node's frames here), a count every second and an evidence picture every 5 s
// (the shortest intervals a node's configuration allows), so that a fault of a few seconds
// holds some of each. The simulated sites under edge load send the same.
constexpr double kEdgeEvidenceInterval = 5;
const std::string kEdgeCounting = fmt::format(
    "{{mode: edge, detector: yunet, every_s: 0.25, report_interval_s: 1, "
    "evidence_interval_s: {}, max_cores: 1}}",
    kEdgeEvidenceInterval);

std::vector<std::string> province_site_ids(int n) {
  auto sites = load_sites_csv(kSource / "config" / "sites.csv");
  std::vector<std::string> ids;
  if (!sites) return ids;
  for (int i = 0; i < n && i < static_cast<int>(sites->size()); ++i) {
    ids.push_back((*sites)[static_cast<size_t>(i)].id);
  }
  return ids;
}

// attendance-server with the province's sites, a key for the first `sites` of them, one
// yunet detector, listening on a fixed loopback port (kept across restarts).
class ServerProcess {
 public:
  ServerProcess(fs::path dir, fs::path data_dir, int sites, double node_interval_s)
      : dir_(std::move(dir)),
        data_dir_(std::move(data_dir)),
        port_(testing::unused_port()),
        ids_(province_site_ids(sites)) {
    std::string keys = "site_id,secret\n";
    for (const auto& id : ids_) keys += id + "," + testing::site_secret(id) + "\n";
    testing::write_file(dir_ / "keys.csv", keys);
    fs::permissions(dir_ / "keys.csv", fs::perms::owner_read | fs::perms::owner_write);
    testing::write_file(dir_ / "server.yaml",
                        fmt::format("province:\n  name: Reliability\n  sites: {}\n  schedule: {}\n"
                                    "data_dir: {}\nlisten: {{host: 127.0.0.1, port: {}}}\n"
                                    "detector: {{name: yunet, workers: 1}}\n"
                                    "nodes: {{site_keys: keys.csv, sample_interval_s: {}}}\n",
                                    (kSource / "config" / "sites.csv").string(),
                                    (kSource / "config" / "schedule.yaml").string(),
                                    data_dir_.string(), port_, node_interval_s));
  }
  ~ServerProcess() { kill9(); }

  void start() {
    pid_ =
        testing::spawn({ATTENDANCE_SERVER_BIN, "--config", (dir_ / "server.yaml").string()}, log());
    httplib::Client probe("127.0.0.1", port_);
    ASSERT_TRUE(eventually([&] { return static_cast<bool>(probe.Get("/healthz")); }, 60s))
        << testing::read_file(log());
  }
  void kill9() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    testing::wait_exit(pid_, 10s);
    pid_ = -1;
  }
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    EXPECT_EQ(testing::wait_exit(pid_, 30s), 0) << testing::read_file(log());
    pid_ = -1;
  }
  int port() const { return port_; }
  // The site of the real node: the last one with a key (simulated sites are the first ones).
  const std::string& node_site() const { return ids_.back(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  fs::path config() const { return dir_ / "server.yaml"; }
  fs::path database() const { return data_dir_ / "attendance.db"; }
  fs::path log() const { return dir_ / "server.log"; }

  // Rows of the service's database for one site.
  std::int64_t frames(const std::string& site) {
    return count("SELECT count(*) FROM observations WHERE site_id = '" + site + "'");
  }
  std::int64_t heartbeats(const std::string& site) {
    return count("SELECT count(*) FROM heartbeats WHERE site_id = '" + site + "'");
  }
  std::int64_t count(const std::string& sql) {
    testing::RawDb db(database());
    const std::string v = db.scalar(sql);
    return v.empty() ? 0 : std::stoll(v);
  }
  // The newest heartbeat report of a site (JSON), or null.
  nlohmann::json last_report(const std::string& site) {
    testing::RawDb db(database());
    const std::string v = db.scalar("SELECT report FROM heartbeats WHERE site_id = '" + site +
                                    "' ORDER BY sequence DESC LIMIT 1");
    return v.empty() ? nlohmann::json() : nlohmann::json::parse(v, nullptr, false);
  }

 private:
  fs::path dir_, data_dir_;
  int port_;
  std::vector<std::string> ids_;
  pid_t pid_ = -1;
};

// What a node's run said when it stopped (its last log line of counters).
struct NodeCounters {
  std::int64_t sampled = 0, spooled = 0, spool_failed = 0, queue_dropped = 0, stored = 0,
               duplicates = 0, rejected = 0, live_dropped = 0, left = 0;
  bool found = false;
};

NodeCounters parse_stopped_line(const std::string& log) {
  static const std::regex line(
      R"(stopped: (\d+) frames sampled, (\d+) items spooled, (\d+) not spooled \(disk\), (\d+) dropped )"
      R"(before the spool; (\d+) stored, (\d+) duplicates, (\d+) refused by the service; (\d+) )"
      R"(live-only items dropped when live views ended; (\d+) items)");
  NodeCounters c;
  for (auto it = std::sregex_iterator(log.begin(), log.end(), line); it != std::sregex_iterator();
       ++it) {
    const auto& m = *it;
    auto n = [&](int i) { return std::stoll(m[i].str()); };
    c = {n(1), n(2), n(3), n(4), n(5), n(6), n(7), n(8), n(9), true};  // the last run's
  }
  return c;
}

// attendance-capture for one site, its state (sequence file, spool) in `state_dir`.
class NodeProcess {
 public:
  NodeProcess(fs::path dir, fs::path state_dir, std::string site, std::string server_url,
              std::string source, double interval_s,
              const std::string& spool_yaml = "{max_mb: 4096}",
              const std::string& counting_yaml = "{mode: central}")
      : dir_(std::move(dir)), state_dir_(std::move(state_dir)), site_(std::move(site)) {
    fs::create_directories(dir_);
    testing::write_file(dir_ / "site.key", testing::site_secret(site_) + "\n");
    fs::permissions(dir_ / "site.key", fs::perms::owner_read | fs::perms::owner_write);
    testing::write_file(
        dir_ / "node.yaml",
        fmt::format("site_id: {}\nserver_url: {}\nsecret_file: {}\nstate_dir: {}\n"
                    "source:\n  uri: {}\n  sample_interval_s: {}\n  min_interval_s: 0.1\n"
                    "  stall_timeout_s: 2\n  width: 640\n  jpeg_quality: 80\n"
                    "spool: {}\nhealth: {{heartbeat_s: 2}}\ncounting: {}\n"
                    "upload: {{timeout_s: 3, max_backoff_s: 2}}\n",
                    site_, server_url, (dir_ / "site.key").string(), state_dir_.string(), source,
                    interval_s, spool_yaml, counting_yaml));
  }
  ~NodeProcess() { kill9(); }

  // `env`: NAME=value pairs put before the program (through /usr/bin/env).
  void start(const std::vector<std::string>& env = {}) {
    std::vector<std::string> args;
    if (!env.empty()) {
      args.push_back("/usr/bin/env");
      args.insert(args.end(), env.begin(), env.end());
    }
    args.insert(args.end(), {ATTENDANCE_CAPTURE_BIN, "--config", (dir_ / "node.yaml").string()});
    pid_ = testing::spawn(args, log());
  }
  void kill9() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    testing::wait_exit(pid_, 10s);
    pid_ = -1;
  }
  // SIGTERM and the counters it logs on the way out.
  NodeCounters stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      EXPECT_EQ(testing::wait_exit(pid_, 30s), 0) << testing::read_file(log());
      pid_ = -1;
    }
    return parse_stopped_line(testing::read_file(log()));
  }

  const std::string& site() const { return site_; }
  fs::path log() const { return dir_ / "node.log"; }

  // Sequence numbers issued so far (frames and heartbeats share them).
  std::int64_t issued() const {
    const std::string text = testing::read_file(state_dir_ / "sequence");
    return text.empty() ? 0 : std::stoll(text) - 1;
  }
  // Items the spool dropped to stay within its bounds (counted, reported to the service).
  std::int64_t spool_dropped() const {
    if (!fs::exists(state_dir_ / "spool.db")) return 0;
    testing::RawDb db(state_dir_ / "spool.db");
    const std::string v = db.scalar("SELECT value FROM counters WHERE name = 'dropped'");
    return v.empty() ? 0 : std::stoll(v);
  }
  // Items in the spool that the service's database (`database`) has too.
  std::int64_t spooled_and_stored(const fs::path& database) const {
    if (!fs::exists(state_dir_ / "spool.db")) return 0;
    testing::RawDb db(state_dir_ / "spool.db");
    db.exec("ATTACH DATABASE '" + database.string() + "' AS service");
    const std::string site = "'" + site_ + "'";
    return std::stoll(
        db.scalar("SELECT count(*) FROM items WHERE sequence IN (SELECT sequence FROM "
                  "service.observations WHERE site_id = " +
                  site +
                  " UNION SELECT sequence FROM "
                  "service.heartbeats WHERE site_id = " +
                  site + ")"));
  }
  // Items in the spool; with `before_ms`, only those captured before then. The kind
  // "observation" is every item the service stores as one: frames, counts, evidence.
  std::int64_t spooled(const std::string& kind = "", std::int64_t before_ms = 0) const {
    if (!fs::exists(state_dir_ / "spool.db")) return 0;
    testing::RawDb db(state_dir_ / "spool.db");
    std::string sql = "SELECT count(*) FROM items WHERE 1";
    if (kind == "observation") {
      sql += " AND kind <> 'health'";
    } else if (!kind.empty()) {
      sql += " AND kind = '" + kind + "'";
    }
    if (before_ms > 0) sql += " AND capture_time_ms < " + std::to_string(before_ms);
    return std::stoll(db.scalar(sql));
  }

 private:
  fs::path dir_, state_dir_;
  std::string site_;
  pid_t pid_ = -1;
};

// The account of one node's frames (or counts and evidence pictures, for a node that counts)
// after it stopped: every sequence number it issued is a row at the service, an item still in its
// spool, or counted by the node with a reason. A number can also be reserved and not yet spooled
// when the node is killed: that frame was in the node's memory (`unaccounted`, at most one a kill).
FaultRow account(const std::string& scenario, NodeProcess& node, ServerProcess& server,
                 const NodeCounters& last_run) {
  FaultRow row;
  row.scenario = scenario;
  EXPECT_TRUE(last_run.found) << scenario << ": the node's log has no line of counters";
  const std::int64_t issued = node.issued();
  const std::int64_t frames = server.frames(node.site());
  const std::int64_t beats = server.heartbeats(node.site());
  // An item stopped in flight can be stored and still spooled (its acknowledgement cut by the
  // stop; it goes again, as a duplicate, after the next start): counted once, as stored.
  const std::int64_t stored_and_spooled = node.spooled_and_stored(server.database());
  const std::int64_t left = node.spooled() - stored_and_spooled;
  const std::int64_t dropped = node.spool_dropped();
  row.stored = frames;
  row.lost = last_run.spool_failed + last_run.rejected + dropped;
  // No scenario here watches live: a live-only frame dropped would be a frame unaccounted.
  EXPECT_EQ(last_run.live_dropped, 0) << scenario;
  row.unaccounted = issued - frames - beats - left - row.lost;
  row.sampled = frames + node.spooled("observation") - stored_and_spooled + row.lost +
                std::max<std::int64_t>(0, row.unaccounted);
  std::vector<std::string> reasons;
  if (last_run.spool_failed)
    reasons.push_back(std::to_string(last_run.spool_failed) + " not spooled: node disk full");
  if (dropped)
    reasons.push_back(std::to_string(dropped) +
                      " dropped by the spool, oldest first, to keep "
                      "its disk from filling; reported to the service");
  if (last_run.rejected)
    reasons.push_back(std::to_string(last_run.rejected) + " refused by the service");
  for (const auto& r : reasons) row.lost_reason += (row.lost_reason.empty() ? "" : "; ") + r;
  if (left > 0) row.note = std::to_string(left) + " still in the node's spool at the end";
  return row;
}

// Waits until the service stored a frame of `site` captured at or after `since_ms`; the
// seconds from `from`, or -1.
double first_frame_after(ServerProcess& server, const std::string& site, std::int64_t since_ms,
                         Clock::time_point from, std::chrono::seconds limit) {
  const bool ok = eventually(
      [&] {
        return server.count("SELECT count(*) FROM observations WHERE site_id = '" + site +
                            "' AND captured_at_ms >= " + std::to_string(since_ms)) > 0;
      },
      limit, 100ms);
  return ok ? seconds_since(from) : -1;
}

// Waits until the node's spool holds nothing captured before `before_ms`.
double backlog_delivered(NodeProcess& node, std::int64_t before_ms, Clock::time_point from,
                         std::chrono::seconds limit) {
  const bool ok = eventually([&] { return node.spooled("", before_ms) == 0; }, limit, 100ms);
  return ok ? seconds_since(from) : -1;
}

void sleep_s(double s) {
  std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<long long>(s * 1000)));
}

// The pictures the simulated sites send: the real classroom frames when ../shared has
// them, generated ones otherwise.
fs::path sim_images(const fs::path& dir) {
  if (auto shared = testing::shared_file("data/classroom"); shared && fs::is_directory(*shared)) {
    return *shared;
  }
  std::cout << "[reliability] ../shared/data/classroom is absent: the simulated sites send "
               "generated pictures\n";
  for (int i = 0; i < 4; ++i) {
    testing::write_file(dir / "frames" / fmt::format("f{}.jpg", i),
                        testing::synthetic_jpeg(640, 360, 60 + 5 * i));
  }
  return dir / "frames";
}

// attendance-sim in the background: `sites` sites at `interval_s`, for `duration_s`, then
// up to `drain_s` to deliver what they hold; `mode` "edge": a count at each interval and an
// evidence picture every kEdgeEvidenceInterval. Its JSON summary when it ends.
class SimProcess {
 public:
  SimProcess(const fs::path& dir, ServerProcess& server, int sites, double interval_s,
             double duration_s, double drain_s, const std::string& mode = "central")
      : out_(dir / fmt::format("sim-{}.json", ++runs_)),
        acked_(dir / fmt::format("acked-{}", runs_)) {
    pid_ = testing::spawn({ATTENDANCE_SIM_BIN,
                           "--mode",
                           mode,
                           "--evidence-interval",
                           fmt::format("{}", kEdgeEvidenceInterval),
                           "--config",
                           server.config().string(),
                           "--server",
                           server.url(),
                           "--sites",
                           std::to_string(sites),
                           "--interval",
                           fmt::format("{}", interval_s),
                           "--duration",
                           fmt::format("{}", duration_s),
                           "--drain",
                           fmt::format("{}", drain_s),
                           "--spool",
                           "100000",
                           "--width",
                           "640",
                           "--height",
                           "360",
                           "--images",
                           sim_images(dir).string(),
                           "--acked",
                           acked_.string()},
                          out_);
    limit_ = std::chrono::seconds(static_cast<long long>(duration_s + drain_s + 60));
  }
  ~SimProcess() {
    if (pid_ > 0) ::kill(pid_, SIGKILL), testing::wait_exit(pid_, 10s);
  }
  nlohmann::json wait() {
    const int code = testing::wait_exit(pid_, limit_);
    pid_ = -1;
    const std::string text = testing::read_file(out_);
    EXPECT_EQ(code, 0) << text;
    // The summary is the last line (the log lines before it go to the same file).
    const auto start = text.rfind("\n{");
    return nlohmann::json::parse(start == std::string::npos ? text : text.substr(start + 1),
                                 nullptr, false);
  }
  // Every frame the service acknowledged to the simulator, as (site, sequence).
  std::vector<std::pair<std::string, std::string>> acknowledged() const {
    std::vector<std::pair<std::string, std::string>> out;
    std::ifstream in(acked_);
    std::string site, sequence;
    while (in >> site >> sequence) out.emplace_back(site, sequence);
    return out;
  }

 private:
  static inline int runs_ = 0;
  fs::path out_, acked_;
  pid_t pid_ = -1;
  std::chrono::seconds limit_{};
};

// How many of the acknowledged frames are not in the service's database (must be none).
std::int64_t acknowledged_but_missing(ServerProcess& server, const SimProcess& sim) {
  testing::RawDb db(server.database());
  std::int64_t missing = 0;
  for (const auto& [site, sequence] : sim.acknowledged()) {
    if (db.scalar("SELECT count(*) FROM observations WHERE site_id = '" + site +
                  "' AND sequence = " + sequence) != "1") {
      ++missing;
    }
  }
  return missing;
}

// Adds the simulated sites' frames to a fault's account, once the simulator has delivered
// what it held; every frame the service acknowledged to it must be a row.
void add_simulated(FaultRow& row, SimProcess& sim, ServerProcess& server,
                   const std::string& node_site) {
  const nlohmann::json out = sim.wait();
  ASSERT_TRUE(out.is_object());
  const std::int64_t sampled = out["sampled"], dropped = out["dropped_in_sim_spools"],
                     held = out["left_in_sim_spools"];
  const std::int64_t stored =
      server.count("SELECT count(*) FROM observations WHERE site_id <> '" + node_site + "'");
  row.sampled += sampled;
  row.stored += stored;
  row.lost += dropped;
  row.unaccounted += sampled - stored - dropped - held;
  EXPECT_EQ(held, 0) << "the simulated sites still held frames";
  EXPECT_EQ(acknowledged_but_missing(server, sim), 0) << "an acknowledged frame was lost";
}

// A tmpfs of `size` mounted on `dir` for the length of a scenario: a disk that fills. Needs
// root (CI has it); skips the scenario, saying so, otherwise.
class SmallDisk {
 public:
  SmallDisk(fs::path dir, const std::string& size) : dir_(std::move(dir)) {
    fs::create_directories(dir_);
    const std::string options = "size=" + size + ",mode=0755";
    if (::mount("tmpfs", dir_.c_str(), "tmpfs", 0, options.c_str()) == 0) {
      mounted_ = true;
    } else {
      error_ = std::strerror(errno);
    }
  }
  ~SmallDisk() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }

  // Fills what is left with a file, as another program filling the disk would.
  void fill() {
    const int fd = ::open((dir_ / "filler").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    const std::string chunk(64 * 1024, 'x');
    for (size_t size = chunk.size(); size >= 512;) {
      if (::write(fd, chunk.data(), size) < 0) size /= 2;
    }
    ::close(fd);
  }
  void free_space() { fs::remove(dir_ / "filler"); }

 private:
  fs::path dir_;
  bool mounted_ = false;
  std::string error_;
};

// A TCP proxy on loopback between a node and the service, which can cut the link as a bad
// rural link does: bytes stop flowing and connections hang (the node's timeouts have to
// notice), rather than being refused. When the link comes back, the connections that were
// open are gone (reset), as they would be after a long cut.
class LinkProxy {
 public:
  explicit LinkProxy(int upstream_port) : upstream_(upstream_port) {
    listen_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(listen_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(listen_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(listen_, 64), 0);
    socklen_t len = sizeof addr;
    ::getsockname(listen_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~LinkProxy() {
    stop_ = true;
    thread_.join();
    ::close(listen_);
    for (auto& [a, b] : pairs_) ::close(a), b >= 0 && ::close(b);
  }
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  void cut() { cut_ = true; }
  void restore() { restore_ = true; }

 private:
  void run() {
    std::vector<char> buffer(64 * 1024);
    while (!stop_) {
      if (restore_.exchange(false)) {  // the link is back; its old connections are not
        for (auto& [a, b] : pairs_) {
          linger reset{1, 0};
          ::setsockopt(a, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
          ::close(a);
          if (b >= 0) ::close(b);
        }
        pairs_.clear();
        cut_ = false;
      }
      const bool cut = cut_;
      std::vector<pollfd> fds{{listen_, POLLIN, 0}};
      if (!cut) {
        for (auto& [a, b] : pairs_) {
          fds.push_back({a, POLLIN, 0});
          fds.push_back({b, POLLIN, 0});
        }
      }
      if (::poll(fds.data(), fds.size(), 50) <= 0) continue;
      if (fds[0].revents & POLLIN) {
        const int a = ::accept(listen_, nullptr, nullptr);
        int b = -1;
        if (a >= 0 && !cut) b = connect_upstream();
        if (a >= 0) pairs_.emplace_back(a, b);  // while cut: held, silent
        if (a >= 0 && !cut && b < 0) close_pair(pairs_.size() - 1);
      }
      if (cut) continue;
      // Forward what arrived; a side that closed closes the pair.
      std::vector<size_t> closed;
      for (size_t i = 1; i < fds.size(); ++i) {
        if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        const size_t pair = (i - 1) / 2;
        const int from = fds[i].fd;
        const int to = (from == pairs_[pair].first) ? pairs_[pair].second : pairs_[pair].first;
        const ssize_t n = ::read(from, buffer.data(), buffer.size());
        if (n <= 0 || !write_all(to, buffer.data(), static_cast<size_t>(n))) {
          if (closed.empty() || closed.back() != pair) closed.push_back(pair);
        }
      }
      for (auto it = closed.rbegin(); it != closed.rend(); ++it) close_pair(*it);
    }
  }
  int connect_upstream() const {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(upstream_));
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd);
      return -1;
    }
    return fd;
  }
  static bool write_all(int fd, const char* data, size_t size) {
    while (size > 0) {
      const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
      if (n <= 0) return false;
      data += n;
      size -= static_cast<size_t>(n);
    }
    return true;
  }
  void close_pair(size_t i) {
    ::close(pairs_[i].first);
    if (pairs_[i].second >= 0) ::close(pairs_[i].second);
    pairs_.erase(pairs_.begin() + static_cast<std::ptrdiff_t>(i));
  }

  int upstream_, listen_ = -1, port_ = 0;
  std::atomic<bool> stop_{false}, cut_{false}, restore_{false};
  std::vector<std::pair<int, int>> pairs_;  // (node side, service side); -1: none yet
  std::thread thread_;
};

// ---- the scenarios -------------------------------------------------------------------------

constexpr double kNodeInterval = 0.25;  // the node's frames: 4 a second, to make faults count
const char kTestPicture[] = "videotestsrc://?pattern=ball";

// Records a fault scenario's row, and checks the account: nothing lost without a reason.
void record(FaultRow row, std::int64_t kills = 0) {
  EXPECT_GE(row.unaccounted, 0) << row.scenario;
  EXPECT_LE(row.unaccounted, kills)
      << row.scenario << ": sequence numbers neither stored, spooled nor counted";
  std::cout << "[reliability] " << row.scenario << ": sampled " << row.sampled << ", stored "
            << row.stored << ", lost " << row.lost << " " << row.lost_reason << ", unaccounted "
            << row.unaccounted << ", first frame after " << fixed(row.first_after_s)
            << " s, backlog " << fixed(row.backlog_s) << " s\n";
  std::lock_guard lock(g_rows_mu);
  g_faults.push_back(std::move(row));
}

TEST(Load, RisingRatesUntilTheServicePushesBackLoseNothing) {
  testing::TempDir dir;
  const Form f = form();
  constexpr int kSiteSteps[] = {2, 4, 8, 16, 32, 64, 128};
  constexpr double kInterval = 0.5;
  ServerProcess server(dir.path(), dir / "data", 128, 5);
  server.start();
  bool pushed_back = false;
  for (int sites : kSiteSteps) {
    const std::int64_t before = server.count("SELECT count(*) FROM observations");
    SimProcess sim(dir.path(), server, sites, kInterval, f.load_step_s, 10 * f.load_step_s + 60);
    const nlohmann::json out = sim.wait();
    ASSERT_TRUE(out.is_object()) << "no summary from attendance-sim";
    LoadRow row;
    row.sites = sites;
    row.offered_fps = sites / kInterval;
    row.sampled = out["sampled"];
    row.stored = server.count("SELECT count(*) FROM observations") - before;
    row.busy = out["busy_503"];
    row.dropped = out["dropped_in_sim_spools"];
    row.held = out["left_in_sim_spools"];
    row.p50_ms = out["latency_p50_ms"];
    row.p99_ms = out["latency_p99_ms"];
    // The rate stored while sampling: what the service held.
    row.stored_fps = out["stored"].get<double>() / out["seconds"].get<double>();
    row.unaccounted = row.sampled - row.stored - row.dropped - row.held;
    EXPECT_EQ(row.dropped, 0) << "the simulated spools were large enough";
    EXPECT_EQ(row.held, 0) << "the drain delivered everything";
    EXPECT_EQ(row.unaccounted, 0) << "every sampled frame is stored, held or dropped (counted)";
    EXPECT_EQ(out["refused"], 0);
    EXPECT_EQ(row.stored, out["stored"].get<std::int64_t>());
    EXPECT_EQ(acknowledged_but_missing(server, sim), 0);
    {
      std::lock_guard lock(g_rows_mu);
      g_load.push_back(row);
    }
    std::cout << "[reliability] load " << sites << " sites: " << out.dump() << "\n";
    if (row.busy > 0) {
      pushed_back = true;
      break;
    }
  }
  EXPECT_TRUE(pushed_back) << "the service never pushed back: raise the top rate";
  server.stop();
}

// One fault scenario's parts: a service with keys for `sites` sites (the first ones for
// simulated load, the last for the real node) and one real node, talking through a link
// proxy when asked; the node's state or the service's data on a small disk when asked.
// Nothing runs until started.
struct RigOptions {
  int sites = 2;
  bool through_proxy = false;
  std::string source = kTestPicture;
  std::string spool_yaml = "{max_mb: 4096}";
  bool edge = false;            // the node counts (kEdgeCounting) instead of sending frames
  std::string small_disk = "";  // "node" or "service": that side's data on a tmpfs of disk_size
  std::string disk_size = "";
};

class Rig {
 public:
  explicit Rig(const RigOptions& o)
      : disk_(o.small_disk.empty()
                  ? nullptr
                  : std::make_unique<SmallDisk>(
                        dir / (o.small_disk == "node" ? "node-state" : "data"), o.disk_size)),
        server(dir.path(), dir / "data", o.sites, kNodeInterval),
        link_(o.through_proxy ? std::make_unique<LinkProxy>(server.port()) : nullptr),
        node(dir / "node", dir / "node-state", server.node_site(),
             link_ ? link_->url() : server.url(), o.source, kNodeInterval, o.spool_yaml,
             o.edge ? kEdgeCounting : "{mode: central}") {}
  // Why the small disk asked for could not be mounted; "" when it was (or none was asked).
  std::string unmounted() const {
    return !disk_ || disk_->mounted()
               ? ""
               : "cannot mount a small tmpfs (needs root): " + disk_->error();
  }
  SmallDisk& disk() { return *disk_; }
  LinkProxy& link() { return *link_; }

  testing::TempDir dir;
  const Form f = form();

 private:
  std::unique_ptr<SmallDisk> disk_;

 public:
  ServerProcess server;

 private:
  std::unique_ptr<LinkProxy> link_;

 public:
  NodeProcess node;
};

// What a scenario's row says of the load: frames, or counts and pictures from nodes that
// count.
std::string load_name(bool edge) {
  return edge ? "edge load (8 sites counting: a count a second, a picture every 5 s)"
              : "load (8 sites, 18 frames/s)";
}

// Under edge load, what the service stored was counted at the sites (a node that could not
// load its model would have sent frames instead), pictures among it.
void expect_counted_at_the_sites(ServerProcess& server) {
  EXPECT_EQ(server.count("SELECT count(*) FROM observations WHERE counted_by <> 'node'"), 0);
  EXPECT_GT(server.count("SELECT count(*) FROM observations WHERE frame_path <> ''"), 0);
}

void server_killed(bool edge) {
  Rig rig({.sites = 8, .edge = edge});
  auto [dir, f, server, node] = std::tie(rig.dir, rig.f, rig.server, rig.node);
  server.start();
  node.start();
  // Load beside it: 7 more sites at 2 frames a second each, or a count every 1 s.
  SimProcess sim(dir.path(), server, 7, edge ? 1 : 0.5, 3 * f.phase_s + 10, 120,
                 edge ? "edge" : "central");
  sleep_s(f.phase_s);
  server.kill9();
  sleep_s(f.phase_s);
  const auto back = Clock::now();
  const std::int64_t back_ms = now_ms();
  server.start();
  const double first = first_frame_after(server, node.site(), back_ms, back, 120s);
  const double backlog = backlog_delivered(node, back_ms, back, 120s);
  ASSERT_TRUE(eventually([&] { return node.spooled() <= 1; }, 60s));
  FaultRow row =
      account("kill -9 of the server under " + load_name(edge), node, server, node.stop());
  add_simulated(row, sim, server, node.site());
  row.first_after_s = first;
  row.backlog_s = backlog;
  row.note = "every acknowledged item is in the database after the restart";
  record(row);
  if (edge) expect_counted_at_the_sites(server);
  server.stop();
}

TEST(Faults, ServerKilledUnderLoad) {
  server_killed(false);
}

TEST(Faults, ServerKilledUnderEdgeLoad) {
  server_killed(true);
}

void node_killed(bool edge) {
  Rig rig({.sites = 8, .edge = edge});
  auto [dir, f, server, node] = std::tie(rig.dir, rig.f, rig.server, rig.node);
  server.start();
  node.start();
  SimProcess sim(dir.path(), server, 7, edge ? 1 : 0.5, 3 * f.phase_s + 10, 120,
                 edge ? "edge" : "central");
  sleep_s(f.phase_s);
  node.kill9();
  const std::int64_t spooled_at_kill = node.spooled();
  sleep_s(f.phase_s);
  const auto back = Clock::now();
  const std::int64_t back_ms = now_ms();
  node.start();
  const double first = first_frame_after(server, node.site(), back_ms, back, 120s);
  const double backlog = backlog_delivered(node, back_ms, back, 120s);
  sleep_s(f.phase_s);
  ASSERT_TRUE(eventually([&] { return node.spooled() <= 1; }, 60s));
  FaultRow row = account("kill -9 of a node under " + load_name(edge), node, server, node.stop());
  add_simulated(row, sim, server, node.site());
  row.first_after_s = first;
  row.backlog_s = backlog;
  row.note = fmt::format("{} item(s) were in its spool when killed; all sent after the restart",
                         spooled_at_kill);
  record(row, /*kills=*/1);
  if (edge) expect_counted_at_the_sites(server);
  server.stop();
}

TEST(Faults, NodeKilledUnderLoad) {
  node_killed(false);
}

TEST(Faults, NodeKilledUnderEdgeLoad) {
  node_killed(true);
}

void link_cut(bool edge) {
  Rig rig({.through_proxy = true, .edge = edge});
  auto [f, server, link, node] = std::tie(rig.f, rig.server, rig.link(), rig.node);
  server.start();
  node.start();
  sleep_s(f.phase_s);
  link.cut();
  sleep_s(f.cut_s);
  const std::int64_t held = node.spooled("observation");
  const std::int64_t held_pictures = node.spooled("evidence");
  const auto back = Clock::now();
  const std::int64_t back_ms = now_ms();
  link.restore();
  const double first = first_frame_after(server, node.site(), back_ms, back, 1800s);
  const double backlog = backlog_delivered(node, back_ms, back, 1800s);
  sleep_s(f.phase_s);
  const std::string cut =
      f.cut_s >= 60 ? fmt::format("{:.0f} min", f.cut_s / 60) : fmt::format("{:.0f} s", f.cut_s);
  FaultRow row = account(fmt::format("link cut for {} (proxy stops forwarding){}", cut,
                                     edge ? ", a node that counts" : ""),
                         node, server, node.stop());
  row.first_after_s = first;
  row.backlog_s = backlog;
  if (edge) {
    expect_counted_at_the_sites(server);
    row.note = fmt::format("{} counts and {} evidence pictures held in the spool during the cut",
                           held - held_pictures, held_pictures);
    // A count a second and a picture every 5 s, at least half of them.
    EXPECT_GT(held - held_pictures, f.cut_s / 2) << "the cut did not hold counts back";
    EXPECT_GT(held_pictures, f.cut_s / kEdgeEvidenceInterval / 2)
        << "the cut did not hold pictures back";
  } else {
    row.note = fmt::format("{} frames held in the spool during the cut", held);
    EXPECT_GT(held, f.cut_s / kNodeInterval / 2) << "the cut did not hold frames back";
  }
  record(row);
  server.stop();
}

TEST(Faults, LinkCut) {
  link_cut(false);
}

TEST(Faults, LinkCutWhileTheNodeCounts) {
  link_cut(true);
}

TEST(Faults, CameraGoneAndBack) {
  testing::RtspServer camera(
      "( videotestsrc is-live=true pattern=ball ! video/x-raw,width=640,height=360,framerate=10/1"
      " ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=10 ! rtph264pay name=pay0 "
      "pt=96 )");
  auto port = camera.start();
  ASSERT_TRUE(port) << port.error().message;
  Rig rig({.source = fmt::format("rtsp://127.0.0.1:{}/cam", *port)});
  auto [f, server, node] = std::tie(rig.f, rig.server, rig.node);
  server.start();
  node.start();
  ASSERT_TRUE(eventually([&] { return server.frames(node.site()) > 0; }, 60s));
  sleep_s(f.phase_s);
  camera.stop();
  const std::int64_t gone_ms = now_ms();
  sleep_s(std::max(f.phase_s, 8.0));  // longer than the stall timeout and a heartbeat
  const std::int64_t during =
      server.count("SELECT count(*) FROM observations WHERE site_id = '" + node.site() +
                   "' AND captured_at_ms > " + std::to_string(gone_ms + 1000));
  const auto back = Clock::now();
  const std::int64_t back_ms = now_ms();
  ASSERT_TRUE(camera.start(*port));
  const double first = first_frame_after(server, node.site(), back_ms, back, 120s);
  const bool said_so =
      server.count("SELECT count(*) FROM heartbeats WHERE site_id = '" + node.site() +
                   "' AND "
                   "json_extract(report, '$.state') = 'no_frames'") > 0;
  sleep_s(f.phase_s);
  FaultRow row = account("camera gone and back (RTSP server stopped)", node, server, node.stop());
  row.first_after_s = first;
  row.note = fmt::format("{} frames while it was gone; the node reported no_frames: {}", during,
                         said_so ? "yes" : "no");
  EXPECT_EQ(during, 0);
  EXPECT_TRUE(said_so) << "the outage was not reported";
  record(row);
  server.stop();
}

TEST(Faults, NodeDiskFull) {
  // Noise makes large JPEGs (about 100 KB), so the spool reaches the disk's floor quickly.
  Rig rig({.through_proxy = true,
           .source = "videotestsrc://?pattern=snow",
           .spool_yaml = "{max_mb: 4096, min_free_mb: 4}",
           .small_disk = "node",
           .disk_size = "12m"});
  if (!rig.unmounted().empty()) GTEST_SKIP() << rig.unmounted();
  auto [f, server, link, node] = std::tie(rig.f, rig.server, rig.link(), rig.node);
  server.start();
  node.start();
  sleep_s(f.phase_s);
  link.cut();  // the spool grows until the disk is nearly full, then drops its oldest
  ASSERT_TRUE(eventually(
      [&] { return testing::read_file(node.log()).find("disk nearly full") != std::string::npos; },
      300s))
      << "the node's disk never filled";
  sleep_s(f.phase_s);
  const auto back = Clock::now();
  const std::int64_t back_ms = now_ms();
  link.restore();
  const double first = first_frame_after(server, node.site(), back_ms, back, 300s);
  const double backlog = backlog_delivered(node, back_ms, back, 300s);
  sleep_s(f.phase_s);
  const NodeCounters counters = node.stop();
  FaultRow row = account("node disk full (12 MiB tmpfs, 4 MiB kept free; link cut meanwhile)", node,
                         server, counters);
  row.first_after_s = first;
  row.backlog_s = backlog;
  const std::int64_t reported =
      server.count("SELECT coalesce(sum(spool_dropped), 0) FROM heartbeats WHERE site_id = '" +
                   node.site() + "'");
  row.note = fmt::format("the service was told of {} dropped; {} could not be spooled", reported,
                         counters.spool_failed);
  EXPECT_GT(node.spool_dropped(), 0);
  EXPECT_EQ(reported, node.spool_dropped()) << "the drops were not all reported";
  EXPECT_EQ(counters.spool_failed, 0) << "the spool filled the disk";
  record(row);
  server.stop();
}

TEST(Faults, ServerDiskFull) {
  Rig rig({.small_disk = "service", .disk_size = "64m"});
  if (!rig.unmounted().empty()) GTEST_SKIP() << rig.unmounted();
  auto [f, server, disk, node] = std::tie(rig.f, rig.server, rig.disk(), rig.node);
  server.start();
  node.start();
  sleep_s(f.phase_s);
  disk.fill();
  const std::int64_t full_frames = server.frames(node.site());
  sleep_s(f.phase_s);
  const std::int64_t stored_while_full = server.frames(node.site()) - full_frames;
  const auto back = Clock::now();
  const std::int64_t back_ms = now_ms();
  disk.free_space();
  const double first = first_frame_after(server, node.site(), back_ms, back, 120s);
  const double backlog = backlog_delivered(node, back_ms, back, 120s);
  sleep_s(f.phase_s);
  FaultRow row = account("server disk full (64 MiB tmpfs filled)", node, server, node.stop());
  row.first_after_s = first;
  row.backlog_s = backlog;
  row.note = fmt::format("{} stored while full (frames already past the disk)", stored_while_full);
  record(row);
  EXPECT_LE(stored_while_full, 2);
  server.stop();
}

// The node's clock set `offset` off the service's (libfaketime, GStreamer's monotonic clock
// left alone).
void clock_skew(const std::string& offset, const std::string& name) {
  const fs::path faketime = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1";
  if (!fs::exists(faketime)) GTEST_SKIP() << "libfaketime is not installed (scripts/deps.sh)";
  Rig rig({});
  auto [f, server, node] = std::tie(rig.f, rig.server, rig.node);
  server.start();
  const auto start = Clock::now();
  const std::int64_t start_ms = now_ms();
  node.start({"LD_PRELOAD=" + faketime.string(), "FAKETIME=" + offset,
              "FAKETIME_DONT_FAKE_MONOTONIC=1", "FAKETIME_DONT_RESET=1",
              "ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=0"});
  const double first = first_frame_after(server, node.site(), start_ms - 3600'000, start, 60s);
  sleep_s(2 * f.phase_s);
  ASSERT_TRUE(eventually([&] { return node.spooled() <= 1; }, 60s));
  FaultRow row = account(name, node, server, node.stop());
  row.first_after_s = first;
  // Frames stored more than 5 s off the service's clock: only those sampled before the
  // node first heard the service's time, in its first seconds.
  const std::string site = "site_id = '" + node.site() + "'";
  const std::int64_t off = server.count("SELECT count(*) FROM observations WHERE " + site +
                                        " AND abs(captured_at_ms - received_at_ms) > 5000");
  const std::int64_t off_later =
      server.count("SELECT count(*) FROM observations WHERE " + site +
                   " AND abs(captured_at_ms - received_at_ms) > 5000 AND received_at_ms > " +
                   std::to_string(start_ms + 5000));
  row.note = fmt::format(
      "{} frame(s) stored at the node's own time (sampled before it first reached the "
      "service); the rest at the service's",
      off);
  EXPECT_EQ(off_later, 0) << "frames were stored at the node's wrong time";
  EXPECT_EQ(row.lost, 0) << "frames refused for the node's clock";
  record(row);
  server.stop();
}

TEST(Faults, NodeClockAhead) {
  clock_skew("+1h", "node clock 1 h ahead");
}

TEST(Faults, NodeClockBehind) {
  clock_skew("-1h", "node clock 1 h behind");
}

}  // namespace
}  // namespace att
