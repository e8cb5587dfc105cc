#include "analysis/server_config.h"

#include "common/log.h"
#include "common/yaml_fields.h"

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
  listen.finish();

  c.data_dir = resolve(base, top.string("data_dir", "data"));
  c.dashboard_dir = resolve(base, top.string("dashboard_dir", ""));
  c.log_level = top.string("log_level", c.log_level);
  if (!log::valid_level(c.log_level)) {
    errors.add("log_level: '" + c.log_level + "' is not one of trace, debug, info, warn, error");
  }

  YamlMap province = top.map("province", YamlMap::kRequired);
  c.province_name = province.string("name", "", YamlMap::kRequired);
  c.sites_csv = resolve(base, province.string("sites", "", YamlMap::kRequired));
  c.schedule_yaml = resolve(base, province.string("schedule", "", YamlMap::kRequired));
  province.finish();

  YamlMap det = top.map("detector");
  c.detector.name = det.string("name", c.detector.name);
  if (c.detector.name != "yunet" && c.detector.name != "haar") {
    errors.add("detector.name: '" + c.detector.name + "' is not one of yunet, haar");
  }
  c.detector.model_dir = resolve(base, det.string("model_dir", ""));
  c.detector.search_default_dirs = det.boolean("search_default_dirs", true);
  if (det.has("haar_cascade")) c.detector.haar_cascade = resolve(base, det.string("haar_cascade", ""));
  c.detector.score_threshold = det.number("score_threshold", c.detector.score_threshold, 0.05, 1.0);
  c.detector.nms_threshold = det.number("nms_threshold", c.detector.nms_threshold, 0.05, 1.0);
  c.detector.workers = static_cast<int>(det.integer("workers", c.detector.workers, 0, 64));
  det.finish();

  YamlMap ingest = top.map("ingest");
  c.max_body_bytes = ingest.integer("max_body_bytes", c.max_body_bytes, 1024, 64 << 20);
  c.max_image_pixels = ingest.integer("max_image_pixels", c.max_image_pixels, 64 * 64,
                                      8192LL * 8192);
  ingest.finish();
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
    } else {
      errors.add("province.schedule: " + schedule.error().message);
    }
  }
  if (!errors.empty()) return fail(errors.summary(path.string()));
  return c;
}

}  // namespace att
