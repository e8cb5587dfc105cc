// HttpApi's read API of the sites: the service's status, every site with its state, its
// latest observation and picture, its timeline; and asking a site's node for live frames.
#include <httplib.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "analysis/domain/attendance.h"
#include "analysis/domain/rollup.h"
#include "analysis/domain/site_state.h"
#include "analysis/web/api_service.h"
#include "analysis/web/http_util.h"
#include "common/files.h"
#include "protocol/boxes.h"
#include "protocol/node_report.h"

namespace att {
namespace {

using nlohmann::json;

json latest_json(const Observation& o) {
  return {
      {"count", o.count},
      {"frame_count", o.frame_count},
      {"sequence", o.sequence},
      {"captured_at_ms", o.captured_at_ms},
      {"captured_at", iso8601_utc(o.captured_at_ms)},
      {"received_at_ms", o.received_at_ms},
      {"counted_by", o.counted_by == CountedBy::kNode ? "node" : "service"},
      {"health", o.health.empty() ? json(nullptr)
                                  : json::parse(o.health, nullptr, /*allow_exceptions=*/false)}};
}

// A node's latest heartbeat: its own report (camera, health, spool, counters), its age, and
// the items it lost (NodeReport::items_lost).
json node_json(const Heartbeat& h, const std::optional<NodeReport>& report, std::int64_t now) {
  const std::optional<std::int64_t> lost = report ? report->items_lost() : std::nullopt;
  return {{"sequence", h.sequence},
          {"reported_at_ms", h.captured_at_ms},
          {"received_at_ms", h.received_at_ms},
          {"age_ms", now - h.captured_at_ms},
          {"items_lost", lost ? json(*lost) : json(nullptr)},
          {"report", report ? json::parse(report->to_json()) : json(nullptr)}};
}

// A required whole-number parameter, or none with a 400 in `res`.
std::optional<std::int64_t> required_number(const httplib::Request& req, httplib::Response& res,
                                            const char* name, const char* what) {
  const std::string text = req.get_param_value(name);
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    send_error(res, 400, "bad_parameter",
               std::string(name) + " must be " + what + " (got '" + text.substr(0, 32) + "')");
    return std::nullopt;
  }
  return v;
}

// The most points one timeline answer holds: 24 h of a frame every 5 s fit.
constexpr int kTimelinePoints = 20000;
constexpr std::int64_t kTimelineSpanMs = 24 * 3600 * 1000;

}  // namespace

void ApiService::get_status(const httplib::Request&, httplib::Response& res) {
  send_json(res, 200,
            {{"service", "attendance-server"},
             {"version", ATTENDANCE_VERSION},
             {"province", options.province_name},
             {"timezone", options.timezone},
             {"server_time_ms", clock()},
             {"sites", sites.size()},
             // What a site's state is judged by (analysis/domain/site_state.h), for legends.
             {"site_state",
              {{"under_fraction", options.records.under_fraction},
               {"frame_current_s", kFrameCurrentMs / 1000},
               {"node_current_s", kNodeCurrentMs / 1000}}},
             {"detector",
              {{"name", options.detector_name},
               {"degraded", options.detector_degraded},
               {"message", options.detector_message}}}});
}

// Live view: the site's node is asked for frames every live_interval_s for a while (the
// dashboard repeats the request while the view is open). No connection goes to the site:
// the node hears it in its next answer, so a site whose node has not been heard from within
// kNodeCurrentMs (no heartbeat, no upload) gets no live picture now, and the answer says so
// (`node_connected`: false, with `message`); the request still stands for a node that
// connects before it ends.
void ApiService::post_live(const httplib::Request& req, httplib::Response& res) {
  const std::string id = req.matches[1];
  if (!by_id.contains(id)) return send_error(res, 404, "unknown_site", "no site '" + id + "'");
  const std::int64_t now = clock();
  std::int64_t heard_at = 0;  // the node's latest heartbeat or upload received
  if (auto heartbeats = store.latest_heartbeat_per_site()) {
    for (const Heartbeat& h : *heartbeats) {
      if (h.site_id == id) heard_at = std::max(heard_at, h.received_at_ms);
    }
  } else {
    log->error("live: {}", heartbeats.error().message);
  }
  if (auto latest = store.latest_observation(id); latest && *latest) {
    heard_at = std::max(heard_at, (*latest)->received_at_ms);
  }
  const bool connected = heard_at > 0 && now - heard_at <= kNodeCurrentMs;
  const std::int64_t until = ingest.request_live(id);
  json body = {{"site_id", id},
               {"live_until_ms", until},
               {"interval_s", ingest.interval_for(id)},
               {"node_connected", connected}};
  if (!connected) {
    body["message"] = heard_at == 0 ? "no capture node has ever connected for site '" + id +
                                          "': there is no live picture until one does"
                                    : "the capture node of site '" + id +
                                          "' is not connected now: there is no live picture "
                                          "until it is back";
  }
  send_json(res, 200, body);
}

