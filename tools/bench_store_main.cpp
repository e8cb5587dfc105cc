// bench-store: the service's write path on its own. T threads (as the HTTP threads do)
// insert observations through SqliteStore with group commit, then with a transaction per
// write (max batch 1, the baseline), both with synchronous=FULL (an acknowledged frame is
// on disk). Prints one JSON line per mode and their ratio. scripts/bench_store.sh runs it.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "analysis/store/sqlite_store.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Run {
  double seconds = 0, p50_ms = 0, p99_ms = 0;
  std::int64_t writes = 0, transactions = 0, largest_batch = 0;
};

Run run(const std::filesystem::path& dir, int max_batch, int threads, int per_thread) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  att::SqliteStoreOptions options;
  options.writer.max_batch = max_batch;
  auto store = att::SqliteStore::open(dir / "bench.db", options);
  if (!store) throw std::runtime_error(store.error().message);
  std::vector<att::Site> sites;
  for (int t = 0; t < threads; ++t) {
    att::Site s;
    s.id = "s-" + std::to_string(t);
    s.name = s.district = s.address = s.camera = "x";
    s.expected_attendees = 50;
    sites.push_back(s);
  }
  if (!(*store)->sync_sites(sites)) throw std::runtime_error("sync_sites");
  std::vector<std::vector<double>> latencies(static_cast<size_t>(threads));
  const auto start = Clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        att::Observation o;
        o.site_id = sites[static_cast<size_t>(t)].id;
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
        const auto t0 = Clock::now();
        if (!(*store)->insert_observation(o)) std::abort();
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
  const att::WriteStats s = (*store)->write_stats();
  r.writes = s.writes;
  r.transactions = s.transactions;
  r.largest_batch = s.largest_batch;
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bench-store: group commit against a transaction per write"};
  std::string dir = "/tmp/bench-store";
  int threads = 16, per_thread = 200;
  app.add_option("--dir", dir, "scratch directory (emptied)")->capture_default_str();
  app.add_option("--threads", threads, "writers at once")->capture_default_str();
  app.add_option("--per-thread", per_thread, "observations each")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  const Run batched = run(dir, 256, threads, per_thread);
  const Run single = run(dir, 1, threads, per_thread);
  std::filesystem::remove_all(dir);
  auto line = [&](const char* mode, const Run& r) {
    return nlohmann::json{{"mode", mode},
                          {"threads", threads},
                          {"writes", r.writes},
                          {"transactions", r.transactions},
                          {"largest_batch", r.largest_batch},
                          {"writes_per_s", r.writes / r.seconds},
                          {"write_p50_ms", r.p50_ms},
                          {"write_p99_ms", r.p99_ms}};
  };
  std::cout << line("group_commit", batched).dump() << "\n"
            << line("transaction_per_write", single).dump() << "\n"
            << nlohmann::json{{"ratio_writes_per_s", (batched.writes / batched.seconds) /
                                                         (single.writes / single.seconds)}}
                   .dump()
            << "\n";
}
