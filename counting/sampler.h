// Which frames of a stream are looked at: the first frame at or after each multiple of the
// interval, in the stream's own time, and none of the others. The camera pipeline of a node
// (capture/camera.cpp) and attendance-eval --video both sample through it, so that a clip
// is counted at the same frames by both.
//
// Unlike a frame-rate filter it works with variable-frame-rate sources and never repeats a
// frame when the stream stalls: after a gap the clock starts again from the next frame. A
// frame up to kSlackUs early counts as on time, so that the timestamps of a network camera
// (RTP, re-timed by the receiver) pick the same frames as the file they come from. Not
// thread-safe: one stream, one caller.
#pragma once

#include <cstdint>
#include <optional>

namespace att {

class SampleClock {
 public:
  static constexpr std::int64_t kSlackUs = 5000;

  // Whether the frame at stream time `t_us` is kept, sampling every `step_us` (> 0), both in
  // microseconds. The step may change from one call to the next (the service asks for
  // another interval): a shorter one takes effect at once, a longer one from the next kept
  // frame.
  bool keep(std::int64_t t_us, std::int64_t step_us);

  // Forgets the stream (a new pipeline, a file played again): the next frame is kept.
  void reset() { next_.reset(); }

 private:
  std::optional<std::int64_t> next_;  // the time the next kept frame is due
};

}  // namespace att
