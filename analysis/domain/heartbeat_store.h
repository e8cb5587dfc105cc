// The capture nodes' periodic reports, the spool drops they carry, and their retention. Part
// of Store (analysis/domain/store.h), whose contract holds: thread-safe, a write returns once
// it is durable (the caller may acknowledge it).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "analysis/domain/insert_outcome.h"
#include "common/error.h"

namespace att {

// A capture node's periodic report: camera state, health, spool, counters (JSON as sent).
struct Heartbeat {
  std::string site_id;
  std::int64_t sequence = 0;        // the node's counter, shared with its frames
  std::int64_t captured_at_ms = 0;  // when the node wrote it
  std::int64_t received_at_ms = 0;
  std::string report;
  std::int64_t spool_dropped = 0;  // drops the node reported with this heartbeat
};

struct HeartbeatInsert {
  InsertOutcome outcome = InsertOutcome::kInserted;
  std::int64_t spool_dropped = 0;  // as stored: the first upload's, for a retry too
};

class HeartbeatStore {
 public:
  virtual ~HeartbeatStore() = default;

  virtual Result<HeartbeatInsert> insert_heartbeat(const Heartbeat& heartbeat) = 0;
  virtual Result<std::optional<Heartbeat>> find_heartbeat(const std::string& site_id,
                                                          std::int64_t sequence) = 0;
  // The latest heartbeat (by capture time) of every site that has sent one.
  virtual Result<std::vector<Heartbeat>> latest_heartbeat_per_site() = 0;
  virtual Result<std::int64_t> heartbeat_count(const std::string& site_id) = 0;
  // All spool drops a site's node has reported.
  virtual Result<std::int64_t> spool_dropped_total(const std::string& site_id) = 0;

  // Retention. Heartbeats captured before `before_ms` are deleted, except those that reported
  // spool drops: they are the record of what was lost. Returns how many were deleted.
  virtual Result<std::int64_t> expire_heartbeats(std::int64_t before_ms) = 0;
};

}  // namespace att
