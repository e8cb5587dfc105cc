#include "capture/node_config.h"

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
  const std::string state_dir = top.string("state_dir", c.state_dir.string());
  c.state_dir = std::filesystem::path(state_dir).is_absolute()
                    ? std::filesystem::path(state_dir)
                    : (path.parent_path() / state_dir).lexically_normal();

  YamlMap source = top.map("source");
  c.source_uri = source.string("uri", "");
  c.realtime = source.boolean("realtime", c.realtime);
  c.sample_interval_s = source.number("sample_interval_s", c.sample_interval_s, 0.05, 3600);
  c.width = static_cast<int>(source.integer("width", c.width, 0, 7680));
  c.jpeg_quality = static_cast<int>(source.integer("jpeg_quality", c.jpeg_quality, 30, 100));
  c.exit_on_eos = source.boolean("exit_on_eos", c.exit_on_eos);
  source.finish();

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
  if (c.sample_interval_s < 0.05 || c.sample_interval_s > 3600) {
    errors.add("source.sample_interval_s: must be between 0.05 and 3600");
  }
  if (!log::valid_level(c.log_level)) {
    errors.add("log_level: '" + c.log_level + "' is not one of trace, debug, info, warn, error");
  }
}

}  // namespace att
