#include "protocol/node_count.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <nlohmann/json.hpp>

#include "protocol/boxes.h"
#include "protocol/json_reader.h"

namespace att {
namespace {

using nlohmann::json;

constexpr int kMaxCount = 100000;
constexpr int kMaxSide = 16384;
constexpr size_t kMaxModels = 8;

bool is_sha256_hex(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c)) && (c < 'a' || c > 'f')) return false;
  }
  return true;
}

}  // namespace

void NodeCount::set_boxes(std::vector<Box> counted) {
  if (counted.size() > kMaxBoxesSent) {
    std::partial_sort(counted.begin(), counted.begin() + kMaxBoxesSent, counted.end(),
                      [](const Box& a, const Box& b) { return a.score > b.score; });
    counted.resize(kMaxBoxesSent);
  }
  for (Box& b : counted) {
    b.x = std::clamp(b.x, 0.f, static_cast<float>(width) - 1);
    b.y = std::clamp(b.y, 0.f, static_cast<float>(height) - 1);
    b.w = std::clamp(b.w, 1.f, static_cast<float>(width) - b.x);
    b.h = std::clamp(b.h, 1.f, static_cast<float>(height) - b.y);
    b.score = std::clamp(b.score, 0.f, 1.f);
  }
  boxes = std::move(counted);
}

std::string NodeCount::to_json() const {
  return json{{"count", count},
              {"frame_count", frame_count},
              {"boxes", boxes_to_json(boxes)},
              {"width", width},
              {"height", height},
              {"model", model},
              {"model_sha256", model_sha256},
              {"detector_ms", detector_ms},
              {"frames_counted", frames_counted},
              {"frames_skipped", frames_skipped},
              {"rate_hz", rate_hz},
              {"setup_version", setup_version},
              {"health", health ? json::parse(health->to_json()) : json(nullptr)}}
      .dump();
}

Result<NodeCount> parse_node_count(std::string_view text) {
  const json j = parse_shallow(text, kMaxNodeReportDepth);
  if (j.is_discarded()) {
    return fail("node count: not JSON, or nested more than " + std::to_string(kMaxNodeReportDepth) +
                " deep");
  }
  if (!j.is_object()) return fail("node count: must be a JSON object (got " + shown(j) + ")");
  NodeCount c;
  JsonReader r(j, "", "node count");
  r.whole("count", c.count, 0, kMaxCount);
  r.whole("frame_count", c.frame_count, 0, kMaxCount);
  r.whole("width", c.width, 1, kMaxSide);
  r.whole("height", c.height, 1, kMaxSide);
  if (const json* boxes = r.array("boxes", kMaxCountBoxes)) {
    for (size_t i = 0; i < boxes->size() && !r.error(); ++i) {
      const json& b = (*boxes)[i];
      bool ok = b.is_array() && b.size() == 5;
      for (size_t k = 0; ok && k < 5; ++k) ok = b[k].is_number();
      // Inside the frame (a pixel of slack for rounding), of positive size, score 0..1.
      if (ok) {
        const Box box{b[0].get<float>(), b[1].get<float>(), b[2].get<float>(), b[3].get<float>(),
                      b[4].get<float>()};
        ok = box.w > 0 && box.h > 0 && box.x >= -1 && box.y >= -1 && box.x + box.w <= c.width + 1 &&
             box.y + box.h <= c.height + 1 && box.score >= 0 && box.score <= 1;
        if (ok) c.boxes.push_back(box);
      }
      if (!ok) {
        r.note("boxes[" + std::to_string(i) +
               "] must be [x, y, w, h, score]: a box of positive size inside the " +
               std::to_string(c.width) + "x" + std::to_string(c.height) +
               " frame, score from 0 to 1 (got " + shown(b) + ")");
      }
    }
  }
  r.text("model", c.model, 64);
  if (!r.error() && c.model.empty()) r.note("model must not be empty");
  if (const json* models = r.array("model_sha256", kMaxModels)) {
    for (const json& m : *models) {
      if (!m.is_string() || !is_sha256_hex(m.get<std::string>())) {
        r.note(
            "model_sha256 must be an array of sha256 digests, 64 lowercase hex digits each "
            "(got " +
            shown(m) + ")");
        break;
      }
      c.model_sha256.push_back(m.get<std::string>());
    }
    if (!r.error() && c.model_sha256.empty()) r.note("model_sha256 must name the model's files");
  }
  r.number("detector_ms", c.detector_ms, 0, 3.6e6);
  r.whole("frames_counted", c.frames_counted);
  r.whole("frames_skipped", c.frames_skipped);
  r.number("rate_hz", c.rate_hz, 0, 1000);
  r.whole("setup_version", c.setup_version);
  if (r.error()) return std::unexpected(*r.error());
  if (r.present("health")) {
    if (!j.at("health").is_object()) {
      return fail("node count: health must be an object or null (got " + shown(j.at("health")) +
                  ")");
    }
    auto health = parse_health_scores(j.at("health").dump(), "node count");
    if (!health) return std::unexpected(health.error());
    c.health = *health;
  }
  return c;
}

}  // namespace att