// The site's counts between ?from= and ?to= (ms since epoch, UTC; at most 24 h apart), a point
// per stored frame, oldest first: the window's count, the frame's detections and the health
// flags its node raised. At most kTimelinePoints ("truncated": the oldest of them).
void ApiService::get_timeline(const httplib::Request& req, httplib::Response& res) {
  const std::string id = req.matches[1];
  if (!by_id.contains(id)) return send_error(res, 404, "unknown_site", "no site '" + id + "'");
  const auto from = required_number(req, res, "from", "a time in ms since the epoch (UTC)");
  if (!from) return;
  const auto to = required_number(req, res, "to", "a time in ms since the epoch (UTC)");
  if (!to) return;
  if (*to <= *from) return send_error(res, 400, "bad_parameter", "to must be after from");
  // In unsigned arithmetic: to - from overflows int64 for far-apart values (INT64_MIN, INT64_MAX).
  if (static_cast<std::uint64_t>(*to) - static_cast<std::uint64_t>(*from) >
      static_cast<std::uint64_t>(kTimelineSpanMs)) {
    return send_error(res, 400, "bad_parameter",
                      "from and to are at most 24 h (86400000 ms) apart");
  }
  auto rows = store.observations_between(id, *from, *to, kTimelinePoints + 1);
  if (!rows) {
    log->error("site {}: timeline: {}", id, rows.error().message);
    return send_error(res, 503, "storage_failed", "cannot read observations");
  }
  const bool truncated = rows->size() > static_cast<size_t>(kTimelinePoints);
  if (truncated) rows->pop_back();
  json points = json::array();
  for (const Observation& o : *rows) {
    points.push_back({{"t", o.captured_at_ms},
                      {"count", o.count},
                      {"detections", o.boxes.size()},
                      {"flags", json(health_flags(o.health))}});
  }
  send_json(res, 200,
            {{"site_id", id},
             {"from_ms", *from},
             {"to_ms", *to},
             {"truncated", truncated},
             {"points", std::move(points)}});
}

void ApiService::get_sites(const httplib::Request&, httplib::Response& res) {
  auto latest = store.latest_per_site();
  if (!latest) {
    log->error("sites: {}", latest.error().message);
    return send_error(res, 503, "storage_failed", "cannot read observations");
  }
  auto heartbeats = store.latest_heartbeat_per_site();
  if (!heartbeats) {
    log->error("sites: {}", heartbeats.error().message);
    return send_error(res, 503, "storage_failed", "cannot read heartbeats");
  }
  std::map<std::string, const Observation*> latest_by_site;
  for (const auto& o : *latest) latest_by_site[o.site_id] = &o;
  std::map<std::string, const Heartbeat*> heartbeat_by_site;
  for (const auto& h : *heartbeats) heartbeat_by_site[h.site_id] = &h;
  const std::map<std::string, NodeRefusal> refusals = ingest.refusals();
  const std::int64_t now = clock();
  const double under_fraction = options.records.under_fraction;
  json list = json::array();
  std::vector<SiteFigure> figures;  // the live totals: each site's current count
  for (const Site* s : sites) {
    const auto it = latest_by_site.find(s->id);
    const Observation* o = it == latest_by_site.end() ? nullptr : it->second;
    const auto hb = heartbeat_by_site.find(s->id);
    const Heartbeat* h = hb == heartbeat_by_site.end() ? nullptr : hb->second;
    std::optional<NodeReport> report;
    if (h) {
      if (auto parsed = parse_node_report(h->report)) report = std::move(*parsed);
    }
    SiteFacts facts;
    facts.expected = s->expected_attendees;
    if (o) facts.frame = {o->captured_at_ms, o->received_at_ms, o->count, health_flags(o->health)};
    if (h) {
      facts.node = {h->received_at_ms, report && report->camera_gives_nothing(),
                    report && report->health ? report->health->flags : std::vector<std::string>{}};
    }
    const auto refused = refusals.find(s->id);
    const NodeRefusal* r = refused == refusals.end() ? nullptr : &refused->second;
    if (r) facts.refused_at_ms = r->at_ms;
    const Attendance::Standing standing = roll_book.standing(s->id, now);
    facts.in_class = standing.in_class;
    facts.offline_alert_open = standing.offline_alert_open;
    const SiteAssessment now_at = assess_site(facts, now, under_fraction);
    json latest = nullptr;
    if (o) {
      latest = latest_json(*o);
      latest["current"] = now_at.frame_current;
    }
    list.push_back({{"id", s->id},
                    {"name", s->name},
                    {"district", s->district},
                    {"school_level", to_string(s->level)},
                    {"expected_attendees", s->expected_attendees},
                    {"state", to_string(now_at.state)},
                    {"problems", now_at.problems},
                    {"latest", std::move(latest)},
                    {"node", h ? node_json(*h, report, now) : json(nullptr)},
                    {"refused", r ? json{{"at_ms", r->at_ms},
                                         {"status", r->status},
                                         {"code", r->code},
                                         {"message", r->message},
                                         {"count", r->count}}
                                  : json(nullptr)}});
    // A camera at fault's count is set aside: it says nothing of the room.
    const bool counts = now_at.frame_current && now_at.state != SiteState::kCameraFault;
    figures.push_back({s, counts ? std::optional(o->count) : std::nullopt});
  }
  const Attendance::ClassNow class_now = roll_book.class_now(now);
  const auto period_json = [](const std::optional<PeriodSlot>& p) -> json {
    if (!p) return nullptr;
    return {
        {"date", p->date}, {"period", p->period}, {"start_ms", p->start_ms}, {"end_ms", p->end_ms}};
  };
  send_json(res, 200,
            {{"server_time_ms", now},
             {"sites", std::move(list)},
             {"totals", roll_up(figures, under_fraction).to_json()},
             {"class",
              {{"period", period_json(class_now.period)},
               {"sites_in_class", class_now.sites_in_class},
               {"next", period_json(class_now.next)}}}});
}

