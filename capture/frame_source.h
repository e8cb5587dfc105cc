// A sampled, JPEG-encoded frame of one camera, as the camera pipeline hands it over.
#pragma once

#include <cstdint>
#include <string>

namespace att {

struct CapturedFrame {
  std::string jpeg;
  std::int64_t capture_time_ms = 0;  // ms since epoch UTC
  int width = 0, height = 0;
};

}  // namespace att
