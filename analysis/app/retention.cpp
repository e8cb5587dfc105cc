#include "analysis/app/retention.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/log.h"

namespace att {

namespace {
constexpr std::int64_t kDayMs = 86'400'000;
constexpr int kChunk = 500;  // pictures cleared per transaction: short for the writer
}  // namespace

Status run_retention(ObservationStore& observations, HeartbeatStore& heartbeats,
                     const std::filesystem::path& data_dir, const StorageConfig& config,
                     std::int64_t now_ms, RetentionTotals& totals) {
  auto log = log::get("store");
  RetentionTotals run;
  if (config.frame_days > 0) {
    const auto before = now_ms - static_cast<std::int64_t>(config.frame_days * kDayMs);
    while (true) {
      auto paths = observations.expire_frames(before, kChunk);
      if (!paths) return std::unexpected(paths.error());
      for (const std::string& relative : *paths) {
        const std::filesystem::path file = data_dir / relative;
        if (::unlink(file.c_str()) == 0) {
          ++run.frames_deleted;
        } else if (errno == ENOENT) {
          ++run.frames_missing;
        } else {
          ++run.delete_failed;
          log->error("retention: cannot delete {}: {}", file.string(), std::strerror(errno));
        }
      }
      if (static_cast<int>(paths->size()) < kChunk) break;
    }
  }
  if (config.heartbeat_days > 0) {
    const auto before = now_ms - static_cast<std::int64_t>(config.heartbeat_days * kDayMs);
    auto deleted = heartbeats.expire_heartbeats(before);
    if (!deleted) return std::unexpected(deleted.error());
    run.heartbeats_deleted = *deleted;
  }
  if (run.frames_deleted + run.frames_missing + run.delete_failed + run.heartbeats_deleted > 0) {
    log->info(
        "retention: {} picture(s) older than {} days deleted ({} already gone, {} failed), {} "
        "node report(s) older than {} days",
        run.frames_deleted, config.frame_days, run.frames_missing, run.delete_failed,
        run.heartbeats_deleted, config.heartbeat_days);
  }
  totals.frames_deleted += run.frames_deleted;
  totals.frames_missing += run.frames_missing;
  totals.delete_failed += run.delete_failed;
  totals.heartbeats_deleted += run.heartbeats_deleted;
  ++totals.runs;
  return {};
}

Retention::Retention(ObservationStore& observations, HeartbeatStore& heartbeats,
                     std::filesystem::path data_dir, StorageConfig config, WallClock clock,
                     std::function<bool()> ours)
    : observations_(observations),
      heartbeats_(heartbeats),
      data_dir_(std::move(data_dir)),
      config_(config),
      clock_(std::move(clock)),
      ours_(std::move(ours)),
      periodic_(
          std::chrono::milliseconds(static_cast<std::int64_t>(config_.retention_check_s * 1000)),
          [this] { run(); }) {}

RetentionTotals Retention::totals() const {
  std::lock_guard lock(mu_);
  return totals_;
}

std::string Retention::render_metrics() const {
  const RetentionTotals t = totals();
  return fmt::format(
      "# HELP attendance_retention_frames_total Received pictures past storage.frame_days, by "
      "what became of them.\n"
      "# TYPE attendance_retention_frames_total counter\n"
      "attendance_retention_frames_total{{result=\"deleted\"}} {}\n"
      "attendance_retention_frames_total{{result=\"already_gone\"}} {}\n"
      "attendance_retention_frames_total{{result=\"delete_failed\"}} {}\n"
      "# HELP attendance_retention_heartbeats_deleted_total Node reports past "
      "storage.heartbeat_days.\n"
      "# TYPE attendance_retention_heartbeats_deleted_total counter\n"
      "attendance_retention_heartbeats_deleted_total {}\n",
      t.frames_deleted, t.frames_missing, t.delete_failed, t.heartbeats_deleted);
}

void Retention::run() {
  if (ours_ && !ours_()) return;
  RetentionTotals totals = this->totals();
  if (auto s = run_retention(observations_, heartbeats_, data_dir_, config_, clock_(), totals);
      !s) {
    log::get("store")->error("retention: {}", s.error().message);
  }
  std::lock_guard lock(mu_);
  totals_ = totals;
}

}  // namespace att
