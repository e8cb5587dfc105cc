// What storing an upload that is idempotent by (site, sequence) did: the observation and
// heartbeat stores answer with it, so that a node's retry is told apart from a reused sequence.
#pragma once

namespace att {

enum class InsertOutcome {
  kInserted,
  kDuplicate,  // same (site, sequence) already stored with the same bytes: a retry
  kConflict,   // same (site, sequence) already stored with different bytes
};

}  // namespace att
