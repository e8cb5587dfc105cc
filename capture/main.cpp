// attendance-capture: one site's node. Wires only: arguments, config, objects, signals.
#include <CLI/CLI.hpp>
#include <csignal>
#include <iostream>
#include <thread>

#include "capture/capture_node.h"
#include "capture/gst_frame_source.h"
#include "common/log.h"

namespace {
std::atomic<bool> g_stop{false};
extern "C" void on_signal(int) {
  g_stop = true;
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"attendance-capture: samples a camera and pushes frames to the service"};
  app.footer(
      "Exit status: 0 stopped normally; 1 cannot start; 2 invalid configuration; "
      "3 the service refused every frame it was sent.");
  std::string config_path, site, source, server, state_dir;
  double interval = 0;
  bool once = false, fast = false;
  app.add_option("-c,--config", config_path, "node settings (YAML)");
  app.add_option("--site", site, "overrides site_id");
  app.add_option("--source", source, "overrides source.uri");
  app.add_option("--server", server, "overrides server_url");
  app.add_option("--interval", interval, "overrides source.sample_interval_s");
  app.add_option("--state-dir", state_dir, "overrides state_dir");
  app.add_flag("--once", once, "stop at the end of a file (source.exit_on_eos)");
  app.add_flag("--fast", fast, "read files as fast as frames are taken (source.realtime: false)");
  CLI11_PARSE(app, argc, argv);

  att::CaptureConfig config;
  if (!config_path.empty()) {
    auto loaded = att::load_capture_config(config_path);
    if (!loaded) {
      std::cerr << "attendance-capture: invalid configuration\n" << loaded.error().message << "\n";
      return 2;
    }
    config = std::move(*loaded);
  }
  if (!site.empty()) config.site_id = site;
  if (!source.empty()) config.source_uri = source;
  if (!server.empty()) config.server_url = server;
  if (interval > 0) config.sample_interval_s = interval;
  if (!state_dir.empty()) config.state_dir = state_dir;
  if (once) config.exit_on_eos = true;
  if (fast) config.realtime = false;
  if (auto valid = att::validate_capture_config(config); !valid) {
    std::cerr << "attendance-capture: invalid configuration\n" << valid.error().message << "\n";
    return 2;
  }
  att::log::setup(config.log_level);
  auto log = att::log::get("capture");

  auto sequence = att::SequenceFile::open(config.state_dir / "sequence");
  if (!sequence) return log->critical("{}", sequence.error().message), 1;
  auto uploader = att::Uploader::create(
      config.server_url, config.site_id,
      std::chrono::milliseconds(static_cast<long long>(config.upload_timeout_s * 1000)));
  if (!uploader) return log->critical("{}", uploader.error().message), 1;

  att::SourceOptions options{config.source_uri, config.realtime, config.sample_interval_s,
                             config.width, config.jpeg_quality};
  if (auto text = att::pipeline_description(options); !text) {
    return log->critical("source: {}", text.error().message), 2;
  } else {
    log->info("site {} -> {}; pipeline: {}", config.site_id, config.server_url, *text);
  }

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  att::CaptureNode node(
      config, [&] { return att::open_gst_source(options); }, **uploader, *sequence);
  const att::NodeStats stats = node.run(g_stop);
  return stats.rejected > 0 && stats.stored == 0 ? 3 : 0;
}
