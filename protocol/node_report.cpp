#include "protocol/node_report.h"

#include <array>
#include <limits>
#include <nlohmann/json.hpp>
#include <utility>

namespace att {
namespace {

using nlohmann::json;

constexpr std::array<std::pair<NodeState, std::string_view>, 4> kStates = {{
    {NodeState::kOk, "ok"},
    {NodeState::kNoFrames, "no_frames"},
    {NodeState::kStopping, "stopping"},
    {NodeState::kFinished, "finished"},
}};

// A JSON document nested at most kMaxNodeReportDepth deep, else a discarded value. The parse
// itself is not recursive; deeper values are dropped while parsing.
json parse_shallow(std::string_view text) {
  bool too_deep = false;
  json j = json::parse(
      text,
      [&too_deep](int depth, json::parse_event_t event, json&) {
        // `depth`: the objects and arrays around this value; one opened here is one more.
        if ((event == json::parse_event_t::object_start ||
             event == json::parse_event_t::array_start) &&
            depth >= kMaxNodeReportDepth) {
          too_deep = true;
        }
        return !too_deep;
      },
      /*allow_exceptions=*/false);
  return too_deep ? json(json::value_t::discarded) : j;
}

// A value too long to quote whole in a message is cut.
std::string shown(const json& v) {
  std::string text = v.dump();
  if (text.size() > 40) text = text.substr(0, 40) + "...";
  return text;
}

// Reads the members of one JSON object, each named by its path in messages. The first
// problem is kept; later reads are skipped.
class Reader {
 public:
  Reader(const json& object, std::string prefix) : object_(object), prefix_(std::move(prefix)) {}

  const std::optional<Error>& error() const { return error_; }

  // The member, or null with the error noted when it is missing and `required`.
  const json* member(const char* key, bool required) {
    if (error_) return nullptr;
    const auto it = object_.find(key);
    if (it == object_.end()) {
      if (required) note(path(key) + " is missing");
      return nullptr;
    }
    return &*it;
  }

  void whole(const char* key, std::int64_t& out, std::int64_t min = 0) {
    const json* v = member(key, true);
    if (!v) return;
    constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    const bool fits =
        v->is_number_integer() && !(v->is_number_unsigned() && v->get<std::uint64_t>() > kMax);
    if (fits && v->get<std::int64_t>() >= min) {
      out = v->get<std::int64_t>();
      return;
    }
    note(path(key) + " must be a whole number >= " + std::to_string(min) + " (got " + shown(*v) +
         ")");
  }

  void number(const char* key, double& out, double min = -std::numeric_limits<double>::max(),
              double max = std::numeric_limits<double>::max()) {
    const json* v = member(key, true);
    if (!v) return;
    if (v->is_number()) {
      const double d = v->get<double>();
      if (d >= min && d <= max) {
        out = d;
        return;
      }
    }
    std::string range;
    if (min > -std::numeric_limits<double>::max() && max < std::numeric_limits<double>::max()) {
      range = " from " + json(min).dump() + " to " + json(max).dump();
    } else if (min > -std::numeric_limits<double>::max()) {
      range = " >= " + json(min).dump();
    }
    note(path(key) + " must be a number" + range + " (got " + shown(*v) + ")");
  }

  void text(const char* key, std::string& out) {
    const json* v = member(key, true);
    if (!v) return;
    if (v->is_string()) {
      out = v->get<std::string>();
      return;
    }
    note(path(key) + " must be a string (got " + shown(*v) + ")");
  }

  void boolean(const char* key, bool& out) {
    const json* v = member(key, true);
    if (!v) return;
    if (v->is_boolean()) {
      out = v->get<bool>();
      return;
    }
    note(path(key) + " must be true or false (got " + shown(*v) + ")");
  }

  void strings(const char* key, std::vector<std::string>& out) {
    const json* v = member(key, true);
    if (!v) return;
    if (v->is_array()) {
      for (const json& s : *v) {
        if (!s.is_string()) break;
        out.push_back(s.get<std::string>());
      }
      if (out.size() == v->size()) return;
    }
    note(path(key) + " must be an array of strings (got " + shown(*v) + ")");
  }

  // A group: an object member, or nothing when it is missing or null.
  const json* group(const char* key) {
    const json* v = member(key, false);
    if (!v || v->is_null()) return nullptr;
    if (v->is_object()) return v;
    note(path(key) + " must be an object or null (got " + shown(*v) + ")");
    return nullptr;
  }

  std::string path(const char* key) const { return prefix_.empty() ? key : prefix_ + "." + key; }
  void note(std::string message) {
    if (!error_) error_ = Error{"node report: " + std::move(message), ErrorCode::kInvalid};
  }
  void take(const std::optional<Error>& inner) {
    if (inner && !error_) error_ = inner;
  }

 private:
  const json& object_;
  const std::string prefix_;
  std::optional<Error> error_;
};

NodeCamera read_camera(Reader& r, const json& j) {
  NodeCamera c;
  Reader in(j, "camera");
  in.boolean("playing", c.playing);
  in.whole("last_frame_ms", c.last_frame_ms);
  in.number("last_frame_age_s", c.last_frame_age_s);
  in.whole("pipeline_starts", c.pipeline_starts);
  in.text("last_error", c.last_error);
  in.number("interval_s", c.interval_s, 0);
  r.take(in.error());
  return c;
}

HealthScores read_health(Reader& r, const json& j) {
  HealthScores h;
  Reader in(j, "health");
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

NodeSpool read_spool(Reader& r, const json& j) {
  NodeSpool s;
  Reader in(j, "spool");
  in.whole("items", s.items);
  in.whole("bytes", s.bytes);
  in.whole("max_bytes", s.max_bytes);
  in.whole("dropped", s.dropped);
  r.take(in.error());
  return s;
}

NodeCounters read_counters(Reader& r, const json& j) {
  NodeCounters c;
  Reader in(j, "counters");
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
  j["clock_offset_s"] = clock_offset_s ? json(*clock_offset_s) : json(nullptr);
  j["version"] = version ? json(*version) : json(nullptr);
  j["uptime_s"] = uptime_s ? json(*uptime_s) : json(nullptr);
  return j.dump();
}

Result<NodeReport> parse_node_report(std::string_view text) {
  const json j = parse_shallow(text);
  if (j.is_discarded()) {
    return fail("node report: not JSON, or nested more than " +
                std::to_string(kMaxNodeReportDepth) + " deep");
  }
  if (!j.is_object()) return fail("node report: must be a JSON object (got " + shown(j) + ")");

  NodeReport report;
  Reader r(j, "");
  // A top-level member that is null is taken as left out.
  const auto present = [&](const char* key) {
    const json* v = r.member(key, false);
    return v && !v->is_null();
  };
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
  if (present("clock_offset_s")) r.number("clock_offset_s", report.clock_offset_s.emplace());
  if (present("version")) r.text("version", report.version.emplace());
  if (present("uptime_s")) r.whole("uptime_s", report.uptime_s.emplace());
  if (r.error()) return std::unexpected(*r.error());
  return report;
}

}  // namespace att
