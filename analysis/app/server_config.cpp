#include "analysis/app/server_config.h"

#include <algorithm>

#include "analysis/web/request_checks.h"
#include "common/log.h"
#include "common/yaml_fields.h"
#include "counting/detector.h"

namespace att {
namespace {

std::filesystem::path resolve(const std::filesystem::path& base, const std::string& value) {
  if (value.empty()) return {};
  std::filesystem::path p(value);
  return p.is_absolute() ? p : (base / p).lexically_normal();
}

}  // namespace

Result<ServerConfig> load_server_config(const std::filesystem::path& path) {
  auto root = load_yaml_file(path);
  if (!root) return std::unexpected(root.error());
  const auto base = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();

  ConfigErrors errors;
  ServerConfig c;
  YamlMap top(*root, "", errors);

  YamlMap listen = top.map("listen");
  c.listen_host = listen.string("host", c.listen_host);
  c.listen_port = static_cast<int>(listen.integer("port", c.listen_port, 0, 65535));
  c.http_threads = static_cast<int>(listen.integer("threads", c.http_threads, 2, 256));
  c.keep_alive_s = static_cast<int>(listen.integer("keep_alive_s", c.keep_alive_s, 1, 60));
  c.request_timeout_s =
      static_cast<int>(listen.integer("request_timeout_s", c.request_timeout_s, 5, 600));
  for (const YAML::Node& n : listen.sequence("trusted_proxies")) {
    const std::string address = n.IsScalar() ? n.as<std::string>() : "";
    if (!is_ip_address(address)) {
      errors.add("listen.trusted_proxies: '" + address +
                 "' is not an IP address (a proxy is trusted by its address: 127.0.0.1, ::1)");
    } else {
      c.trusted_proxies.push_back(address);
    }
  }
  c.tls_cert = resolve(base, listen.string("tls_cert", ""));
  c.tls_key = resolve(base, listen.string("tls_key", ""));
  if (c.tls_cert.empty() != c.tls_key.empty()) {
    errors.add("listen: tls_cert and tls_key go together (both for HTTPS, neither for HTTP)");
  }
  listen.finish();

  c.data_dir = resolve(base, top.string("data_dir", "data"));
  c.dashboard_dir = resolve(base, top.string("dashboard_dir", ""));
  c.log_level = top.string("log_level", c.log_level);
  if (!log::valid_level(c.log_level)) {
    errors.add("log_level: '" + c.log_level + "' is not one of trace, debug, info, warn, error");
  }
  c.log_format = top.string("log_format", c.log_format);
  if (!log::parse_format(c.log_format)) {
    errors.add("log_format: '" + c.log_format + "' is not one of text, json");
  }

  YamlMap province = top.map("province", YamlMap::kRequired);
  c.province_name = province.string("name", "", YamlMap::kRequired);
  c.sites_csv = resolve(base, province.string("sites", "", YamlMap::kRequired));
  c.schedule_yaml = resolve(base, province.string("schedule", "", YamlMap::kRequired));
  province.finish();

  YamlMap det = top.map("detector");
  c.detector.name = det.string("name", c.detector.name);
  if (std::ranges::find(detector_names(), c.detector.name) == detector_names().end()) {
    std::string names;
    for (const auto& n : detector_names()) names += (names.empty() ? "" : ", ") + n;
    errors.add("detector.name: '" + c.detector.name + "' is not one of " + names);
  }
  c.detector.model_dir = resolve(base, det.string("model_dir", ""));
  c.detector.search_default_dirs = det.boolean("search_default_dirs", true);
  if (det.has("haar_cascade"))
    c.detector.haar_cascade = resolve(base, det.string("haar_cascade", ""));
  if (det.has("score_threshold")) {
    c.detector.score_threshold = det.number("score_threshold", 0.5, 0.05, 1.0);
  }
  c.detector.nms_threshold = det.number("nms_threshold", c.detector.nms_threshold, 0.05, 1.0);
  c.detector.far_rows_fraction =
      det.number("far_rows_fraction", c.detector.far_rows_fraction, 0.0, 1.0);
  c.detector.far_rows_scale = det.number("far_rows_scale", c.detector.far_rows_scale, 1.0, 4.0);
  c.detector.workers = static_cast<int>(det.integer("workers", c.detector.workers, 0, 64));
  det.finish();

  YamlMap counting = top.map("counting");
  OccupancyConfig& o = c.counting;
  o.window_s = counting.number("window_s", o.window_s, 10, 4 * 3600);
  o.min_hits = static_cast<int>(counting.integer("min_hits", o.min_hits, 1, 1000));
  o.enter_fraction = counting.number("enter_fraction", o.enter_fraction, 0.01, 1.0);
  o.leave_fraction = counting.number("leave_fraction", o.leave_fraction, 0.0, 1.0);
  if (o.leave_fraction > o.enter_fraction) {
    errors.add("counting.leave_fraction must not exceed counting.enter_fraction");
  }
  o.match_radius = counting.number("match_radius", o.match_radius, 0.1, 5.0);
  o.still_min_hits =
      static_cast<int>(counting.integer("still_min_hits", o.still_min_hits, 2, 10000));
  o.still_motion = counting.number("still_motion", o.still_motion, 0.0, 1.0);
  o.still_pixel_diff = counting.number("still_pixel_diff", o.still_pixel_diff, 0.0, 255.0);
  o.perspective_score = counting.number("perspective_score", o.perspective_score, 0.0, 1.0);
  o.perspective_min_samples = static_cast<int>(
      counting.integer("perspective_min_samples", o.perspective_min_samples, 2, 100000));
  o.perspective_tolerance =
      counting.number("perspective_tolerance", o.perspective_tolerance, 1.1, 10.0);
  c.zones_yaml = resolve(base, counting.string("zones", ""));
  counting.finish();

  YamlMap ingest = top.map("ingest");
  c.max_body_bytes = ingest.integer("max_body_bytes", c.max_body_bytes, 1024, 64 << 20);
  c.max_image_pixels =
      ingest.integer("max_image_pixels", c.max_image_pixels, 64 * 64, 8192LL * 8192);
  c.queue_capacity =
      static_cast<int>(ingest.integer("queue_capacity", c.queue_capacity, 0, 100000));
  c.queue_per_site = static_cast<int>(ingest.integer("queue_per_site", c.queue_per_site, 1, 1000));
  c.max_future_s = ingest.integer("max_future_s", c.max_future_s, 0, 365LL * 86400);
  c.max_age_s = static_cast<std::int64_t>(
      ingest.number("max_age_days", double(c.max_age_s) / 86400, 0, 3650) * 86400);
  ingest.finish();

  YamlMap storage = top.map("storage");
  StorageConfig& st = c.storage;
  st.frame_days = storage.number("frame_days", st.frame_days, 0, 36500);
  st.heartbeat_days = storage.number("heartbeat_days", st.heartbeat_days, 0, 36500);
  st.retention_check_s = storage.number("retention_check_s", st.retention_check_s, 1, 86400);
  st.write_batch = static_cast<int>(storage.integer("write_batch", st.write_batch, 1, 10000));
  st.readers = static_cast<int>(storage.integer("readers", st.readers, 1, 64));
  st.backend = storage.string("backend", st.backend);
  st.postgres = storage.string("postgres", st.postgres);
  if (st.backend != "sqlite" && st.backend != "postgres") {
    errors.add("storage.backend: '" + st.backend + "' is not one of sqlite, postgres");
  } else if (st.backend == "postgres" && st.postgres.empty()) {
    errors.add("storage.postgres: the connection string is required with backend postgres");
  }
  storage.finish();

  YamlMap nodes = top.map("nodes");
  NodesConfig& n = c.nodes;
  n.site_keys_csv = resolve(base, nodes.string("site_keys", ""));
  n.sample_interval_s = nodes.number("sample_interval_s", n.sample_interval_s, 0.2, 3600);
  n.live_interval_s = nodes.number("live_interval_s", n.live_interval_s, 0.1, 60);
  n.live_duration_s = nodes.number("live_duration_s", n.live_duration_s, 5, 3600);
  if (nodes.has("allowed_models")) n.allowed_models.clear();
  for (const YAML::Node& item : nodes.sequence("allowed_models")) {
    const std::string sha = item.IsScalar() ? item.as<std::string>() : "";
    const bool hex =
        sha.size() == 64 && sha.find_first_not_of("0123456789abcdef") == std::string::npos;
    if (!hex) {
      errors.add(nodes.where("allowed_models") +
                 ": each item must be a model file's sha256 "
                 "(64 lowercase hex digits)");
      continue;
    }
    n.allowed_models.push_back(sha);
  }
  nodes.finish();

  YamlMap attendance = top.map("attendance");
  AttendanceConfig& a = c.attendance;
  a.under_fraction = attendance.number("under_fraction", a.under_fraction, 0.05, 1.0);
  a.under_minutes = attendance.number("under_minutes", a.under_minutes, 1, 240);
  a.offline_minutes = attendance.number("offline_minutes", a.offline_minutes, 1, 240);
  a.camera_fault_minutes =
      attendance.number("camera_fault_minutes", a.camera_fault_minutes, 1, 240);
  a.late_start_fraction =
      attendance.number("late_start_fraction", a.late_start_fraction, 0.05, 1.0);
  a.early_leave_fraction =
      attendance.number("early_leave_fraction", a.early_leave_fraction, 0.05, 1.0);
  a.roll_call_grace_s = attendance.number("roll_call_grace_s", a.roll_call_grace_s, 0, 3600);
  a.evidence_max_age_s = attendance.number("evidence_max_age_s", a.evidence_max_age_s, 10, 7200);
  a.final_after_s = attendance.number("final_after_s", a.final_after_s, 0, 3600);
  const std::string alert_on = attendance.string("alert_on", "seen");
  if (alert_on != "seen" && alert_on != "estimated")
    errors.add("attendance.alert_on: '" + alert_on + "' is not one of seen, estimated");
  a.alert_on_estimated = alert_on == "estimated";
  attendance.finish();

  YamlMap audit = top.map("audit");
  AuditConfig& ad = c.audit;
  ad.max_cpu_share = audit.number("max_cpu_share", ad.max_cpu_share, 0.05, 1.0);
  ad.tolerance = static_cast<int>(audit.integer("tolerance", ad.tolerance, 0, 1000));
  ad.tolerance_share = audit.number("tolerance_share", ad.tolerance_share, 0, 1.0);
  ad.consecutive = static_cast<int>(audit.integer("consecutive", ad.consecutive, 1, 100));
  audit.finish();

  YamlMap live = top.map("live");
  LiveOptions& l = c.live;
  l.max_event_clients =
      static_cast<int>(live.integer("max_event_clients", l.max_event_clients, 1, 256));
  l.max_mjpeg_clients =
      static_cast<int>(live.integer("max_mjpeg_clients", l.max_mjpeg_clients, 1, 64));
  l.max_streams_per_viewer =
      static_cast<int>(live.integer("max_streams_per_viewer", l.max_streams_per_viewer, 1, 64));
  l.event_history = static_cast<int>(live.integer("event_history", l.event_history, 16, 100000));
  l.event_queue = static_cast<int>(live.integer("event_queue", l.event_queue, 16, 100000));
  l.keepalive_s = live.number("keepalive_s", l.keepalive_s, 1, 300);
  l.mjpeg_max_s = live.number("mjpeg_max_s", l.mjpeg_max_s, 10, 24 * 3600);
  live.finish();

  YamlMap auth = top.map("auth");
  AuthConfig& au = c.auth;
  au.session_idle_minutes =
      auth.number("session_idle_minutes", au.session_idle_minutes, 1, 7 * 24 * 60);
  au.session_max_hours = auth.number("session_max_hours", au.session_max_hours, 1, 24 * 366);
  au.login_attempts = static_cast<int>(auth.integer("login_attempts", au.login_attempts, 1, 100));
  au.address_attempts =
      static_cast<int>(auth.integer("address_attempts", au.address_attempts, 1, 10000));
  au.password_checks = static_cast<int>(auth.integer("password_checks", au.password_checks, 1, 64));
  au.login_window_minutes =
      auth.number("login_window_minutes", au.login_window_minutes, 1, 24 * 60);
  auth.finish();
  top.finish();

  // The files the YAML names are checked too, so that one run lists every problem.
  if (!c.sites_csv.empty()) {
    if (auto sites = load_sites_csv(c.sites_csv)) {
      c.sites = std::move(*sites);
    } else {
      errors.add("province.sites: " + sites.error().message);
    }
  }
  if (!c.schedule_yaml.empty()) {
    if (auto schedule = load_schedule(c.schedule_yaml)) {
      c.schedule = std::move(*schedule);
      for (const auto& [site, days] : c.schedule.overrides) {
        const bool known = std::any_of(c.sites.begin(), c.sites.end(),
                                       [&](const Site& s) { return s.id == site; });
        if (!known && !c.sites.empty()) {
          errors.add("province.schedule: overrides: site '" + site + "' is not in the sites list");
        }
      }
    } else {
      errors.add("province.schedule: " + schedule.error().message);
    }
  }
  if (!c.nodes.site_keys_csv.empty() && std::filesystem::exists(c.nodes.site_keys_csv) &&
      errors.empty()) {
    if (auto keys = load_site_keys(c.nodes.site_keys_csv, c.sites)) {
      c.site_keys = std::move(*keys);
    } else {
      errors.add("nodes.site_keys: " + keys.error().message);
    }
  }
  if (!c.zones_yaml.empty() && errors.empty()) {
    if (auto z = parse_zones(c.zones_yaml, c.sites, c.zones, c.empty_references); !z) {
      errors.add("counting.zones: " + z.error().message);
    }
  }
  if (!errors.empty()) return fail(errors.summary(path.string()));
  return c;
}

namespace {

// [[x, y], ...] with 3 or more points, each coordinate in 0..1.
Zone parse_polygon(const YAML::Node& node, const std::string& where, const std::string& name,
                   ConfigErrors& errors) {
  Zone zone{name, {}};
  if (!node.IsSequence() || node.size() < 3) {
    errors.add(where + ": a zone is a list of 3 or more [x, y] points");
    return zone;
  }
  for (const auto& point : node) {
    try {
      if (!point.IsSequence() || point.size() != 2) throw YAML::Exception({}, "");
      const float x = point[0].as<float>(), y = point[1].as<float>();
      if (!(x >= 0 && x <= 1 && y >= 0 && y <= 1)) {  // NaN (.nan) is not inside either
        errors.add(where + ": point [" + std::to_string(x) + ", " + std::to_string(y) +
                   "] is outside 0..1 (zones are fractions of the frame's width and height)");
        return zone;
      }
      zone.points.emplace_back(x, y);
    } catch (const YAML::Exception&) {
      errors.add(where + ": each point is [x, y], two numbers in 0..1");
      return zone;
    }
  }
  return zone;
}

std::vector<Zone> parse_zone_map(YamlMap& site, const std::string& key, ConfigErrors& errors) {
  std::vector<Zone> zones;
  if (!site.has(key)) return zones;
  YamlMap named = site.map(key);
  for (const auto& name : named.keys()) {
    zones.push_back(parse_polygon(named.node(name), named.where(name), name, errors));
  }
  return zones;
}

}  // namespace

Status parse_zones(const std::filesystem::path& path, const std::vector<Site>& sites,
                   std::map<std::string, SiteZones>& zones,
                   std::map<std::string, std::filesystem::path>& references) {
  auto root = load_yaml_file(path);
  if (!root) return std::unexpected(root.error());
  const auto base = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
  ConfigErrors errors;
  YamlMap top(*root, "", errors);
  for (const auto& id : top.keys()) {
    if (std::ranges::none_of(sites, [&](const Site& s) { return s.id == id; })) {
      errors.add(id + ": no such site in the province");
      top.node(id);
      continue;
    }
    YamlMap site = top.map(id);
    SiteZones z;
    z.count = parse_zone_map(site, "count", errors);
    z.exclude = parse_zone_map(site, "exclude", errors);
    z.min_score = static_cast<float>(site.number("min_score", 0, 0, 1));
    const std::string reference = site.string("empty_reference", "");
    if (!reference.empty()) references[id] = resolve(base, reference);
    site.finish();
    zones[id] = std::move(z);
  }
  top.finish();
  if (!errors.empty()) return fail(errors.summary(path.string()));
  return {};
}

}  // namespace att
