// The upload protocol between a capture node and the analysis service.
//
//   POST /api/v1/frames                 one sampled frame
//   Content-Type: image/jpeg            body: the JPEG
//   X-Health: {"brightness":...}        the node's health scores of this frame (JSON)
//
//   POST /api/v1/counts                 a node that counts (counting.mode: edge): its count
//   Content-Type: application/json      every report_interval_s; body: protocol/node_count.h
//
//   POST /api/v1/evidence               a node that counts: a picture with the count of
//   Content-Type: image/jpeg            that very frame, every evidence_interval_s and at
//   X-Count: {"count":21,...}           each roll call; body: the JPEG; X-Count: node_count.h
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
//                                       the signed extra is X-Health for frames, X-Count
//                                       for evidence, X-Spool-Dropped for heartbeats and
//                                       nothing for counts
//
// Answers (JSON): 201 stored, 200 duplicate of an already stored (site, sequence) with the
// same bytes, 4xx for a request that will never succeed (the node must not retry it),
// 5xx/503 for one that may succeed later (the node retries). Every success carries
// "interval_s", the sampling interval the service wants next (shorter while a technician
// watches the site live); a heartbeat's carries "dropped_recorded", the X-Spool-Dropped the
// service counted for that sequence (the same on a retry, so drops are counted once). Every
// success also carries "roll_calls_ms", the site's roll-call times in the coming hours (ms
// since epoch UTC), so that a node that counts sends an evidence picture at each, and while a
// technician watches the site live, "live_until_ms" (a node that counts then sends evidence
// pictures every interval_s).
#pragma once

#include <cstdint>
#include <string_view>

namespace att::wire {

inline constexpr char kFramesPath[] = "/api/v1/frames";
inline constexpr char kHealthPath[] = "/api/v1/health";
inline constexpr char kCountsPath[] = "/api/v1/counts";
inline constexpr char kEvidencePath[] = "/api/v1/evidence";
inline constexpr char kSiteHeader[] = "X-Site-Id";
inline constexpr char kSequenceHeader[] = "X-Sequence";
inline constexpr char kCaptureTimeHeader[] = "X-Capture-Time";
inline constexpr char kSignatureHeader[] = "X-Signature";
inline constexpr char kHealthHeader[] = "X-Health";
inline constexpr char kSpoolDroppedHeader[] = "X-Spool-Dropped";
inline constexpr char kCountHeader[] = "X-Count";
// On every answer to an upload: the service's clock, ms since epoch UTC. A node whose own
// clock is off stamps its frames with the service's time instead (capture/capture_node.h).
inline constexpr char kServerTimeHeader[] = "X-Server-Time";
// A node that counts sends a roll call's evidence picture from its first look at or after this
// long before the roll call's time (the service announces the times in its answers).
inline constexpr std::int64_t kRollCallLeadMs = 1000;
inline constexpr char kJpegContentType[] = "image/jpeg";
inline constexpr char kJsonContentType[] = "application/json";

// The header that carries an upload path's signed extra; null for a path that has none.
inline const char* extra_header(std::string_view path) {
  if (path == kFramesPath) return kHealthHeader;
  if (path == kEvidencePath) return kCountHeader;
  if (path == kHealthPath) return kSpoolDroppedHeader;
  return nullptr;
}

}  // namespace att::wire
