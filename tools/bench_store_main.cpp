// bench-store: the service's write path on its own, on SQLite and, given --postgres, on
// PostgreSQL with the same threads and the same rows. Two workloads, each with group commit
// (max batch 256, the service's setting) and then with a transaction per write (max batch 1,
// the baseline), each run on a fresh, empty store:
//  - observations: T threads (as the HTTP threads do) insert analysed frames;
//  - ledger appends: A threads append to the attendance ledger (LedgerStore::append on
//    Chain::kLedger, as roll calls and alerts do). Every append reads the chain's end and
//    links to it, so appends serialize on the chain whatever the threads: on SQLite through
//    the one writer connection and then ledger.head (rewritten and fsync'd under a mutex after
//    an append commits); on PostgreSQL through the chain's row of chain_heads, locked until
//    the transaction commits.
// Every write is durable before it returns: SQLite with synchronous=FULL, PostgreSQL with
// synchronous_commit=on (a real flush only when the server runs with fsync on: start it with
// scripts/pg_server.sh --durable). PostgreSQL's runs each get a database of their own
// (CREATE DATABASE on the server --postgres names, dropped after the run).
// Prints one JSON line per run ({"workload", "backend", "mode", ...}), then the ratios: group
// commit against a transaction per write for each backend, PostgreSQL against SQLite with group
// commit. scripts/bench_store.sh runs it and makes the tables.
#include <libpq-fe.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "analysis/store/pg_db.h"
#include "analysis/store/pg_store.h"
#include "analysis/store/sqlite_store.h"

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kGroupCommitBatch = 256;  // GroupCommitOptions' default: what the service runs

struct Run {
  double seconds = 0, p50_ms = 0, p99_ms = 0;
  double commit_seconds = 0;  // the writer thread's time in COMMIT (the flushes)
  std::int64_t writes = 0, transactions = 0, largest_batch = 0;
  double writes_per_s() const { return static_cast<double>(writes) / seconds; }
};

// Where a run's store lives: each open() gives a fresh, empty store; discard() removes what it
// made once that store is closed.
class Backend {
 public:
  virtual ~Backend() = default;
  virtual const char* name() const = 0;
  virtual std::unique_ptr<att::Store> open(int max_batch) = 0;
  virtual void discard() noexcept = 0;
};

class SqliteBackend final : public Backend {
 public:
  explicit SqliteBackend(std::filesystem::path dir) : dir_(std::move(dir)) {}
  const char* name() const override { return "sqlite"; }
  std::unique_ptr<att::Store> open(int max_batch) override {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    att::SqliteStoreOptions options;  // full_sync: synchronous=FULL
    options.writer.max_batch = max_batch;
    auto store = att::SqliteStore::open(dir_ / "bench.db", options);
    if (!store) throw std::runtime_error("SQLite: " + store.error().message);
    return std::move(*store);
  }
  void discard() noexcept override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

 private:
  std::filesystem::path dir_;
};

// The benchmark's database on the server `conninfo` names.
std::string database_conninfo(const std::string& conninfo, const std::string& database) {
  auto out = att::pg::with_dbname(conninfo, database);
  if (!out) throw std::runtime_error("--postgres: " + out.error().message);
  return *out;
}

class PgBackend final : public Backend {
 public:
  // `conninfo` names a database to connect to for CREATE and DROP DATABASE (postgres).
  explicit PgBackend(std::string conninfo)
      : admin_conninfo_(std::move(conninfo)),
        database_("bench_store_" + std::to_string(::getpid())),
        conninfo_(database_conninfo(admin_conninfo_, database_)) {}
  const char* name() const override { return "postgres"; }
  std::unique_ptr<att::Store> open(int max_batch) override {
    auto admin = att::pg::connect(admin_conninfo_);
    if (!admin) throw std::runtime_error(admin.error().message);
    for (const std::string& sql : {"DROP DATABASE IF EXISTS " + database_ + " WITH (FORCE)",
                                   "CREATE DATABASE " + database_ + " TEMPLATE template0"}) {
      if (auto s = att::pg::exec(admin->get(), sql, "PostgreSQL"); !s) {
        throw std::runtime_error(s.error().message);
      }
    }
    att::PgStoreOptions options;
    options.conninfo = conninfo_;
    options.writer.max_batch = max_batch;
    auto store = att::PgStore::open(options);
    if (!store) {
      discard();
      throw std::runtime_error("PostgreSQL: " + store.error().message);
    }
    return std::move(*store);
  }
  void discard() noexcept override {
    auto admin = att::pg::connect(admin_conninfo_);
    auto dropped = admin ? att::pg::exec(admin->get(),
                                         "DROP DATABASE IF EXISTS " + database_ + " WITH (FORCE)",
                                         "drop the benchmark's database")
                         : att::Status(std::unexpected(admin.error()));
    if (!dropped) std::cerr << "bench-store: " << dropped.error().message << "\n";
  }

