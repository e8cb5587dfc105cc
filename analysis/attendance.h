// The roll book: what replaces the class monitor. From the stored observations of each site
// (its windowed count, frame by frame) and the class schedule it
// - takes a roll call at each set time: the windowed count of the frame nearest before it,
//   the annotated picture saved as evidence (its SHA-256 in the record), expected vs counted;
// - opens and closes alerts: under-attendance (below a share of the expected attendees for a
//   while), site offline (no frame for a while during a period), camera fault (the node's
//   health flags, or its camera giving nothing, for a while);
// - at the end of each period sums up the count timeline: peak, median, minimum, attendance
//   rate, late start, early leave, present person-minutes.
// Each of these is appended to the ledger (Store::append, Chain::kLedger), never updated.
// Time is injected: observe() and heartbeat() follow capture times, tick(now) takes what is
// due, so a whole class day can be replayed in a test without sleeping. Thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "analysis/ingest_listener.h"
#include "analysis/province.h"
#include "analysis/store.h"
#include "common/error.h"

namespace att {

class LiveHub;
class LocalClock;

// Thresholds (server.yaml "attendance:").
struct AttendanceConfig {
  double under_fraction = 0.8;        // under-attendance: count below this share of expected...
  double under_minutes = 15;          // ...for longer than this
  double offline_minutes = 10;        // no frame for longer than this while a period runs
  double camera_fault_minutes = 10;   // a health flag (dark, covered, ...) for this long
  double late_start_fraction = 0.5;   // late start: below this share of expected at the
                                      // period's first roll call
  double early_leave_fraction = 0.5;  // early leave: below this share at its last roll call
  double roll_call_grace_s = 120;     // a roll call at T is taken at T + grace, so that frames
                                      // captured just before T have arrived
  double evidence_max_age_s = 600;    // a frame older than T - this is no evidence for T
  double final_after_s = 30;          // a period's summary, and after the last period the
                                      // class's final report, this long after its end
};

// One period of one class day, in UTC, with its roll-call times.
struct PeriodSlot {
  std::string date;    // local, YYYY-MM-DD
  std::string period;  // "morning"
  std::int64_t start_ms = 0, end_ms = 0;
  std::vector<std::int64_t> roll_calls_ms;
  std::vector<std::string> roll_call_labels;  // local "07:45"
};

// Every period of the schedule placed in time, in time order: the common days, or for
// `site_id` with its overrides in place of the dates they list. Fails on an unknown time zone.
Result<std::vector<PeriodSlot>> expand_schedule(const Schedule& schedule,
                                                const std::string& site_id = "");

// A roll call as recorded in the ledger (kind "roll_call").
struct RollCall {
  std::string site_id, date, period, label;  // label: local time "07:45"
  std::int64_t scheduled_ms = 0;
  std::optional<int> counted;  // none: no frame to count from (site offline)
  int expected = 0;
  std::int64_t sequence = -1;  // the observation counted
  std::int64_t captured_at_ms = 0;
  std::string evidence_path;  // relative to the data directory
  std::string evidence_sha256;
  std::string evidence_error;  // why there is no evidence picture despite a count

  nlohmann::json to_json() const;
  static std::optional<RollCall> from_json(const nlohmann::json& j);
};

// A period's count timeline summed up (ledger kind "period_summary").
struct PeriodSummary {
  std::string site_id, date, period;
  int expected = 0;
  int frames = 0;  // observations in the period
  int peak = 0, median = 0, minimum = 0;
  double attendance_rate = 0;  // median / expected
  bool late_start = false, early_leave = false;
  double present_person_minutes = 0;  // the count integrated over the period's covered time
  double covered_minutes = 0;         // time with frames (gaps over offline_minutes excluded)

