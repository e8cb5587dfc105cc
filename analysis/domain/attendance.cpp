#include "analysis/domain/attendance.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>
#include <thread>
#include <tuple>

#include "analysis/domain/ledger.h"
#include "analysis/domain/records.h"
#include "analysis/domain/rollup.h"
#include "common/files.h"
#include "common/log.h"
#include "common/sha256.h"
#include "common/time_util.h"

namespace att {

using nlohmann::json;

namespace {

// "07:45" -> "0745", for subjects and file names.
std::string compact(std::string label) {
  label.erase(std::remove(label.begin(), label.end(), ':'), label.end());
  return label;
}

std::string roll_call_subject(const std::string& site, const PeriodSlot& slot, size_t i) {
  return "roll_call/" + site + "/" + slot.date + "/" + slot.period + "/" +
         compact(slot.roll_call_labels[i]);
}

std::string summary_subject(const std::string& site, const PeriodSlot& slot) {
  return "period_summary/" + site + "/" + slot.date + "/" + slot.period;
}

}  // namespace

Attendance::Attendance(const std::vector<Site>& sites, std::vector<PeriodSlot> slots,
                       AttendanceConfig config, ObservationStore& observations, LedgerStore& ledger,
                       std::filesystem::path data_dir, EventSink* events,
                       std::map<std::string, std::vector<PeriodSlot>> site_slots)
    : slots_(std::move(slots)),
      site_slots_(std::move(site_slots)),
      site_list_(sites),
      config_(config),
      observations_(observations),
      ledger_(ledger),
      data_dir_(std::move(data_dir)),
      events_(events) {
  for (const Site& site : sites) {
    SiteState& s = sites_[site.id];
    s.site = &site;
    auto own = site_slots_.find(site.id);
    s.slots = own != site_slots_.end() ? &own->second : &slots_;
  }
}

Status Attendance::restore() {
  LedgerQuery after;
  after.limit = 0;
  {
    std::lock_guard lock(mu_);
    after.from_seq = restored_seq_ + 1;
  }
  auto entries = ledger_.entries(Chain::kLedger, after);
  if (!entries) return std::unexpected(entries.error());
  auto latest = observations_.latest_per_site();
  if (!latest) return std::unexpected(latest.error());
  std::lock_guard lock(mu_);
  if (restored_seq_ == 0) calibrations_ = calibrations_of(*entries);  // then tick() keeps them
  // In ledger order, so that an alert opened and closed since the last read ends closed.
  for (const LedgerEntry& e : *entries) {
    restored_seq_ = std::max(restored_seq_, e.seq);
    if (e.kind == "roll_call" || e.kind == "period_summary" || e.kind == "final_report")
      done_.insert(e.subject);
    auto it = sites_.find(e.site_id);
    if (it == sites_.end()) continue;
    auto& open = it->second.open;
    if (e.kind == "alert_opened") {
      const json body = json::parse(e.body, nullptr, /*allow_exceptions=*/false);
      const std::string kind = body.is_object() ? body.value("kind", "") : "";
      for (AlertKind k : kAlertKinds) {
        if (kind == to_string(k)) open[k] = {e.subject, e.at_ms};
      }
    }
    if (e.kind == "alert_closed") {
      std::erase_if(open, [&](const auto& alert) { return alert.second.id == e.subject; });
    }
  }
  for (const Observation& o : *latest) {
    auto it = sites_.find(o.site_id);
    if (it != sites_.end())
      it->second.last_frame_ms = std::max(it->second.last_frame_ms, o.captured_at_ms);
  }
  return {};
}

std::int64_t Attendance::class_end_ms() const {
  std::int64_t end = slots_.empty() ? 0 : slots_.back().end_ms;
  for (const auto& [id, slots] : site_slots_) {
    if (!slots.empty()) end = std::max(end, slots.back().end_ms);
  }
  return end;
}

const PeriodSlot* Attendance::period_at(const SiteState& s, std::int64_t t) {
  for (const PeriodSlot& slot : *s.slots) {
    if (t >= slot.start_ms && t < slot.end_ms) return &slot;
  }
  return nullptr;
}

Attendance::Standing Attendance::standing(const std::string& site_id, std::int64_t t) {
  std::lock_guard lock(mu_);
  auto it = sites_.find(site_id);
  if (it == sites_.end()) return {};
  return {.in_class = period_at(it->second, t) != nullptr,
          .offline_alert_open = it->second.open.contains(AlertKind::kOffline)};
}

Attendance::ClassNow Attendance::class_now(std::int64_t t) {
  std::lock_guard lock(mu_);
  ClassNow now;
  std::map<std::tuple<std::string, std::string, std::int64_t>, int> running;  // slot -> sites
  const PeriodSlot* most = nullptr;
  int most_sites = 0;
  for (const auto& [id, s] : sites_) {
    if (const PeriodSlot* slot = period_at(s, t)) {
      ++now.sites_in_class;
      const int n = ++running[{slot->date, slot->period, slot->start_ms}];
      if (n > most_sites) most_sites = n, most = slot;
    }
    for (const PeriodSlot& slot : *s.slots) {
      if (slot.start_ms > t && (!now.next || slot.start_ms < now.next->start_ms)) now.next = slot;
    }
  }
  if (most) now.period = *most;
  return now;
}

std::vector<std::int64_t> Attendance::roll_calls_between(const std::string& site_id,
                                                         std::int64_t from_ms, std::int64_t to_ms) {
  std::lock_guard lock(mu_);
  std::vector<std::int64_t> times;
  auto it = sites_.find(site_id);
  if (it == sites_.end()) return times;
  for (const PeriodSlot& slot : *it->second.slots) {
    if (slot.end_ms < from_ms || slot.start_ms >= to_ms) continue;
    for (std::int64_t t : slot.roll_calls_ms) {
      if (t >= from_ms && t < to_ms) times.push_back(t);
    }
  }
  return times;
}

Status Attendance::append(const std::string& kind, const std::string& site_id,
                          const std::string& subject, std::int64_t at_ms, const json& body) {
  LedgerEntry e;
  e.kind = kind;
  e.site_id = site_id;
  e.subject = subject;
  e.at_ms = at_ms;
  e.recorded_at_ms = now_ms();
  e.actor = "system";
  auto canonical = canonical_body(body);
  if (!canonical) return std::unexpected(canonical.error());
  e.body = std::move(*canonical);
  auto appended = ledger_.append(Chain::kLedger, std::move(e));
  if (!appended) return std::unexpected(appended.error());
  if (events_) events_->publish(kind, body);
  return {};
}

Status Attendance::open_alert(SiteState& s, AlertKind kind, std::int64_t started_ms,
                              std::int64_t at_ms, json details, const Observation* evidence,
                              const RollCall* from) {
  if (s.open.contains(kind)) return {};
  const std::string subject =
      "alert/" + s.site->id + "/" + std::string(to_string(kind)) + "/" + std::to_string(started_ms);
  json body = {{"kind", to_string(kind)},
               {"site_id", s.site->id},
               {"started_ms", started_ms},
               {"detected_ms", at_ms},
               {"expected", s.site->expected_attendees},
               {"details", std::move(details)}};
  if (from && !from->evidence_path.empty()) {  // the roll call's picture is the alert's
    body["evidence_path"] = from->evidence_path;
    body["evidence_sha256"] = from->evidence_sha256;
    body["sequence"] = from->sequence;
  } else if (evidence) {
    auto saved = save_evidence(
        *evidence, "alerts/" + std::string(to_string(kind)) + "-" + std::to_string(started_ms));
    if (saved) {
      body["evidence_path"] = saved->first;
      body["evidence_sha256"] = saved->second;
      body["sequence"] = evidence->sequence;
    } else {
      log::get("attendance")
          ->warn("site {}: no evidence for the alert: {}", s.site->id, saved.error().message);
    }
  }
  if (auto a = append("alert_opened", s.site->id, subject, started_ms, body); !a) return a;
  s.open[kind] = {subject, started_ms};
  log::get("attendance")
      ->warn("site {}: {} since {}", s.site->id, to_string(kind), iso8601_utc(started_ms));
  return {};
}

Status Attendance::close_alert(SiteState& s, AlertKind kind, std::int64_t ended_ms,
                               const std::string& why) {
  auto it = s.open.find(kind);
  if (it == s.open.end()) return {};
  const json body = {{"kind", to_string(kind)},
                     {"site_id", s.site->id},
                     {"started_ms", it->second.started_ms},
                     {"ended_ms", ended_ms},
                     {"minutes", static_cast<double>(ended_ms - it->second.started_ms) / kMinuteMs},
                     {"why", why}};
  if (auto a = append("alert_closed", s.site->id, it->second.id, ended_ms, body); !a) return a;
  s.open.erase(it);
  return {};
}

Status Attendance::observe(const Observation& obs) {
  std::lock_guard lock(mu_);
  auto it = sites_.find(obs.site_id);
  if (it == sites_.end()) return {};
  SiteState& s = it->second;
  const std::int64_t t = obs.captured_at_ms;
  if (t < s.last_frame_ms) return {};  // late (a spool emptying): roll calls still see it
  if (auto c = close_alert(s, AlertKind::kOffline, t, "frames arrive again"); !c) return c;
  s.last_frame_ms = t;
  const PeriodSlot* slot = period_at(s, t);
  if (!slot) {  // between periods nothing is expected of the room
    s.below_since.reset();
    s.fault_since.reset();
    return {};
  }

  // A picture the camera spoiled (covered, frozen, dark) says nothing of the room: it neither
  // starts nor ends an under-attendance, and raises a camera fault instead.
  const auto flags = health_flags(obs.health);
  const int expected = s.site->expected_attendees;
  // Compared with the line: the count as seen, or the people it stands for (alert_on).
  std::optional<int> estimate;
  if (const auto cal = calibrations_.find(obs.site_id);
      config_.alert_on_estimated && cal != calibrations_.end()) {
    estimate = cal->second.estimate(obs.count);
  }
  const int compared = estimate.value_or(obs.count);
  if (flags.empty() && expected > 0 && compared < config_.under_fraction * expected) {
    if (!s.below_since || *s.below_since < slot->start_ms) s.below_since = t;
    if (t - *s.below_since >= ms_of_minutes(config_.under_minutes)) {
      json details = {{"count", obs.count},
                      {"threshold", config_.under_fraction * expected},
                      {"compared", estimate ? "estimated" : "seen"}};
      if (estimate) details["estimated"] = *estimate;
      if (auto o = open_alert(s, AlertKind::kUnderAttendance, *s.below_since, t, details, &obs);
          !o) {
        return o;
      }
    }
  } else if (flags.empty()) {
    s.below_since.reset();
    if (auto c = close_alert(s, AlertKind::kUnderAttendance, t, "count back to the threshold");
        !c) {
      return c;
    }
  }

  if (!flags.empty()) {
    if (!s.fault_since || *s.fault_since < slot->start_ms) s.fault_since = t;
    std::string reason;
    for (const auto& f : flags) reason += (reason.empty() ? "" : ", ") + f;
    s.fault_reason = reason;
    if (t - *s.fault_since >= ms_of_minutes(config_.camera_fault_minutes)) {
      if (auto o = open_alert(s, AlertKind::kCameraFault, *s.fault_since, t,
                              {{"flags", flags}, {"reason", reason}}, &obs);
          !o) {
        return o;
      }
    }
  } else {
    s.fault_since.reset();
    if (auto c = close_alert(s, AlertKind::kCameraFault, t, "picture healthy again"); !c) return c;
  }
  return {};
}

Status Attendance::heartbeat(const Heartbeat& hb, const NodeReport& report) {
  if (report.state != NodeState::kNoFrames) return {};
  std::lock_guard lock(mu_);
  auto it = sites_.find(hb.site_id);
  if (it == sites_.end()) return {};
  SiteState& s = it->second;
  const std::int64_t t = hb.captured_at_ms;
  const PeriodSlot* slot = period_at(s, t);
  if (!slot) return {};
  // The node is alive but its camera gives nothing since its last frame.
  const std::int64_t since = std::max(s.last_frame_ms, slot->start_ms);
  std::string reason = "the camera gives no frames";
  if (report.camera && !report.camera->last_error.empty()) {
    reason += ": " + report.camera->last_error;
  }
  if (t - since >= ms_of_minutes(config_.camera_fault_minutes)) {
    return open_alert(s, AlertKind::kCameraFault, since, t, {{"reason", reason}}, nullptr);
  }
  return {};
}

Status Attendance::audited(const Observation& evidence, int audit_count) {
  std::lock_guard lock(mu_);
  auto it = sites_.find(evidence.site_id);
  if (it == sites_.end()) return {};
  SiteState& s = it->second;
  const std::int64_t t = evidence.captured_at_ms;
  if (t < s.last_audit_ms) return {};
  s.last_audit_ms = t;
  const PeriodSlot* slot = period_at(s, t);
  if (!slot || !counts_disagree(evidence.frame_count, audit_count, audit_)) {
    s.disputed_run = 0;
    s.disputed_since.reset();
    if (!slot) return {};
    return close_alert(s, AlertKind::kCountDisputed, t, "the counts agree again");
  }
  if (!s.disputed_since || *s.disputed_since < slot->start_ms) {
    s.disputed_since = t;
    s.disputed_run = 0;
  }
  if (++s.disputed_run < audit_.consecutive) return {};
  const json details = {
      {"node_count", evidence.frame_count},  {"audit_count", audit_count},
      {"node_window_count", evidence.count}, {"pictures", s.disputed_run},
      {"tolerance", audit_.tolerance},       {"tolerance_share", audit_.tolerance_share}};
  return open_alert(s, AlertKind::kCountDisputed, *s.disputed_since, t, details, &evidence);
}

void Attendance::frame_stored(const Observation& obs, const std::string&) {
  if (auto s = observe(obs); !s) {
    log::get("attendance")
        ->error("site {}: frame {}: {}", obs.site_id, obs.sequence, s.error().message);
  }
}

void Attendance::heartbeat_stored(const Heartbeat& hb, const NodeReport& report) {
  if (auto s = heartbeat(hb, report); !s) {
    log::get("attendance")
        ->error("site {}: heartbeat {}: {}", hb.site_id, hb.sequence, s.error().message);
  }
}

namespace {

// Roll calls of different sites taken at once in one tick, at most.
constexpr size_t kRollCallThreads = 4;

}  // namespace

Status Attendance::tick(std::int64_t now) {
  std::lock_guard one_at_a_time(tick_mu_);
  if (config_.alert_on_estimated && now - calibrated_at_ms_ >= 60'000) {  // checks made since
    LedgerQuery corrections;
    corrections.kind = "correction";
    corrections.limit = 0;
    auto entries = ledger_.entries(Chain::kLedger, corrections);
    if (!entries) return std::unexpected(entries.error());
    auto fresh = calibrations_of(*entries);
    std::lock_guard lock(mu_);
    calibrations_ = std::move(fresh);
    calibrated_at_ms_ = now;
  }
  const auto grace = static_cast<std::int64_t>(config_.roll_call_grace_s * 1000);
  const auto final_after = static_cast<std::int64_t>(config_.final_after_s * 1000);
  struct Due {
    SiteState* site;
    const PeriodSlot* slot;
    size_t roll_call;  // or npos: the period's summary
  };
  std::vector<Due> due;
  {
    std::lock_guard lock(mu_);
    for (auto& [id, s] : sites_) {
      for (const PeriodSlot& slot : *s.slots) {
        if (now < slot.start_ms) continue;
        // Offline: no frame for too long while the period runs.
        if (now < slot.end_ms) {
          const std::int64_t since = std::max(s.last_frame_ms, slot.start_ms);
          if (now - since >= ms_of_minutes(config_.offline_minutes)) {
            json details = {{"last_frame_ms", s.last_frame_ms}};
            if (auto o = open_alert(s, AlertKind::kOffline, since, now, details, nullptr); !o)
              return o;
          }
        } else {
          // The period is over: what was open in it ends with it.
          for (AlertKind k : kAlertKinds) {
            auto open = s.open.find(k);
            if (open != s.open.end() && open->second.started_ms < slot.end_ms &&
                open->second.started_ms >= slot.start_ms) {
              if (auto c = close_alert(s, k, slot.end_ms, "the period ended"); !c) return c;
            }
          }
        }
        for (size_t i = 0; i < slot.roll_calls_ms.size(); ++i) {
          const std::string subject = roll_call_subject(id, slot, i);
          if (slot.roll_calls_ms[i] + grace <= now && done_.insert(subject).second) {
            due.push_back({&s, &slot, i});
          }
        }
        if (slot.end_ms + final_after <= now && done_.insert(summary_subject(id, slot)).second) {
          due.push_back({&s, &slot, std::string::npos});
        }
      }
    }
  }
  // Roll calls read frames, draw their evidence and audit it: outside the lock, so uploads
  // never wait on it, and side by side on a few threads, so that one site's slow picture never
  // holds up another site's record. Summaries come after (they read the roll calls).
  Status result;
  std::mutex result_mu;
  const auto run = [&](const Due& d) {
    Status done = d.roll_call == std::string::npos ? summarize(*d.site, *d.slot)
                                                   : take_roll_call(*d.site, *d.slot, d.roll_call);
    if (done) return;
    {
      std::lock_guard lock(mu_);
      done_.erase(d.roll_call == std::string::npos
                      ? summary_subject(d.site->site->id, *d.slot)
                      : roll_call_subject(d.site->site->id, *d.slot, d.roll_call));
    }
    log::get("attendance")->error("site {}: {}", d.site->site->id, done.error().message);
    std::lock_guard lock(result_mu);
    if (result) result = done;  // retried at the next tick
  };
  std::vector<const Due*> calls;
  for (const Due& d : due) {
    if (d.roll_call != std::string::npos) calls.push_back(&d);
  }
  std::atomic<size_t> next = 0;
  const auto work = [&] {
    for (size_t i = next++; i < calls.size(); i = next++) run(*calls[i]);
  };
  std::vector<std::thread> helpers;
  for (size_t w = 1; w < std::min(calls.size(), kRollCallThreads); ++w) helpers.emplace_back(work);
  work();
  for (std::thread& t : helpers) t.join();
  for (const Due& d : due) {
    if (d.roll_call == std::string::npos) run(d);
  }
  // The class is over when its last period is: the final report, once every summary is in.
  if (class_end_ms() > 0 && class_end_ms() + final_after <= now) {
    bool ready = false;
    {
      std::lock_guard lock(mu_);
      ready = !done_.contains("final_report");
      for (const auto& [id, s] : sites_) {
        for (const PeriodSlot& slot : *s.slots)
          ready = ready && done_.contains(summary_subject(id, slot));
      }
      if (ready) done_.insert("final_report");
    }
    if (ready) {
      if (auto f = final_report(); !f) {
        std::lock_guard lock(mu_);
        done_.erase("final_report");
        log::get("attendance")->error("final report: {}", f.error().message);
        if (result) result = f;
      }
    }
  }
  return result;
}

Result<std::pair<std::string, std::string>> Attendance::save_evidence(const Observation& obs,
                                                                      const std::string& name) {
  if (obs.frame_path.empty()) return fail("the frame's picture was deleted by retention");
  auto jpeg = read_file(data_dir_ / obs.frame_path);
  if (!jpeg) return std::unexpected(jpeg.error());
  const std::string path = "evidence/" + obs.site_id + "/" + name + ".jpg";
  if (auto w = write_file_atomically(data_dir_ / path, *jpeg, /*sync=*/true); !w)
    return std::unexpected(w.error());
  return std::pair{path, sha256_hex(*jpeg)};
}

Status Attendance::take_roll_call(SiteState& s, const PeriodSlot& slot, size_t i) {
  const std::int64_t at = slot.roll_calls_ms[i];
  const auto grace = static_cast<std::int64_t>(config_.roll_call_grace_s * 1000);
  const auto max_age = static_cast<std::int64_t>(config_.evidence_max_age_s * 1000);
  auto frames = observations_.observations_since(s.site->id, at - max_age, 100000);
  if (!frames) return std::unexpected(frames.error());
  // The latest observation at or before the roll call; else the first one just after it.
  const Observation* chosen = nullptr;
  for (const Observation& o : *frames) {
    if (o.captured_at_ms <= at) chosen = &o;
  }
  if (!chosen) {
    for (const Observation& o : *frames) {
      if (o.captured_at_ms <= at + grace) {
        chosen = &o;
        break;
      }
    }
  }
  // Its picture; a node's count without one is shown by the node's evidence picture nearest
  // it (the node sends one at every roll call).
  const Observation* pictured = chosen && !chosen->frame_path.empty() ? chosen : nullptr;
  if (chosen && !pictured) {
    for (const Observation& o : *frames) {
      if (o.frame_path.empty() || o.captured_at_ms > at + grace) continue;
      if (!pictured || std::abs(o.captured_at_ms - chosen->captured_at_ms) <
                           std::abs(pictured->captured_at_ms - chosen->captured_at_ms)) {
        pictured = &o;
      }
    }
  }
  RollCall r;
  r.site_id = s.site->id;
  r.date = slot.date;
  r.period = slot.period;
  r.label = slot.roll_call_labels[i];
  r.scheduled_ms = at;
  r.expected = s.site->expected_attendees;
  if (chosen) {
    r.counted = chosen->count;
    r.set_aside = health_flags(chosen->health);
    r.counted_by = chosen->counted_by;
    r.sequence = chosen->sequence;
    r.captured_at_ms = chosen->captured_at_ms;
    auto saved =
        pictured ? save_evidence(*pictured, slot.date + "/" + slot.period + "-" + compact(r.label))
                 : Result<std::pair<std::string, std::string>>(
                       fail("no picture of the site in the " + std::to_string(max_age / 1000) +
                            " s before the roll call"));
    if (pictured) r.boxes = pictured->boxes;
    if (pictured && pictured != chosen) {
      r.evidence_sequence = pictured->sequence;
      r.evidence_captured_at_ms = pictured->captured_at_ms;
    }
    if (pictured && pictured->counted_by == CountedBy::kNode) {
      std::optional<int> audit = pictured->audit_count;
      if (!audit && audit_now_) {
        if (auto now = audit_now_(*pictured)) {
          audit = *now;
        } else {
          log::get("attendance")
              ->error("site {}: roll call {}: the audit of its picture failed: {}", r.site_id,
                      r.label, now.error().message);
        }
      }
      if (audit) {
        r.evidence_count = pictured->frame_count;
        r.audit_count = audit;
      }
    }
    if (saved) {
      r.evidence_path = saved->first;
      r.evidence_sha256 = saved->second;
    } else {  // the count stands; the record says why it has no picture
      r.evidence_error = saved.error().message;
      log::get("attendance")
          ->error("site {}: roll call {}: no evidence: {}", r.site_id, r.label, r.evidence_error);
    }
  }
  if (auto a =
          append("roll_call", s.site->id, roll_call_subject(s.site->id, slot, i), at, r.to_json());
      !a)
    return a;
  return roll_call_alerts(s, slot, i, r);
}

Status Attendance::roll_call_alerts(SiteState& s, const PeriodSlot& slot, size_t i,
                                    const RollCall& r) {
  std::lock_guard lock(mu_);
  const json details = {{"roll_call", r.label},
                        {"counted", r.counted ? json(*r.counted) : json()},
                        {"expected", r.expected}};
  const std::int64_t now =
      r.scheduled_ms + static_cast<std::int64_t>(config_.roll_call_grace_s * 1000);
  if (i == 0 && counted_below(r, config_.late_start_fraction)) {
    if (auto o = open_alert(s, AlertKind::kLateStart, r.scheduled_ms, now, details, nullptr, &r);
        !o)
      return o;
  } else if (i > 0 && r.standing() && !counted_below(r, config_.late_start_fraction)) {
    if (auto c = close_alert(s, AlertKind::kLateStart, r.scheduled_ms, "the class has arrived"); !c)
      return c;
  }
  if (i + 1 == slot.roll_calls_ms.size() && counted_below(r, config_.early_leave_fraction)) {
    if (auto o = open_alert(s, AlertKind::kEarlyLeave, r.scheduled_ms, now, details, nullptr, &r);
        !o)
      return o;
  }
  return {};
}

Status Attendance::summarize(SiteState& s, const PeriodSlot& slot) {
  auto frames = observations_.observations_since(s.site->id, slot.start_ms, 1'000'000);
  if (!frames) return std::unexpected(frames.error());
  LedgerQuery q;
  q.kind = "roll_call";
  q.site_id = s.site->id;
  q.limit = 0;
  auto entries = ledger_.entries(Chain::kLedger, q);
  if (!entries) return std::unexpected(entries.error());
  std::vector<RollCall> calls;
  for (const LedgerEntry& e : *entries) {
    auto r = RollCall::from_json(json::parse(e.body, nullptr, /*allow_exceptions=*/false));
    if (r) calls.push_back(*r);
  }
  const PeriodSummary summary = summarize_period(*s.site, slot, *frames, calls, config_);
  return append("period_summary", s.site->id, summary_subject(s.site->id, slot), slot.end_ms,
                summary.to_json());
}

void Attendance::set_audit(AuditConfig config, PictureAudit audit_now) {
  audit_ = config;
  audit_now_ = std::move(audit_now);
}

void Attendance::set_final_report_writer(FinalReportWriter writer) {
  final_report_writer_ = std::move(writer);
}

Status Attendance::final_report() {
  auto records = read_records(ledger_, "");
  if (!records) return std::unexpected(records.error());
  std::vector<PeriodSummary> summaries;
  for (const auto& s : records->summaries) summaries.push_back(s.summary);
  json periods = json::array();
  for (const PeriodSlot& slot : slots_) {
    periods.push_back({{"date", slot.date},
                       {"period", slot.period},
                       {"rollup", period_rollup(site_list_, summaries, slot.date, slot.period,
                                                config_.under_fraction)
                                      .to_json()}});
  }
  json files = json::array();
  if (final_report_writer_) {
    auto written = final_report_writer_(*records);
    if (!written) return std::unexpected(written.error());
    for (const ReportFile& file : *written) {
      const std::string path = "reports/final/" + file.name;
      if (auto w = write_file_atomically(data_dir_ / path, file.bytes, /*sync=*/true); !w) return w;
      json entry = {
          {"path", path}, {"sha256", sha256_hex(file.bytes)}, {"bytes", file.bytes.size()}};
      if (!file.district.empty()) entry["district"] = file.district;
      files.push_back(std::move(entry));
    }
  }
  const json body = {
      {"periods", std::move(periods)},
      {"class", class_rollup(site_list_, summaries, config_.under_fraction).to_json()},
      {"files", std::move(files)},
      {"ledger_last_seq", records->last_seq},
      {"ledger_last_hash", records->last_hash}};
  log::get("attendance")->info("the class is over: final report written");
  return append("final_report", "", "final_report", class_end_ms(), body);
}

}  // namespace att
