#include "capture/node_config.h"

#include <algorithm>

#include "common/log.h"
#include "common/yaml_fields.h"

namespace att {

Result<CaptureConfig> load_capture_config(const std::filesystem::path& path) {
  auto root = load_yaml_file(path);
  if (!root) return std::unexpected(root.error());
  ConfigErrors errors;
  CaptureConfig c;
  YamlMap top(*root, "", errors);
  c.site_id = top.string("site_id", "");
  c.server_url = top.string("server_url", "");
  c.log_level = top.string("log_level", c.log_level);
  c.log_format = top.string("log_format", c.log_format);
  auto resolve = [&](const std::string& value) -> std::filesystem::path {
    if (value.empty()) return {};
    std::filesystem::path p(value);
    return p.is_absolute() ? p : (path.parent_path() / p).lexically_normal();
  };
  c.state_dir = resolve(top.string("state_dir", c.state_dir.string()));
  c.secret_file = resolve(top.string("secret_file", ""));
  c.ca_file = resolve(top.string("ca_file", ""));

  YamlMap source = top.map("source");
  c.source_uri = source.string("uri", "");
  c.realtime = source.boolean("realtime", c.realtime);
  c.sample_interval_s = source.number("sample_interval_s", c.sample_interval_s, 0.05, 3600);
  c.width = static_cast<int>(source.integer("width", c.width, 0, 7680));
  c.jpeg_quality = static_cast<int>(source.integer("jpeg_quality", c.jpeg_quality, 30, 100));
  c.min_interval_s = source.number("min_interval_s", c.min_interval_s, 0.05, 3600);
  c.stall_timeout_s = source.number("stall_timeout_s", c.stall_timeout_s, 2, 3600);
  c.exit_on_eos = source.boolean("exit_on_eos", c.exit_on_eos);
  source.finish();

  YamlMap spool = top.map("spool");
  c.spool_max_bytes = static_cast<std::int64_t>(
      spool.number("max_mb", double(c.spool_max_bytes >> 20), 1, 1 << 20) * (1 << 20));
  c.spool_min_free_bytes = static_cast<std::int64_t>(
      spool.number("min_free_mb", double(c.spool_min_free_bytes >> 20), 0, 1 << 20) * (1 << 20));
  c.queue_frames = static_cast<int>(spool.integer("queue_frames", c.queue_frames, 1, 1000));
  spool.finish();

  YamlMap health = top.map("health");
  HealthConfig& h = c.health;
  c.heartbeat_s = health.number("heartbeat_s", c.heartbeat_s, 1, 3600);
  c.reference = resolve(health.string("reference", ""));
  h.dark_brightness = health.number("dark_brightness", h.dark_brightness, 0, 255);
  h.blur_sharpness = health.number("blur_sharpness", h.blur_sharpness, 0, 1e6);
  h.frozen_samples = static_cast<int>(health.integer("frozen_samples", h.frozen_samples, 2, 1000));
  h.frozen_difference = health.number("frozen_difference", h.frozen_difference, 0, 255);
  h.covered_share = health.number("covered_share", h.covered_share, 0.1, 1);
  h.covered_spread = static_cast<int>(health.integer("covered_spread", h.covered_spread, 0, 255));
  h.moved_shift = health.number("moved_shift", h.moved_shift, 0.001, 1);
  h.moved_rotation_deg = health.number("moved_rotation_deg", h.moved_rotation_deg, 0.1, 180);
  h.moved_min_matches =
      static_cast<int>(health.integer("moved_min_matches", h.moved_min_matches, 4, 10000));
  health.finish();

  YamlMap counting = top.map("counting");
  NodeCountingConfig& n = c.counting;
  n.mode = counting.string("mode", n.mode);
  n.every_s = counting.number("every_s", n.every_s, 0.2, 60);
  n.max_cores = counting.number("max_cores", n.max_cores, 0.1, 64);
  n.report_interval_s = counting.number("report_interval_s", n.report_interval_s, 1, 3600);
  n.evidence_interval_s = counting.number("evidence_interval_s", n.evidence_interval_s, 5, 3600);
  n.detector.name = counting.string("detector", n.detector.name);
  n.detector.model_dir = resolve(counting.string("model_dir", ""));
  n.occupancy.window_s = counting.number("window_s", n.occupancy.window_s, 10, 3600);
  counting.finish();

  YamlMap upload = top.map("upload");
  c.upload_timeout_s = upload.number("timeout_s", c.upload_timeout_s, 1, 600);
  c.max_backoff_s = upload.number("max_backoff_s", c.max_backoff_s, 1, 3600);
  upload.finish();
  top.finish();

  check_capture_config(c, errors);
  if (!errors.empty()) return fail(errors.summary(path.string()));
  return c;
}

Status validate_capture_config(const CaptureConfig& c) {
  ConfigErrors errors;
  check_capture_config(c, errors);
  if (!errors.empty()) return fail(errors.summary("capture settings"));
  return {};
}

void check_capture_config(const CaptureConfig& c, ConfigErrors& errors) {
  if (c.site_id.empty()) errors.add("site_id: required");
  if (!c.server_url.starts_with("http://") && !c.server_url.starts_with("https://")) {
    errors.add("server_url: must start with http:// or https:// (got '" + c.server_url + "')");
  }
  if (c.source_uri.empty()) errors.add("source.uri: required");
  if (c.secret_file.empty()) {
    errors.add("secret_file: required (the site's key, from `attendance-server keys --show " +
               (c.site_id.empty() ? std::string("SITE") : c.site_id) + "`)");
  }
  if (c.sample_interval_s < 0.05 || c.sample_interval_s > 3600) {
    errors.add("source.sample_interval_s: must be between 0.05 and 3600");
  }
  if (c.counting.mode != "edge" && c.counting.mode != "central") {
    errors.add("counting.mode: '" + c.counting.mode + "' is not one of edge, central");
  }
  if (c.counting.mode == "edge") {
    const auto& names = detector_names();
    if (std::find(names.begin(), names.end(), c.counting.detector.name) == names.end()) {
      std::string all;
      for (const auto& n : names) all += (all.empty() ? "" : ", ") + n;
      errors.add("counting.detector: '" + c.counting.detector.name + "' is not one of " + all);
    }
  }
  if (!log::valid_level(c.log_level)) {
    errors.add("log_level: '" + c.log_level + "' is not one of trace, debug, info, warn, error");
  }
  if (!log::parse_format(c.log_format)) {
    errors.add("log_format: '" + c.log_format + "' is not one of text, json");
  }
}

}  // namespace att
