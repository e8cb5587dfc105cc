// The roll book: what replaces the class monitor. From the stored observations of each site
// (its windowed count, frame by frame) and the class schedule it
// - takes a roll call at each set time: the windowed count of the observation nearest before
//   it, and as evidence the annotated picture nearest that observation (the same frame when
//   the service counted; the node's evidence picture when the node did), its SHA-256 in the
//   record, expected vs counted;
// - opens and closes alerts: under-attendance (below a share of the expected attendees for a
//   while), site offline (no frame for a while during a period), camera fault (the node's
//   health flags, or its camera giving nothing, for a while), count disputed (the service's
//   audit of a node's evidence pictures disagrees with the node's count, audit.h);
// - at the end of each period sums up the count timeline: peak, median, minimum, attendance
//   rate, late start, early leave, present person-minutes.
// Each of these is appended to the ledger (LedgerStore::append, Chain::kLedger), never updated.
// Time is injected: observe() and heartbeat() follow capture times, tick(now) takes what is
// due, so a whole class day can be replayed in a test without sleeping. Thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "analysis/domain/audit.h"
#include "analysis/domain/calibration.h"
#include "analysis/domain/event_sink.h"
#include "analysis/domain/ingest_listener.h"
#include "analysis/domain/ledger_store.h"
#include "analysis/domain/observation_store.h"
#include "analysis/domain/province.h"
#include "analysis/domain/roll_call.h"
#include "common/error.h"

namespace att {

// One file of the final report, under reports/final/: its name, its bytes, and the district it
// reports on ("" for a file of the whole province).
struct ReportFile {
  std::string name, bytes, district;
};
// Writes the final report's files from every record of the ledger (the reports layer's
// final_report_files()).
struct LedgerExtract;
using FinalReportWriter = std::function<Result<std::vector<ReportFile>>(const LedgerExtract&)>;

class Attendance final : public IngestListener {
 public:
  // `slots`: the common schedule; `site_slots`: the schedules of sites that keep other hours.
  Attendance(const std::vector<Site>& sites, std::vector<PeriodSlot> slots, AttendanceConfig config,
             ObservationStore& observations, LedgerStore& ledger, std::filesystem::path data_dir,
             EventSink* events = nullptr,
             std::map<std::string, std::vector<PeriodSlot>> site_slots = {});

  // Picks up where the ledger stands: roll calls and summaries in it are not taken again, its
  // open alerts are open here, each site's last frame is the store's latest. At start, and in
  // a service of several processes by the process that takes the roll book over and at every
  // tick by the others (so that standing() says what the ledger says). Reads only the entries
  // after those it read before.
  Status restore();

  // After an observation is stored (in capture order for a site; a late one only counts for
  // roll calls not yet taken).
  Status observe(const Observation& obs);
  // After a heartbeat is stored (`report`: hb.report, parsed): a node whose camera gives
  // nothing is a camera fault.
  Status heartbeat(const Heartbeat& hb, const NodeReport& report);
  // Takes every roll call, offline alert, alert end and period summary due at `now_ms`. The
  // roll calls of different sites are taken on up to 4 threads at once (their evidence
  // pictures drawn and audited), so one site's slow picture does not delay the others'.
  Status tick(std::int64_t now_ms);

  // After the service counted a node's evidence picture itself (`audit_count`, to set against
  // evidence.frame_count): during a period, `consecutive` disagreeing pictures in a row open a
  // count_disputed alert with both numbers, and an agreeing one closes it. A picture older
  // than one already audited changes nothing.
  Status audited(const Observation& evidence, int audit_count);

  // As an IngestListener: observe() and heartbeat(), their errors logged.
  void frame_stored(const Observation& obs, const std::string& jpeg) override;
  void heartbeat_stored(const Heartbeat& heartbeat, const NodeReport& report) override;

  const std::vector<PeriodSlot>& slots() const { return slots_; }

  // Where a site stands in the roll book at `t`: whether a period of its schedule runs, and
  // whether its offline alert is open. An unknown site is in no class.
  struct Standing {
    bool in_class = false;
    bool offline_alert_open = false;
  };
  Standing standing(const std::string& site_id, std::int64_t t);

  // The province's class at `t`, as the organizer's overview says it: the period most sites
  // are in (none between periods), how many sites are in one, and the next period to begin
  // at any site.
  struct ClassNow {
    std::optional<PeriodSlot> period;  // running now at the most sites
    int sites_in_class = 0;
    std::optional<PeriodSlot> next;  // the earliest to start after `t`
  };
  ClassNow class_now(std::int64_t t);

