#include "counting/sampler.h"

namespace att {

bool SampleClock::keep(std::int64_t t_us, std::int64_t step_us) {
  const std::int64_t t = t_us + kSlackUs;  // a frame this early is on time
  // Not yet due, and due no more than one step ahead (a longer gap: the step got shorter).
  if (next_ && t < *next_ && *next_ - t <= step_us) return false;
  // Due within this step: the next slot follows on, so frames keep to the multiples; the
  // first frame, one after a gap or after the clock went back: a step from this frame.
  next_ = (next_ && t >= *next_ && t < *next_ + step_us) ? *next_ + step_us : t_us + step_us;
  return true;
}

}  // namespace att
