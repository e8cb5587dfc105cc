#include "analysis/ingest/auditor.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <span>

#include "common/files.h"
#include "common/log.h"
#include "counting/jpeg.h"

namespace att {

Auditor::Auditor(DetectorPool& detectors, Counting& counting, ObservationStore& observations,
                 Attendance& roll_book, std::filesystem::path data_dir, AuditConfig config,
                 size_t capacity)
    : detectors_(detectors),
      counting_(counting),
      observations_(observations),
      roll_book_(roll_book),
      data_dir_(std::move(data_dir)),
      config_(config),
      capacity_(std::max<size_t>(capacity, 1)) {
  // max_cpu_share of the pool's detectors: whole workers, and one that rests between audits
  // when the share is less than one detector.
  const double busy = config_.max_cpu_share * static_cast<double>(detectors_.size());
  const int workers = std::max(1, static_cast<int>(std::floor(busy)));
  duty_ = std::clamp(busy / workers, 0.01, 1.0);
  for (int i = 0; i < workers; ++i) threads_.emplace_back([this] { work(); });
  log::get("audit")->info("{} worker(s) audit nodes' evidence pictures, {:.0f} % of {} detector(s)",
                          workers, config_.max_cpu_share * 100, detectors_.size());
}

Auditor::~Auditor() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void Auditor::frame_stored(const Observation& obs, const std::string& jpeg) {
  if (obs.counted_by != CountedBy::kNode || jpeg.empty()) return;
  const bool roll_call =
      !roll_book_
           .roll_calls_between(obs.site_id, obs.captured_at_ms - kRollCallSlackMs,
                               obs.captured_at_ms + kRollCallSlackMs + 1)
           .empty();
  {
    std::lock_guard lock(mu_);
    if (roll_calls_.size() + others_.size() >= capacity_) {
      // Full: a roll call's picture takes the place of the oldest other one; anything else
      // is skipped (a roll call's picture skipped here is audited when its roll call is taken).
      if (!roll_call || others_.empty()) {
        ++stats_.skipped;
        return;
      }
      others_.pop_front();
      ++stats_.skipped;
    }
    (roll_call ? roll_calls_ : others_).push_back({obs, jpeg});
  }
  wake_.notify_one();
}

Result<int> Auditor::audit_now(const Observation& obs) {
  if (obs.frame_path.empty()) return fail("the picture was deleted by retention");
  auto jpeg = read_file(data_dir_ / obs.frame_path);
  if (!jpeg) {
    std::lock_guard lock(mu_);
    ++stats_.failed;
    return std::unexpected(jpeg.error());
  }
  return audit(obs, *jpeg);
}

Result<int> Auditor::audit(const Observation& obs, const std::string& jpeg) {
  const auto failed = [this](Error e) -> Result<int> {
    std::lock_guard lock(mu_);
    ++stats_.failed;
    return std::unexpected(std::move(e));
  };
  // Checked at ingest to be of the size the node counted on.
  auto frame =
      decode_jpeg(std::span(reinterpret_cast<const unsigned char*>(jpeg.data()), jpeg.size()),
                  static_cast<std::int64_t>(obs.width) * obs.height);
  if (!frame) return failed(frame.error());
  auto boxes = detectors_.detect(*frame);
  if (!boxes) return failed(boxes.error());
  const int count =
      static_cast<int>(counting_.countable(obs.site_id, frame->size(), *boxes).size());
  if (auto r = observations_.record_audit(obs.site_id, obs.sequence, count); !r)
    return failed(r.error());
  if (auto told = tell_ ? tell_(obs, count) : roll_book_.audited(obs, count); !told) {
    log::get("audit")->error("site {}: {}", obs.site_id, told.error().message);
  }
  std::lock_guard lock(mu_);  // counted once the roll book has it
  ++stats_.done;
  if (counts_disagree(obs.frame_count, count, config_)) ++stats_.disagreed;
  return count;
}

void Auditor::work() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [&] { return stopping_ || !roll_calls_.empty() || !others_.empty(); });
      if (stopping_) return;
      std::deque<Job>& from = roll_calls_.empty() ? others_ : roll_calls_;
      job = std::move(from.front());
      from.pop_front();
    }
    const auto start = std::chrono::steady_clock::now();
    if (auto a = audit(job.obs, job.jpeg); !a) {
      log::get("audit")->warn("site {}: picture {} not audited: {}", job.obs.site_id,
                              job.obs.sequence, a.error().message);
    }
    if (duty_ < 1) {  // rest, so that counting takes no more than duty_ of this worker's time
      const auto spent = std::chrono::steady_clock::now() - start;
      std::unique_lock lock(mu_);
      wake_.wait_for(lock, spent * (1 / duty_ - 1), [&] { return stopping_; });
    }
  }
}

AuditStats Auditor::stats() const {
  std::lock_guard lock(mu_);
  AuditStats s = stats_;
  s.queued = static_cast<std::int64_t>(roll_calls_.size() + others_.size());
  return s;
}

std::string Auditor::render_metrics() const {
  const AuditStats s = stats();
  return fmt::format(
      "# HELP attendance_audits_total Nodes' evidence pictures the service counted again, by "
      "what became of them.\n"
      "# TYPE attendance_audits_total counter\n"
      "attendance_audits_total{{result=\"done\"}} {}\n"
      "attendance_audits_total{{result=\"skipped\"}} {}\n"
      "attendance_audits_total{{result=\"failed\"}} {}\n"
      "# HELP attendance_audits_disagreed_total Audited pictures whose counts disagree "
      "(audit.tolerance).\n"
      "# TYPE attendance_audits_disagreed_total counter\n"
      "attendance_audits_disagreed_total {}\n"
      "# HELP attendance_audit_queue Evidence pictures waiting for their audit.\n"
      "# TYPE attendance_audit_queue gauge\n"
      "attendance_audit_queue {}\n",
      s.done, s.skipped, s.failed, s.disagreed, s.queued);
}

}  // namespace att
