// The two hash chains as stored: the attendance ledger (roll calls, alerts, corrections) and
// the audit trail (views and exports of records). Entries are appended, never updated; each
// commits to the one before it (analysis/domain/ledger.h says how the hash is made, and checks
// a chain read through entries()). Part of Store (analysis/domain/store.h), whose contract
// holds: thread-safe, a write returns once it is durable.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"

namespace att {

// One entry of a hash chain.
struct LedgerEntry {
  std::int64_t seq = 0;    // 1, 2, 3, ... in append order; filled by append()
  std::string kind;        // ledger: roll_call, alert, correction, ...; audit: view, export, ...
  std::string site_id;     // "" when about no one site
  std::string subject;     // a stable key of what it is about: roll_call/td-01/2027-07-12/...
  std::int64_t at_ms = 0;  // when the recorded event happened, ms since epoch UTC
  std::int64_t recorded_at_ms = 0;  // when it was appended (0 = now, by the system clock)
  std::string actor;                // "system" or a user name
  std::string body;                 // JSON, hashed byte for byte (ledger.h canonical_body)
  std::string prev_hash;            // filled by append(): the previous entry's hash
  std::string hash;                 // filled by append()
};

enum class Chain {
  kLedger,  // table ledger
  kAudit,   // table audit_trail
};

// The prev_hash of a chain's first entry: 64 "0"s.
const std::string& genesis_hash();

// A chain's last entry as recorded apart from its rows (analysis/domain/ledger.h, the head
// anchor); seq 0 for an empty chain.
struct ChainHead {
  std::int64_t seq = 0;
  std::string hash = genesis_hash();
  bool operator==(const ChainHead&) const = default;
};
struct LedgerHead {
  ChainHead ledger, audit;
  ChainHead& of(Chain chain) { return chain == Chain::kLedger ? ledger : audit; }
  const ChainHead& of(Chain chain) const { return chain == Chain::kLedger ? ledger : audit; }
  bool operator==(const LedgerHead&) const = default;
};

// Which entries entries() returns; "" matches any.
struct LedgerQuery {
  std::string kind, site_id, subject;
  std::int64_t from_seq = 0;  // entries with seq >= from_seq
  int limit = 1000;           // at most this many, oldest first; <= 0: no limit
};

class LedgerStore {
 public:
  virtual ~LedgerStore() = default;

  // append() fills seq, prev_hash (the last entry's hash, or 64 zeros for the first) and hash,
  // atomically with respect to other appends, and returns the entry as stored. Refused: an
  // empty kind, subject or actor, or a body that is not JSON.
  virtual Result<LedgerEntry> append(Chain chain, LedgerEntry entry) = 0;
  // Entries matching `query`, in seq order, as stored (a tampered row is returned as it is, for
  // verification to find).
  virtual Result<std::vector<LedgerEntry>> entries(Chain chain, const LedgerQuery& query) = 0;
  // The chains' heads as recorded apart from the rows, for verify (read it before the rows):
  // none when nothing was recorded yet; an error when the record cannot be read.
  virtual Result<std::optional<LedgerHead>> recorded_head() = 0;
  // Where that record is, for verify's messages ("ledger.head beside attendance.db").
  virtual std::string head_name() const = 0;
};

}  // namespace att