 private:
  std::string admin_conninfo_, database_, conninfo_;
};

// A fresh store for one run, closed (every queued write committed) and removed at the end.
class FreshStore {
 public:
  FreshStore(Backend& backend, int max_batch)
      : backend_(backend), store_(backend.open(max_batch)) {}
  ~FreshStore() {
    store_.reset();
    backend_.discard();
  }
  FreshStore(const FreshStore&) = delete;
  FreshStore& operator=(const FreshStore&) = delete;
  att::Store& operator*() { return *store_; }

 private:
  Backend& backend_;
  std::unique_ptr<att::Store> store_;
};

std::vector<std::string> add_sites(att::Store& store, int count) {
  std::vector<att::Site> sites;
  std::vector<std::string> ids;
  for (int t = 0; t < count; ++t) {
    att::Site s;
    s.id = "s-" + std::to_string(t);
    s.name = s.district = s.address = s.camera = "x";
    s.expected_attendees = 50;
    sites.push_back(s);
    ids.push_back(s.id);
  }
  if (auto s = store.sync_sites(sites); !s)
    throw std::runtime_error("sync_sites: " + s.error().message);
  return ids;
}

// Runs write(thread, i) for i in [0, per_thread) on `threads` threads at once and measures the
// whole and each call. Writes and transactions are those of these calls only.
Run measure(att::Store& store, int threads, int per_thread,
            const std::function<att::Status(int, int)>& write) {
  const att::WriteStats before = store.write_stats();
  std::vector<std::vector<double>> latencies(static_cast<size_t>(threads));
  const auto start = Clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        const auto t0 = Clock::now();
        if (auto s = write(t, i); !s) {
          std::cerr << "bench-store: a write failed: " << s.error().message << "\n";
          std::abort();
        }
        latencies[static_cast<size_t>(t)].push_back(
            std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      }
    });
  }
  for (auto& t : pool) t.join();
  Run r;
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  r.p50_ms = all[all.size() / 2];
  r.p99_ms = all[std::min(all.size() - 1, all.size() * 99 / 100)];
  const att::WriteStats after = store.write_stats();
  r.writes = after.writes - before.writes;
  r.transactions = after.transactions - before.transactions;
  r.commit_seconds = after.commit_seconds - before.commit_seconds;
  r.largest_batch = after.largest_batch;  // the set-up's writes are one transaction each
  return r;
}

Run observations(Backend& backend, int max_batch, int threads, int per_thread) {
  FreshStore store(backend, max_batch);
  const std::vector<std::string> sites = add_sites(*store, threads);
  return measure(*store, threads, per_thread, [&](int t, int i) -> att::Status {
    // Built inside the timed run but outside the write's latency, as a request handler does.
    att::Observation o;
    o.site_id = sites[static_cast<size_t>(t)];
    o.sequence = i;
    o.captured_at_ms = 1'780'000'000'000 + i * 5000LL;
    o.received_at_ms = o.captured_at_ms + 300;
    o.count = o.frame_count = 42;
    for (int b = 0; b < 42; ++b) o.boxes.push_back({10.f * b, 20.f, 30.f, 30.f, 0.9f});
    o.detector = "fused";
    o.width = 1280;
    o.height = 720;
    o.frame_path = "frames/" + o.site_id + "/" + std::to_string(i) + ".jpg";
    o.frame_sha256 = std::string(64, 'a');
    o.health = R"({"brightness":0.41,"sharpness":0.7,"frozen":false})";
    auto inserted = (*store).insert_observation(o);
    if (!inserted) return std::unexpected(inserted.error());
    return {};
  });
}

