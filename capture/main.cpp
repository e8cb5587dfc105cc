// attendance-capture: one site's node. Wires only: arguments, config, objects, signals.
#include <CLI/CLI.hpp>
#include <csignal>
#include <iostream>
#include <thread>

#include "capture/capture_node.h"
#include "common/files.h"
#include "common/log.h"
#include "protocol/signing.h"

namespace {

std::atomic<bool> g_stop{false};
extern "C" void on_signal(int) {
  g_stop = true;
}

// --confirm-reference: the next frame becomes the view later frames are compared with.
int confirm_reference(const att::CaptureConfig& config) {
  auto log = att::log::get("capture");
  const auto path =
      config.reference.empty() ? config.state_dir / "reference.jpg" : config.reference;
  att::FrameQueue queue(2);
  att::Camera camera({{config.source_uri, true, 1.0, config.width, config.jpeg_quality},
                      config.stall_timeout_s,
                      config.max_backoff_s,
                      false},
                     queue);
  if (auto s = camera.start(); !s) return log->critical("camera: {}", s.error().message), 1;
  std::optional<att::CapturedFrame> frame;
  for (int i = 0; i < 300 && !frame && !g_stop; ++i)
    frame = queue.pop(std::chrono::milliseconds(100));
  camera.stop();
  if (!frame) {
    return log->critical("no frame from the camera in 30 s: {}", camera.status().last_error), 1;
  }
  if (auto w = att::write_file_atomically(path, frame->jpeg, /*sync=*/true); !w) {
    return log->critical("{}", w.error().message), 1;
  }
  std::cout << "reference view saved: " << path.string() << " (" << frame->width << "x"
            << frame->height << "); look at it, and run this again if it is not the right view\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"attendance-capture: samples a camera and pushes frames to the service"};
  app.footer(
      "Exit status: 0 stopped normally; 1 cannot start; 2 invalid configuration; "
      "3 the service refused every frame it was sent.");
  std::string config_path, site, source, server, state_dir, secret_file, log_format, counting;
  double interval = 0;
  bool once = false, fast = false, reference = false;
  app.add_option("-c,--config", config_path, "node settings (YAML)");
  app.add_option("--site", site, "overrides site_id");
  app.add_option("--source", source, "overrides source.uri");
  app.add_option("--server", server, "overrides server_url");
  app.add_option("--secret-file", secret_file, "overrides secret_file");
  app.add_option("--interval", interval, "overrides source.sample_interval_s");
  app.add_option("--counting", counting, "overrides counting.mode: edge or central");
  app.add_option("--state-dir", state_dir, "overrides state_dir");
  app.add_option("--log-format", log_format,
                 "overrides log_format: text, or json (one object a line)");
  app.add_flag("--once", once, "stop at the end of a file, once all is sent (source.exit_on_eos)");
  app.add_flag("--fast", fast, "read files as fast as frames are taken (source.realtime: false)");
  app.add_flag("--confirm-reference", reference,
               "save the camera's next frame as the reference view (the 'moved' check) and exit");
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
  if (!secret_file.empty()) config.secret_file = secret_file;
  if (interval > 0) config.sample_interval_s = interval;
  if (!counting.empty()) config.counting.mode = counting;
  if (!state_dir.empty()) config.state_dir = state_dir;
  if (!log_format.empty()) config.log_format = log_format;
  if (once) config.exit_on_eos = true;
  if (fast) config.realtime = false;
  if (auto valid = att::validate_capture_config(config); !valid) {
    std::cerr << "attendance-capture: invalid configuration\n" << valid.error().message << "\n";
    return 2;
  }
  // Validated above, so the format parses.
  att::log::setup(config.log_level, att::log::parse_format(config.log_format).value());
  auto log = att::log::get("capture");
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  if (reference) return confirm_reference(config);

  auto secret = att::load_site_secret(config.secret_file);
  if (!secret) return log->critical("{}", secret.error().message), 2;
  auto sequence = att::SequenceFile::open(config.state_dir / "sequence");
  if (!sequence) return log->critical("{}", sequence.error().message), 1;
  std::string recovered;
  auto spool = att::Spool::open(config.state_dir / "spool.db", config.spool_max_bytes, &recovered);
  if (!spool) return log->critical("{}", spool.error().message), 1;
  (*spool)->keep_free(config.spool_min_free_bytes);
  if (!recovered.empty()) log->error("{}", recovered);
  if (auto s = (*spool)->stats(); s && s->items > 0) {
    log->info("resuming: {} item(s) in the spool from before are sent first", s->items);
  }
  auto uploader = att::Uploader::create(
      {config.server_url, config.site_id, *secret,
       std::chrono::milliseconds(static_cast<long long>(config.upload_timeout_s * 1000)),
       config.ca_file});
  if (!uploader) return log->critical("{}", uploader.error().message), 1;

  att::SourceOptions options{config.source_uri, config.realtime, config.sample_interval_s,
                             config.width, config.jpeg_quality};
  if (auto text = att::pipeline_description(options); !text) {
    return log->critical("source: {}", text.error().message), 2;
  } else {
    log->info("site {} -> {}; pipeline: {}", config.site_id, config.server_url, *text);
  }

  // A node that cannot count (no model it may use) still sends frames: the service counts.
  std::optional<att::CountingModel> model;
  if (config.counting.mode == "edge") {
    if (auto loaded = att::load_counting_model(config.counting.detector)) {
      model = std::move(*loaded);
    } else {
      log->error("cannot count here ({}); sending frames for the service to count instead",
                 loaded.error().message);
    }
  }
  att::CaptureNode node(config, **uploader, *sequence, **spool, std::move(model));
  const att::NodeStats stats = node.run(g_stop);
  return stats.rejected > 0 && stats.stored == 0 ? 3 : 0;
}
