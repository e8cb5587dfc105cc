// Audit at the centre (analysis/domain/audit.h): the service counts nodes' evidence pictures
// itself, with its own detector and the site's zones, and sets its count against the node's.
// Every evidence picture sent for a roll call goes to the front of a bounded queue; others are
// audited as the CPU share allows and skipped (counted) when the queue is full. Workers take
// detectors from the service's pool, and rest between audits so that together they keep at
// most audit.max_cpu_share of the pool busy. Results are stored on the observation
// (ObservationStore::record_audit) and told to the roll book (Attendance::audited).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "analysis/domain/attendance.h"
#include "analysis/domain/audit.h"
#include "analysis/domain/ingest_listener.h"
#include "analysis/domain/observation_store.h"
#include "common/error.h"
#include "counting/counting.h"
#include "counting/detector_pool.h"

namespace att {

struct AuditStats {
  std::int64_t done = 0;       // pictures audited
  std::int64_t disagreed = 0;  // of those, whose counts disagree (counts_disagree)
  std::int64_t skipped = 0;    // not audited: the queue was full (the CPU share was spent)
  std::int64_t failed = 0;     // not audited: unreadable picture, detector or store error
  std::int64_t queued = 0;     // waiting now
};

class Auditor final : public IngestListener {
 public:
  // Evidence pictures within this of a roll call's time are the roll call's.
  static constexpr std::int64_t kRollCallSlackMs = 5000;

  // `roll_book`: tells roll-call times and is told each audit. `data_dir`: where stored
  // pictures are (audit_now). `capacity`: pictures waiting at most.
  Auditor(DetectorPool& detectors, Counting& counting, ObservationStore& observations,
          Attendance& roll_book, std::filesystem::path data_dir, AuditConfig config,
          size_t capacity = 32);
  ~Auditor() override;  // stops the workers; pictures still waiting are not audited

  // Queues a node's evidence picture; anything else is not audited.
  void frame_stored(const Observation& obs, const std::string& jpeg) override;
  void heartbeat_stored(const Heartbeat&, const NodeReport&) override {}

  // Audits a stored evidence picture on the calling thread (read from the data directory):
  // the roll book's way to have a roll call's picture audited before it is recorded.
  Result<int> audit_now(const Observation& obs);

  // Where each audit's count goes: to the roll book's audited() unless set here (a service of
  // several processes sends it to the process that keeps the roll book). Set before frames come.
  using Tell = std::function<Status(const Observation& evidence, int audit_count)>;
  void tell_audits_to(Tell tell) { tell_ = std::move(tell); }

  AuditStats stats() const;
  int workers() const { return static_cast<int>(threads_.size()); }
  // attendance_audits_total{result=...} and the queue's length, Prometheus text format.
  std::string render_metrics() const;

 private:
  struct Job {
    Observation obs;
    std::string jpeg;
  };
  // Counts the picture, records the count, tells the roll book.
  Result<int> audit(const Observation& obs, const std::string& jpeg);
  void work();

  DetectorPool& detectors_;
  Counting& counting_;
  ObservationStore& observations_;
  Attendance& roll_book_;
  Tell tell_;
  const std::filesystem::path data_dir_;
  const AuditConfig config_;
  const size_t capacity_;
  double duty_ = 1;  // the share of its time each worker may spend counting

  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;       // guarded by mu_
  std::deque<Job> roll_calls_;  // guarded by mu_; audited first
  std::deque<Job> others_;      // guarded by mu_
  AuditStats stats_;            // guarded by mu_ (queued computed on read)
  std::vector<std::thread> threads_;
};

}  // namespace att