Run appends(Backend& backend, int max_batch, int threads, int per_thread) {
  FreshStore store(backend, max_batch);
  const std::vector<std::string> sites = add_sites(*store, threads);
  return measure(*store, threads, per_thread, [&](int t, int i) -> att::Status {
    const std::string& site = sites[static_cast<size_t>(t)];
    att::LedgerEntry e;  // a roll call's entry, its body as canonical_body() makes it
    e.kind = "roll_call";
    e.site_id = site;
    e.subject = "roll_call/" + site + "/2027-07-12/" + std::to_string(i);
    e.at_ms = 1'780'000'000'000 + i * 60'000LL;
    e.actor = "system";
    e.body = R"({"count":42,"expected":50,"frame_sha256":")" + std::string(64, 'a') +
             R"(","observation":)" + std::to_string(i) + "}";
    auto appended = (*store).append(att::Chain::kLedger, e);
    if (!appended) return std::unexpected(appended.error());
    return {};
  });
}

const char* mode_name(int max_batch) {
  return max_batch == 1 ? "transaction_per_write" : "group_commit";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bench-store: group commit against a transaction per write, SQLite and PostgreSQL"};
  std::string dir = "/tmp/bench-store", postgres;
  int threads = 16, per_thread = 200, append_threads = 4, appends_per_thread = 200;
  app.add_option("--dir", dir, "scratch directory for SQLite (emptied)")->capture_default_str();
  app.add_option("--threads", threads, "observation writers at once")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--per-thread", per_thread, "observations each")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--append-threads", append_threads, "ledger appenders at once")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--appends-per-thread", appends_per_thread, "ledger appends each")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--postgres", postgres,
                 "libpq connection string of a PostgreSQL server to run the same workloads on "
                 "(a database is created and dropped for each run)");
  CLI11_PARSE(app, argc, argv);

  try {
    std::vector<std::unique_ptr<Backend>> backends;
    backends.push_back(std::make_unique<SqliteBackend>(dir));
    if (!postgres.empty()) backends.push_back(std::make_unique<PgBackend>(postgres));

    struct Workload {
      const char* name;
      int threads, per_thread;
      Run (*run)(Backend&, int, int, int);
    };
    const Workload workloads[] = {{"observations", threads, per_thread, observations},
                                  {"ledger_appends", append_threads, appends_per_thread, appends}};
    // (workload, backend, mode) -> writes per second, for the ratios.
    std::map<std::tuple<std::string, std::string, std::string>, double> rate;
    for (const Workload& w : workloads) {
      for (auto& backend : backends) {
        for (const int max_batch : {kGroupCommitBatch, 1}) {
          const Run r = w.run(*backend, max_batch, w.threads, w.per_thread);
          rate[{w.name, backend->name(), mode_name(max_batch)}] = r.writes_per_s();
          std::cout << nlohmann::json{{"workload", w.name},
                                      {"backend", backend->name()},
                                      {"mode", mode_name(max_batch)},
                                      {"threads", w.threads},
                                      {"writes", r.writes},
                                      {"transactions", r.transactions},
                                      {"largest_batch", r.largest_batch},
                                      {"seconds", r.seconds},
                                      {"commit_seconds", r.commit_seconds},
                                      {"writes_per_s", r.writes_per_s()},
                                      {"write_p50_ms", r.p50_ms},
                                      {"write_p99_ms", r.p99_ms}}
                           .dump()
                    << std::endl;
        }
      }
    }
    for (const Workload& w : workloads) {
      for (auto& backend : backends) {
        std::cout << nlohmann::json{{"ratio", "group_commit/transaction_per_write"},
                                    {"workload", w.name},
                                    {"backend", backend->name()},
                                    {"value",
                                     rate[{w.name, backend->name(), "group_commit"}] /
                                         rate[{w.name, backend->name(), "transaction_per_write"}]}}
                         .dump()
                  << "\n";
      }
      if (!postgres.empty()) {
        std::cout << nlohmann::json{{"ratio", "postgres/sqlite"},
                                    {"workload", w.name},
                                    {"mode", "group_commit"},
                                    {"value", rate[{w.name, "postgres", "group_commit"}] /
                                                  rate[{w.name, "sqlite", "group_commit"}]}}
                         .dump()
                  << "\n";
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "bench-store: " << e.what() << "\n";
    return 1;
  }
}
