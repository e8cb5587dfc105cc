// One service process among several on one PostgreSQL database (storage.backend postgres,
// docs/deployment.md): what ties this process's parts to the others', over PgCluster
// (analysis/store/pg_cluster.h).
// - The roll book is kept by one process, the holder of the roll-book role. Ingest and the
//   auditor of every process tell it of each stored frame, node report and audit (a message
//   naming the row); it reads the row from the store and feeds its Attendance, ticks it, and
//   writes the final report. When it dies, the next process to tick takes the role, reads the
//   ledger (Attendance::restore) and goes on: what the ledger holds is never taken again.
//   Every other process reads the ledger at each tick, so that its pages say what it says.
// - Live events: each process's events also reach the browsers connected to the others.
// - Site setups: a save in one process is put in force in every process.
// - Retention runs in the process holding the retention role.
// The per-site state that stays with the process a site's uploads reach (the occupancy window
// of a site counted at the centre, its live view) follows nginx's hash of the site's id.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "analysis/domain/attendance.h"
#include "analysis/domain/ingest_listener.h"
#include "analysis/domain/store.h"
#include "analysis/ingest/site_setups.h"
#include "analysis/store/pg_cluster.h"
#include "analysis/web/live.h"
#include "common/error.h"

namespace att {

class ServiceCluster final : public IngestListener {
 public:
  // Connects (PgCluster), hooks `live` and `setups` to the others and starts listening. Every
  // reference must outlive this object.
  static Result<std::unique_ptr<ServiceCluster>> open(const std::string& conninfo, Store& store,
                                                      Attendance& roll_book, LiveHub& live,
                                                      SiteSetups& setups);
  ~ServiceCluster() override;

  // Ingest's news, for the process that keeps the roll book.
  void frame_stored(const Observation& obs, const std::string& jpeg) override;
  void heartbeat_stored(const Heartbeat& heartbeat, const NodeReport& report) override;
  // The auditor's (Auditor::tell_audits_to).
  Status audited(const Observation& evidence, int audit_count);

  // The roll book's clock (every 10 s): takes the roll-book role when it is free (reading the
  // ledger first) and ticks the roll book while it holds it; otherwise reads the ledger.
  Status tick(std::int64_t now_ms);
  bool keeps_roll_book() const { return keeps_roll_book_; }
  // Whether this process runs retention now (taking the role when free).
  bool runs_retention();

  // attendance_cluster_* in Prometheus text: messages sent, failed, received, reconnects, and
  // the roles this process holds.
  std::string render_metrics() const;

 private:
  ServiceCluster(std::unique_ptr<PgCluster> cluster, Store& store, Attendance& roll_book,
                 LiveHub& live, SiteSetups& setups);
  void tell_roll_book(const std::string& message);
  void roll_book_message(const std::string& payload);  // on the listening thread

  std::unique_ptr<PgCluster> cluster_;
  Store& store_;
  Attendance& roll_book_;
  LiveHub& live_;
  SiteSetups& setups_;
  const std::string process_;  // this process's id in the events it sends
  std::atomic<bool> keeps_roll_book_{false};
  std::atomic<std::int64_t> undelivered_{0};  // messages that could not be sent or read
};

}  // namespace att
