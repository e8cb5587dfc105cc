// The upload protocol between a capture node and the analysis service.
//
//   POST /api/v1/frames
//   Content-Type: image/jpeg            body: one JPEG frame
//   X-Site-Id: td-01                    the site, as in config/sites.csv
//   X-Sequence: 812                     per-node counter, never reused (persisted)
//   X-Capture-Time: 1783830000000       when the frame was sampled, ms since epoch UTC
//
// Answers (JSON): 201 stored, 200 duplicate of an already stored (site, sequence) with the
// same bytes, 4xx for a request that will never succeed (the node must not retry it),
// 5xx/503 for one that may succeed later (the node retries).
#pragma once

namespace att::wire {

inline constexpr char kFramesPath[] = "/api/v1/frames";
inline constexpr char kSiteHeader[] = "X-Site-Id";
inline constexpr char kSequenceHeader[] = "X-Sequence";
inline constexpr char kCaptureTimeHeader[] = "X-Capture-Time";
inline constexpr char kJpegContentType[] = "image/jpeg";

}  // namespace att::wire
