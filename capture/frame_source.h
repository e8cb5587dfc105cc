// Where a capture node's frames come from: sampled, JPEG-encoded frames of one camera.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "common/error.h"

namespace att {

struct CapturedFrame {
  std::string jpeg;
  std::int64_t capture_time_ms = 0;  // ms since epoch UTC
  int width = 0, height = 0;
};

struct SourceStats {
  std::int64_t sampled = 0;  // frames that reached the end of the pipeline
  std::int64_t taken = 0;    // frames handed to the caller
  // sampled - taken: frames the caller never got, because it was busy (live sources drop
  // rather than stall the camera) or because the pipeline stopped with frames still queued.
  std::int64_t dropped = 0;
};

class FrameSource {
 public:
  enum class Event { kFrame, kTimeout, kEndOfStream, kError };
  struct Next {
    Event event = Event::kTimeout;
    CapturedFrame frame;  // for kFrame
    std::string message;  // for kError
  };

  virtual ~FrameSource() = default;
  // Waits up to `timeout` for the next sampled frame. After kEndOfStream or kError the
  // source is finished; build a new one to go on. Called from one thread.
  virtual Next next(std::chrono::milliseconds timeout) = 0;
  virtual SourceStats stats() const = 0;
};

}  // namespace att
