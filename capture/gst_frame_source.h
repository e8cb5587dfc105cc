// FrameSource on a GStreamer pipeline:
//   <source for the URI> ! identity name=sampler ! videoconvert ! videoscale
//     ! video/x-raw,format=I420[,width=W] ! jpegenc ! appsink
// A probe on the sampler keeps one frame per interval of stream time and drops the others
// before any conversion. The streaming thread only hands buffers to the bounded appsink
// (2 buffers); the caller's thread pulls them and reads the bus, so nothing slow ever runs
// on a streaming thread.
#pragma once

#include <memory>
#include <string>

#include "capture/frame_source.h"

namespace att {

struct SourceOptions {
  // rtsp://, rtsps://, http(s)://, file:// (or a plain path), v4l2:///dev/videoN,
  // videotestsrc://?pattern=ball&... (query keys are set as videotestsrc properties)
  std::string uri;
  bool realtime = true;  // sync to the clock, drop when the caller is slow
  double sample_interval_s = 5.0;
  int width = 0;  // 0 = keep the source's size
  int jpeg_quality = 85;
};

// The gst-launch description the options turn into (for logs and tests).
Result<std::string> pipeline_description(const SourceOptions& options);

// Builds the pipeline and sets it playing. Fails with GStreamer's message when the
// description cannot be built (unknown scheme, missing plugin, bad property).
Result<std::unique_ptr<FrameSource>> open_gst_source(const SourceOptions& options);

}  // namespace att