  nlohmann::json to_json() const;
  static std::optional<PeriodSummary> from_json(const nlohmann::json& j);
};

// Sums up `timeline` (a site's observations in the period, oldest first).
PeriodSummary summarize_period(const Site& site, const PeriodSlot& slot,
                               const std::vector<Observation>& timeline,
                               const std::vector<RollCall>& roll_calls,
                               const AttendanceConfig& config);

// The health flags a node raised on a frame ("dark", "covered", ...), from Observation::health
// (its X-Health JSON); none when it has none or is not of that form.
std::vector<std::string> health_flags(const std::string& health);

enum class AlertKind { kUnderAttendance, kOffline, kCameraFault };
std::string_view to_string(AlertKind kind);

class Attendance final : public IngestListener {
 public:
  // `slots`: the common schedule; `site_slots`: the schedules of sites that keep other hours.
  Attendance(const std::vector<Site>& sites, std::vector<PeriodSlot> slots, AttendanceConfig config,
             Store& store, std::filesystem::path data_dir, LiveHub* live = nullptr,
             std::map<std::string, std::vector<PeriodSlot>> site_slots = {});

  // Picks up where a previous run left off: roll calls and summaries already in the ledger
  // are not taken again, open alerts stay open.
  Status restore();

  // After an observation is stored (in capture order for a site; a late one only counts for
  // roll calls not yet taken).
  Status observe(const Observation& obs);
  // After a heartbeat is stored: a node whose camera gives nothing is a camera fault.
  Status heartbeat(const Heartbeat& hb);
  // Takes every roll call, offline alert, alert end and period summary due at `now_ms`.
  Status tick(std::int64_t now_ms);

  // As an IngestListener: observe() and heartbeat(), their errors logged.
  void frame_stored(const Observation& obs, const std::string& jpeg) override;
  void heartbeat_stored(const Heartbeat& heartbeat, const nlohmann::json& report) override;

  const std::vector<PeriodSlot>& slots() const { return slots_; }

  // With it, the final report also writes its files (CSV exports and a printable report per
  // district, times in the province's zone) under reports/final/; without, only the final
  // roll-ups go in the ledger. Call before tick() runs.
  void set_report_clock(const LocalClock& clock);

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
    std::map<AlertKind, OpenAlert> open;
  };

  static const PeriodSlot* period_at(const SiteState& s, std::int64_t t);
  std::int64_t class_end_ms() const;  // the end of the last period of any site
  Status open_alert(SiteState& s, AlertKind kind, std::int64_t started_ms, std::int64_t at_ms,
                    nlohmann::json details, const Observation* evidence);
  Status close_alert(SiteState& s, AlertKind kind, std::int64_t ended_ms, const std::string& why);
  Status take_roll_call(SiteState& s, const PeriodSlot& slot, size_t index);
  Status summarize(SiteState& s, const PeriodSlot& slot);
  // After the last period: roll-ups of every period and of the class, and the report files
  // with their SHA-256, in one `final_report` entry.
  Status final_report();
  // Writes the observation's frame, annotated, under evidence/; returns path and SHA-256.
  Result<std::pair<std::string, std::string>> save_evidence(const Observation& obs,
                                                            const std::string& name);
  Status append(const std::string& kind, const std::string& site_id, const std::string& subject,
                std::int64_t at_ms, const nlohmann::json& body);

  std::vector<PeriodSlot> slots_;
  const std::map<std::string, std::vector<PeriodSlot>> site_slots_;
  const std::vector<Site> site_list_;
  std::unique_ptr<LocalClock> report_clock_;
  const AttendanceConfig config_;
  Store& store_;
  const std::filesystem::path data_dir_;
  LiveHub* live_;
  std::mutex mu_;
  // One tick at a time: a tick claims its roll calls and summaries under mu_ and writes them
  // outside it, and the final report is due once every summary is claimed, so an overlapping
  // tick could write the report while another still writes summaries, or find it claimed
  // and return before it exists. Uploads never take this.
  std::mutex tick_mu_;
  std::map<std::string, SiteState> sites_;  // guarded by mu_
  std::set<std::string> done_;              // ledger subjects already written; guarded by mu_
};

}  // namespace att
