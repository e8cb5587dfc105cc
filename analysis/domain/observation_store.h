// The analysed frames of every site, and their pictures' retention. Part of Store
// (analysis/domain/store.h), whose contract holds: thread-safe, a write returns once it is
// durable (the caller may acknowledge it).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "analysis/domain/insert_outcome.h"
#include "common/box.h"
#include "common/error.h"

namespace att {

// Who counted an observation.
enum class CountedBy {
  kService,  // the service detected on the picture the node sent
  kNode,     // the site's node counted (counting.mode: edge); a picture is its evidence
};

// One counted moment of one site: an analysed frame, or a node's count (with or without its
// evidence picture).
struct Observation {
  std::string site_id;
  std::int64_t sequence = 0;        // the node's counter; (site_id, sequence) is unique
  std::int64_t captured_at_ms = 0;  // at the node, ms since epoch UTC
  std::int64_t received_at_ms = 0;  // at the service
  int count = 0;        // the reported count: occupied places in the window at this frame
  int frame_count = 0;  // people counted in this frame alone (after zones and filters)
  std::vector<Box> boxes;
  std::string detector;
  int width = 0, height = 0;
  // The received JPEG, relative to the data directory; "" for a node's count without a
  // picture, and once retention has deleted the picture.
  std::string frame_path;
  std::string frame_sha256;  // of the received body: tells a retry from a reused sequence
  std::string health;        // the node's health scores of this frame (JSON); "" if none
  CountedBy counted_by = CountedBy::kService;
  // The service's own count of a node's evidence picture (analysis/domain/audit.h), with the
  // site's zones, to set against frame_count; none until it is audited.
  std::optional<int> audit_count;
};

class ObservationStore {
 public:
  virtual ~ObservationStore() = default;

  virtual Result<InsertOutcome> insert_observation(const Observation& obs) = 0;
  virtual Result<std::optional<Observation>> find_observation(const std::string& site_id,
                                                              std::int64_t sequence) = 0;
  // The observation with the latest capture time.
  virtual Result<std::optional<Observation>> latest_observation(const std::string& site_id) = 0;
  // A site's observations captured at or after `from_ms`, oldest first, at most `limit`
  // (the newest ones when there are more).
  virtual Result<std::vector<Observation>> observations_since(const std::string& site_id,
                                                              std::int64_t from_ms, int limit) = 0;
  // A site's observations captured in [from_ms, to_ms), oldest first, at most `limit` (the
  // oldest ones when there are more).
  virtual Result<std::vector<Observation>> observations_between(const std::string& site_id,
                                                                std::int64_t from_ms,
                                                                std::int64_t to_ms, int limit) = 0;
  // The latest observation of every site that has one.
  virtual Result<std::vector<Observation>> latest_per_site() = 0;
  virtual Result<std::int64_t> observation_count(const std::string& site_id) = 0;
  // Records the audit's count of an observation's picture (Observation::audit_count). An
  // unknown observation is an error.
  virtual Status record_audit(const std::string& site_id, std::int64_t sequence,
                              int audit_count) = 0;

  // Retention. Observations captured before `before_ms` lose their picture: the row keeps
  // the counts and boxes, its frame_path becomes "". Returns the cleared paths (at most
  // `limit`, oldest first) for the caller to delete; call again until it returns none.
  virtual Result<std::vector<std::string>> expire_frames(std::int64_t before_ms, int limit) = 0;
};

}  // namespace att
