#include "protocol/node_report.h"

#include <array>
#include <limits>
#include <nlohmann/json.hpp>
#include <utility>

#include "protocol/json_reader.h"

namespace att {
namespace {

using nlohmann::json;

constexpr std::array<std::pair<NodeState, std::string_view>, 4> kStates = {{
    {NodeState::kOk, "ok"},
    {NodeState::kNoFrames, "no_frames"},
    {NodeState::kStopping, "stopping"},
    {NodeState::kFinished, "finished"},
}};

// A reader of one member group of a node report, its problems named "node report: ...".
JsonReader reader(const json& j, std::string prefix) {
  return JsonReader(j, std::move(prefix), "node report");
}

NodeCamera read_camera(JsonReader& r, const json& j) {
  NodeCamera c;
  auto in = reader(j, "camera");
  in.boolean("playing", c.playing);
  in.whole("last_frame_ms", c.last_frame_ms);
  in.number("last_frame_age_s", c.last_frame_age_s);
  in.whole("pipeline_starts", c.pipeline_starts);
  in.text("last_error", c.last_error);
  in.number("interval_s", c.interval_s, 0);
  r.take(in.error());
  return c;
}

HealthScores read_health(JsonReader& r, const json& j,
                         const std::string& document = "node report") {
  HealthScores h;
  JsonReader in(j, "health", document);
  in.number("brightness", h.brightness, 0, 255);
  in.number("sharpness", h.sharpness, 0);
  in.number("change", h.change, -1);
  in.number("uniform_share", h.uniform_share, 0, 1);
  in.strings("flags", h.flags);
  // The comparison with the reference: all three members, or none.
  if (j.contains("matched") || j.contains("shift") || j.contains("rotation")) {
    in.number("shift", h.shift, 0);
    in.number("rotation", h.rotation, -180, 180);
    std::int64_t matched = 0;
    in.whole("matched", matched);
    if (matched > std::numeric_limits<int>::max()) {
      in.note("health.matched must be a whole number from 0 to " +
              std::to_string(std::numeric_limits<int>::max()));
    }
    h.matched = static_cast<int>(matched);
  }
  r.take(in.error());
  return h;
}

NodeSpool read_spool(JsonReader& r, const json& j) {
  NodeSpool s;
  auto in = reader(j, "spool");
  in.whole("items", s.items);
  in.whole("bytes", s.bytes);
  in.whole("max_bytes", s.max_bytes);
  in.whole("dropped", s.dropped);
  r.take(in.error());
  return s;
}

NodeCounters read_counters(JsonReader& r, const json& j) {
  NodeCounters c;
  auto in = reader(j, "counters");
  in.whole("frames", c.frames);
  in.whole("spooled", c.spooled);
  in.whole("spool_failed", c.spool_failed);
  in.whole("queue_dropped", c.queue_dropped);
  in.whole("stored", c.stored);
  in.whole("duplicates", c.duplicates);
  in.whole("rejected", c.rejected);
  r.take(in.error());
  return c;
}

NodeCounting read_counting(JsonReader& r, const json& j) {
  NodeCounting c;
  auto in = reader(j, "counting");
  in.text("model", c.model, 64);
  in.number("every_s", c.every_s, 0);
  in.number("max_cores", c.max_cores, 0);
  in.number("rate_hz", c.rate_hz, 0);
  in.number("detector_ms", c.detector_ms, 0);
  in.number("cpu_share", c.cpu_share, 0);
  in.whole("looks", c.looks);
  in.whole("skipped", c.skipped);
  in.whole("setup_version", c.setup_version);
  r.take(in.error());
  return c;
}

json health_json(const HealthScores& h) {
  json j = {{"brightness", h.brightness},
            {"sharpness", h.sharpness},
            {"change", h.change},
            {"uniform_share", h.uniform_share},
            {"flags", h.flags}};
  if (h.matched >= 0) {
    j["shift"] = h.shift;
    j["rotation"] = h.rotation;
    j["matched"] = h.matched;
  }
  return j;
}

}  // namespace

std::string_view to_string(NodeState state) {
  for (const auto& [s, name] : kStates) {
    if (s == state) return name;
  }
  return "ok";
}

std::string HealthScores::to_json() const {
  return health_json(*this).dump();
}

Result<HealthScores> parse_health_scores(std::string_view text, const std::string& document) {
  const json j = parse_shallow(text, kMaxNodeReportDepth);
  if (!j.is_object()) {
    return fail(document + ": health must be a JSON object (got " + shown(j) + ")");
  }
  JsonReader r(j, "", document);
  HealthScores h = read_health(r, j, document);
  if (r.error()) return std::unexpected(*r.error());
  return h;
}

bool NodeReport::camera_gives_nothing() const {
  return state == NodeState::kNoFrames || (camera && !camera->playing);
}

std::optional<std::int64_t> NodeReport::items_lost() const {
  if (!spool && !counters) return std::nullopt;
  return (spool ? spool->dropped : 0) +
         (counters ? counters->queue_dropped + counters->spool_failed : 0);
}

std::string NodeReport::to_json() const {
  json j = json::object();
  j["state"] = state ? json(to_string(*state)) : json(nullptr);
  j["camera"] = nullptr;
  if (camera) {
    j["camera"] = {{"playing", camera->playing},
                   {"last_frame_ms", camera->last_frame_ms},
                   {"last_frame_age_s", camera->last_frame_age_s},
                   {"pipeline_starts", camera->pipeline_starts},
                   {"last_error", camera->last_error},
                   {"interval_s", camera->interval_s}};
  }
  j["health"] = health ? health_json(*health) : json(nullptr);
  j["spool"] = nullptr;
  if (spool) {
    j["spool"] = {{"items", spool->items},
                  {"bytes", spool->bytes},
                  {"max_bytes", spool->max_bytes},
                  {"dropped", spool->dropped}};
  }
  j["counters"] = nullptr;
  if (counters) {
    j["counters"] = {{"frames", counters->frames},
                     {"spooled", counters->spooled},
                     {"spool_failed", counters->spool_failed},
                     {"queue_dropped", counters->queue_dropped},
                     {"stored", counters->stored},
                     {"duplicates", counters->duplicates},
                     {"rejected", counters->rejected}};
  }
  j["counting"] = nullptr;
  if (counting) {
    j["counting"] = {{"model", counting->model},
                     {"every_s", counting->every_s},
                     {"max_cores", counting->max_cores},
                     {"rate_hz", counting->rate_hz},
                     {"detector_ms", counting->detector_ms},
                     {"cpu_share", counting->cpu_share},
                     {"looks", counting->looks},
                     {"skipped", counting->skipped},
                     {"setup_version", counting->setup_version}};
  }
  j["clock_offset_s"] = clock_offset_s ? json(*clock_offset_s) : json(nullptr);
  j["version"] = version ? json(*version) : json(nullptr);
  j["uptime_s"] = uptime_s ? json(*uptime_s) : json(nullptr);
  return j.dump();
}

Result<NodeReport> parse_node_report(std::string_view text) {
  const json j = parse_shallow(text, kMaxNodeReportDepth);
  if (j.is_discarded()) {
    return fail("node report: not JSON, or nested more than " +
                std::to_string(kMaxNodeReportDepth) + " deep");
  }
  if (!j.is_object()) return fail("node report: must be a JSON object (got " + shown(j) + ")");

  NodeReport report;
  auto r = reader(j, "");
  // A top-level member that is null is taken as left out.
  const auto present = [&](const char* key) { return r.present(key); };
  if (present("state")) {
    const json& s = j.at("state");
    for (const auto& [state, name] : kStates) {
      if (s.is_string() && s.get<std::string>() == name) report.state = state;
    }
    if (!report.state) {
      r.note("state must be one of \"ok\", \"no_frames\", \"stopping\", \"finished\" (got " +
             shown(s) + ")");
    }
  }
  if (const json* c = r.group("camera")) report.camera = read_camera(r, *c);
  if (const json* h = r.group("health")) report.health = read_health(r, *h);
  if (const json* s = r.group("spool")) report.spool = read_spool(r, *s);
  if (const json* c = r.group("counters")) report.counters = read_counters(r, *c);
  if (const json* c = r.group("counting")) report.counting = read_counting(r, *c);
  if (present("clock_offset_s")) r.number("clock_offset_s", report.clock_offset_s.emplace());
  if (present("version")) r.text("version", report.version.emplace());
  if (present("uptime_s")) r.whole("uptime_s", report.uptime_s.emplace());
  if (r.error()) return std::unexpected(*r.error());
  return report;
}

}  // namespace att
