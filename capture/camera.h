// The camera side of a node: a GStreamer pipeline built from the source URI,
//   <source for the URI> ! identity name=sampler ! videoconvert ! videoscale
//     ! video/x-raw,format=I420[,width=W] ! jpegenc ! appsink
// run by a GLib main loop on a thread of its own, with its own main context.
//
// - A probe on the sampler keeps one frame per interval of stream time and drops the rest
//   before any conversion. The interval can be changed while running (live view).
// - The appsink's callback, on the streaming thread, only moves the JPEG into the bounded
//   FrameQueue; it never touches disk or network.
// - The bus is watched on the camera's main loop. An error, the end of a file, or no video
//   for stall_timeout_s (a camera that hangs without saying so) tear the pipeline down and
//   build it again after a jittered backoff, forever, with the reason logged and kept for
//   the node's heartbeat.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "capture/frame_queue.h"
#include "common/error.h"

namespace att {

struct SourceOptions {
  // rtsp://, rtsps://, http(s)://, file:// (or a plain path), v4l2:///dev/videoN,
  // videotestsrc://?pattern=ball&... (query keys are set as videotestsrc properties),
  // gst:<gst-launch text of a source> (anything GStreamer can do; the technician's own).
  std::string uri;
  bool realtime = true;  // sync to the clock, drop when the node is slow
  double sample_interval_s = 5.0;
  int width = 0;  // 0 = keep the source's size
  int jpeg_quality = 85;
};

// The gst-launch description the options turn into (for logs and tests).
Result<std::string> pipeline_description(const SourceOptions& options);

struct CameraOptions {
  SourceOptions source;
  double stall_timeout_s = 20;  // live sources only: no video this long means a hung camera
  double max_backoff_s = 30;    // rebuilds back off 0.5 s, 1 s, 2 s, ... up to this
  bool exit_on_eos = false;     // a file's end finishes the camera instead of restarting it
};

struct CameraStatus {
  bool playing = false;              // a pipeline is running
  bool finished = false;             // ended for good (exit_on_eos)
  std::int64_t last_frame_ms = 0;    // wall clock of the last frame queued; 0: none yet
  std::int64_t pipeline_starts = 0;  // pipelines built and set playing
  std::int64_t frames = 0;           // frames queued
  std::string last_error;            // why the last pipeline ended or failed; "" if none
  double interval_s = 0;             // the sampling interval now
};

class Camera {
 public:
  Camera(CameraOptions options, FrameQueue& queue);
  ~Camera();  // stop()
  Camera(const Camera&) = delete;
  Camera& operator=(const Camera&) = delete;

  // Starts the camera thread; fails only when GStreamer cannot be initialised. A pipeline
  // that cannot be built is reported and retried, like a camera that is unplugged.
  Status start();
  // Tears the pipeline down and joins the thread. Idempotent.
  void stop();

  // Takes effect from the next kept frame.
  void set_interval(double seconds);
  CameraStatus status() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace att
