// The upload protocol between a capture node and the analysis service.
//
//   POST /api/v1/frames                 one sampled frame
//   Content-Type: image/jpeg            body: the JPEG
//   X-Health: {"brightness":...}        the node's health scores of this frame (JSON)
//
//   POST /api/v1/health                 a heartbeat, every 30 s, sent even when the camera
//   Content-Type: application/json      gives nothing; body: the node's report (JSON)
//   X-Spool-Dropped: 0                  items the node's full spool dropped, not yet reported
//
// Both carry:
//   X-Site-Id: td-01                    the site, as in config/sites.csv
//   X-Sequence: 812                     per-node counter, never reused (persisted); frames and
//                                       heartbeats share it, and the node sends in its order
//   X-Capture-Time: 1783830000000       when sampled or reported, ms since epoch UTC
//   X-Signature: <hex>                  HMAC-SHA256 under the site's secret (protocol/signing.h);
//                                       the signed extra is X-Health for frames and
//                                       X-Spool-Dropped for heartbeats
//
// Answers (JSON): 201 stored, 200 duplicate of an already stored (site, sequence) with the
// same bytes, 4xx for a request that will never succeed (the node must not retry it),
// 5xx/503 for one that may succeed later (the node retries). Every success carries
// "interval_s", the sampling interval the service wants next (shorter while a technician
// watches the site live); a heartbeat's carries "dropped_recorded", the X-Spool-Dropped the
// service counted for that sequence (the same on a retry, so drops are counted once).
#pragma once

namespace att::wire {

inline constexpr char kFramesPath[] = "/api/v1/frames";
inline constexpr char kHealthPath[] = "/api/v1/health";
inline constexpr char kSiteHeader[] = "X-Site-Id";
inline constexpr char kSequenceHeader[] = "X-Sequence";
inline constexpr char kCaptureTimeHeader[] = "X-Capture-Time";
inline constexpr char kSignatureHeader[] = "X-Signature";
inline constexpr char kHealthHeader[] = "X-Health";
inline constexpr char kSpoolDroppedHeader[] = "X-Spool-Dropped";
// On every answer to an upload: the service's clock, ms since epoch UTC. A node whose own
// clock is off stamps its frames with the service's time instead (capture/capture_node.h).
inline constexpr char kServerTimeHeader[] = "X-Server-Time";
inline constexpr char kJpegContentType[] = "image/jpeg";
inline constexpr char kJsonContentType[] = "application/json";

}  // namespace att::wire