  // A site's roll-call times in [from_ms, to_ms), in time order (the times its node that counts
  // sends an evidence picture at). An unknown site has none.
  std::vector<std::int64_t> roll_calls_between(const std::string& site_id, std::int64_t from_ms,
                                               std::int64_t to_ms);

  // With it, the final report also writes its files (CSV exports and a printable report per
  // district, times in the province's zone) under reports/final/, their SHA-256 in the
  // ledger; without, only the final roll-ups go in the ledger. Call before tick() runs.
  void set_final_report_writer(FinalReportWriter writer);

  // The audit's rule, and how to audit a node's evidence picture at once (the auditor's: it
  // records the count and calls audited()): a roll call whose picture was not audited yet has
  // it audited before it is recorded. Without, the default rule and no audit at roll calls.
  // Call before tick() runs.
  using PictureAudit = std::function<Result<int>(const Observation& evidence)>;
  void set_audit(AuditConfig config, PictureAudit audit_now);

 private:
  struct OpenAlert {
    std::string id;  // the ledger subject: alert/<site>/<kind>/<start ms>
    std::int64_t started_ms = 0;
  };
  struct SiteState {
    const Site* site = nullptr;
    const std::vector<PeriodSlot>* slots = nullptr;  // its schedule
    std::int64_t last_frame_ms = 0;                  // capture time of the latest frame
    std::optional<std::int64_t> below_since;         // under the threshold since (capture time)
    std::optional<std::int64_t> fault_since;         // a health flag since
    std::string fault_reason;
    std::int64_t last_audit_ms = 0;              // capture time of the latest audited picture
    std::optional<std::int64_t> disputed_since;  // audits disagree since (capture time)
    int disputed_run = 0;                        // audited pictures in a row that disagree
    std::map<AlertKind, OpenAlert> open;
  };

  static const PeriodSlot* period_at(const SiteState& s, std::int64_t t);
  std::int64_t class_end_ms() const;  // the end of the last period of any site
  // The alert's evidence: the picture of `from` (a roll call) when it has one, or else
  // `evidence` drawn and saved.
  Status open_alert(SiteState& s, AlertKind kind, std::int64_t started_ms, std::int64_t at_ms,
                    nlohmann::json details, const Observation* evidence,
                    const RollCall* from = nullptr);
  Status close_alert(SiteState& s, AlertKind kind, std::int64_t ended_ms, const std::string& why);
  Status take_roll_call(SiteState& s, const PeriodSlot& slot, size_t index);
  // The alerts a roll call raises or ends (late start, early leave: AlertKind).
  Status roll_call_alerts(SiteState& s, const PeriodSlot& slot, size_t index, const RollCall& r);
  Status summarize(SiteState& s, const PeriodSlot& slot);
  // After the last period: roll-ups of every period and of the class, and the report files
  // with their SHA-256, in one `final_report` entry.
  Status final_report();
  // Copies the observation's picture, as the camera gave it, under evidence/; returns its
  // path and SHA-256.
  Result<std::pair<std::string, std::string>> save_evidence(const Observation& obs,
                                                            const std::string& name);
  Status append(const std::string& kind, const std::string& site_id, const std::string& subject,
                std::int64_t at_ms, const nlohmann::json& body);

  std::vector<PeriodSlot> slots_;
  const std::map<std::string, std::vector<PeriodSlot>> site_slots_;
  const std::vector<Site> site_list_;
  FinalReportWriter final_report_writer_;
  AuditConfig audit_;
  PictureAudit audit_now_;
  const AttendanceConfig config_;
  ObservationStore& observations_;
  LedgerStore& ledger_;
  const std::filesystem::path data_dir_;
  EventSink* events_;
  std::mutex mu_;
  // One tick at a time: a tick claims its roll calls and summaries under mu_ and writes them
  // outside it, and the final report is due once every summary is claimed, so an overlapping
  // tick could write the report while another still writes summaries, or find it claimed
  // and return before it exists. Uploads never take this.
  std::mutex tick_mu_;
  std::map<std::string, SiteState> sites_;  // guarded by mu_
  std::set<std::string> done_;              // ledger subjects already written; guarded by mu_
  // Each site's calibration from its roll calls counted on the picture (alert_on_estimated),
  // read from the ledger's corrections at restore() and at most once a minute by tick().
  std::map<std::string, SiteCalibration> calibrations_;  // guarded by mu_
  std::int64_t calibrated_at_ms_ = 0;                    // guarded by tick_mu_
  std::int64_t restored_seq_ = 0;  // the last ledger entry restore() read; guarded by mu_
};

}  // namespace att
