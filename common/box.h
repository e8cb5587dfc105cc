// A detection in frame pixels: top-left corner, size and the detector's score (0..1).
#pragma once

namespace att {

struct Box {
  float x = 0, y = 0, w = 0, h = 0;
  float score = 0;
  bool operator==(const Box&) const = default;
};

}  // namespace att