// The site's latest observation, or nothing with the error already in `res`.
std::optional<Observation> ApiService::latest_or_error(const std::string& id,
                                                       httplib::Response& res) {
  if (!by_id.contains(id)) {
    send_error(res, 404, "unknown_site", "no site '" + id + "'");
    return std::nullopt;
  }
  auto latest = store.latest_observation(id);
  if (!latest) {
    log->error("site {}: {}", id, latest.error().message);
    send_error(res, 503, "storage_failed", "cannot read observations");
    return std::nullopt;
  }
  if (!*latest) send_error(res, 404, "no_observation", "site '" + id + "' has sent no frame yet");
  return *latest;
}

// The picture that shows a site's latest observation: its own, or for a node's count
// without one, the node's newest evidence picture of the hour before.
std::optional<Observation> ApiService::picture_of(const Observation& latest) {
  if (!latest.frame_path.empty() || latest.counted_by != CountedBy::kNode) return latest;
  auto recent = store.observations_since(latest.site_id, latest.captured_at_ms - 3'600'000, 100000);
  if (!recent) {
    log->error("site {}: {}", latest.site_id, recent.error().message);
    return std::nullopt;
  }
  for (auto it = recent->rbegin(); it != recent->rend(); ++it) {
    if (!it->frame_path.empty()) return *it;
  }
  return std::nullopt;
}

void ApiService::get_latest(const httplib::Request& req, httplib::Response& res) {
  const std::string id = req.matches[1];
  const auto latest = latest_or_error(id, res);
  if (!latest) return;
  const Observation& o = *latest;
  const auto pictured = picture_of(o);
  json body = latest_json(o);
  body["site_id"] = id;
  body["server_time_ms"] = clock();
  body["age_ms"] = clock() - o.captured_at_ms;
  body["boxes"] = boxes_to_json(o.boxes);
  body["detector"] = o.detector;
  body["width"] = o.width;
  body["height"] = o.height;
  // None: deleted by retention, or a node that sent no picture in the hour.
  const bool has_picture = pictured && !pictured->frame_path.empty();
  body["frame_url"] = has_picture ? json("/api/v1/sites/" + id + "/latest.jpg") : json(nullptr);
  body["picture_captured_at_ms"] = has_picture ? json(pictured->captured_at_ms) : json(nullptr);
  send_json(res, 200, body);
}

// The observation's frame as it was received, from the data directory; the one last shown
// of its site is kept, so that its annotated picture is drawn once however often it is
// viewed.
Result<std::shared_ptr<const LiveFrame>> ApiService::stored_frame(const Observation& o) {
  if (o.frame_path.empty())
    return fail("the picture was deleted by retention (storage.frame_days)");
  {
    std::lock_guard lock(pictures_mu);
    auto it = pictures.find(o.site_id);
    if (it != pictures.end() && it->second->sequence == o.sequence) return it->second;
  }
  auto jpeg = read_file(options.data_dir / o.frame_path);
  if (!jpeg) return std::unexpected(jpeg.error());
  auto frame = LiveFrame::make(o, std::make_shared<const std::string>(std::move(*jpeg)));
  std::lock_guard lock(pictures_mu);
  auto& kept = pictures[o.site_id];
  if (!kept || kept->sequence != o.sequence) kept = std::move(frame);
  return kept;
}

void ApiService::get_latest_jpeg(const httplib::Request& req, httplib::Response& res) {
  const std::string id = req.matches[1];
  const auto found = latest_or_error(id, res);
  if (!found) return;
  const auto latest = picture_of(*found);
  if (!latest || latest->frame_path.empty()) {
    return send_error(res, 410, "frame_expired",
                      found->counted_by == CountedBy::kNode
                          ? "the site's node sent no picture in the last hour"
                          : "the latest frame's picture was deleted by retention "
                            "(storage.frame_days)");
  }
  auto frame = stored_frame(*latest);
  const Result<std::string> annotated =
      frame ? (*frame)->annotated() : std::unexpected(frame.error());
  if (!annotated) {
    log->error("site {}: stored frame {} unreadable: {}", id, latest->frame_path,
               annotated.error().message);
    return send_error(res, 500, "frame_unreadable", "the stored frame cannot be read");
  }
  res.set_header("Cache-Control", "no-store");
  res.set_content(*annotated, "image/jpeg");
}

}  // namespace att
