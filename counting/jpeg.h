// JPEG handling for frames that arrive from outside: checked before OpenCV sees them.
#pragma once

#include <cstdint>
#include <opencv2/core.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/box.h"
#include "common/error.h"

namespace att {

struct JpegSize {
  int width = 0;
  int height = 0;
};

// Scans a JPEG may have: a baseline picture has one, a progressive one from a camera or a
// photo tool about 10. Each scan is a pass over the whole picture for the decoder, so this
// and the pixel limit bound what one upload can cost to decode.
inline constexpr int kMaxJpegScans = 16;

// Reads the frame size from the JPEG headers without decoding, walking every segment and
// scan to the end. Fails, with the reason, on bytes that are not a complete JPEG: no SOI
// marker, no frame header before the first scan, no scan, a segment running past the end, or
// no EOI marker at the end (a truncated upload); and (kTooLarge) on more than kMaxJpegScans
// scans.
Result<JpegSize> probe_jpeg(std::span<const unsigned char> bytes);

// Probes, refuses frames over `max_pixels` (a decompression bomb costs memory before any
// check could run), then decodes to BGR.
Result<cv::Mat> decode_jpeg(std::span<const unsigned char> bytes, std::int64_t max_pixels);

std::vector<unsigned char> encode_jpeg(const cv::Mat& bgr, int quality = 85);

// Draws the boxes onto a copy of the frame.
cv::Mat draw_boxes(const cv::Mat& bgr, const std::vector<Box>& boxes);
// Draws the boxes and a label (ASCII; default: the number of boxes) onto a copy of the frame:
// for the developer's tools (attendance-eval --save-annotated), never for a user's picture.
cv::Mat annotate(const cv::Mat& bgr, const std::vector<Box>& boxes, std::string label = {});

// A counted frame as the service shows it and keeps it as evidence: the JPEG decoded, the
// frame's boxes drawn, and encoded again at quality 85. No words: the count and what it means
// are the page's to say, in its language. Fails on bytes that do not decode.
Result<std::string> draw_counted_frame(std::string_view jpeg, const std::vector<Box>& boxes);

}  // namespace att
