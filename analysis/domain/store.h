// The service's durable state, behind an interface so that a PostgreSQL backend can be
// added without touching callers. Implementations are thread-safe, and a write returns only
// once it is durable: the caller may acknowledge it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "analysis/domain/province.h"
#include "common/error.h"
#include "counting/box.h"

namespace att {

// One analysed frame of one site.
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
  std::string frame_path;    // the received JPEG, relative to the data directory
  std::string frame_sha256;  // of the received bytes: tells a retry from a reused sequence
  std::string health;        // the node's health scores of this frame (JSON); "" if none
};

// A capture node's periodic report: camera state, health, spool, counters (JSON as sent).
struct Heartbeat {
  std::string site_id;
  std::int64_t sequence = 0;        // the node's counter, shared with its frames
  std::int64_t captured_at_ms = 0;  // when the node wrote it
  std::int64_t received_at_ms = 0;
  std::string report;
  std::int64_t spool_dropped = 0;  // drops the node reported with this heartbeat
};

enum class InsertOutcome {
  kInserted,
  kDuplicate,  // same (site, sequence) already stored with the same bytes: a retry
  kConflict,   // same (site, sequence) already stored with different bytes
};

struct HeartbeatInsert {
  InsertOutcome outcome = InsertOutcome::kInserted;
  std::int64_t spool_dropped = 0;  // as stored: the first upload's, for a retry too
};

// How the store's writes are going (for /metrics).
struct WriteStats {
  std::int64_t queued = 0;           // writes waiting now
  std::int64_t capacity = 0;         // the write queue's bound
  std::int64_t writes = 0;           // committed
  std::int64_t failed = 0;           // rolled back (their callers got the error)
  std::int64_t transactions = 0;     // committed
  std::int64_t largest_batch = 0;    // writes in the largest transaction
  std::int64_t waited_for_room = 0;  // writes that found the queue full and waited
  double commit_seconds = 0;         // total time spent committing (the disk flushes)
};

// One entry of a hash chain: the attendance ledger (roll calls, alerts, corrections) or the
// audit trail (views and exports of records). Entries are appended, never updated; each
// commits to the one before it (analysis/domain/ledger.h says how the hash is made).
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

// A person who logs in to the dashboard (analysis/web/auth.h says how).
struct User {
  std::string name;           // 1-64 of [a-z0-9._-]; unique
  std::string role;           // organizer, auditor, technician or admin
  std::string password_hash;  // self-describing slow hash (auth.h), never the password
  std::int64_t created_ms = 0;
  bool disabled = false;  // no login, no session
};

// A logged-in browser. Only the SHA-256 of its token is stored, so a copy of the database
// lets no one in.
struct Session {
  std::string token_sha256;  // hex
  std::string user;
  std::string csrf_token;         // sent back in X-CSRF-Token with every change
  std::int64_t created_ms = 0;    // at login
  std::int64_t expires_ms = 0;    // the absolute end, whatever the activity
  std::int64_t last_seen_ms = 0;  // kept to within a minute or so (idle timeout)
};

// Which entries entries() returns; "" matches any.
struct LedgerQuery {
  std::string kind, site_id, subject;
  std::int64_t from_seq = 0;  // entries with seq >= from_seq
  int limit = 1000;           // at most this many, oldest first; <= 0: no limit
};

class Store {
 public:
  virtual ~Store() = default;

  // Makes the stored site list match the configured one (insert or update by id).
  virtual Status sync_sites(const std::vector<Site>& sites) = 0;

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

  virtual Result<HeartbeatInsert> insert_heartbeat(const Heartbeat& heartbeat) = 0;
  // The latest heartbeat (by capture time) of every site that has sent one.
  virtual Result<std::vector<Heartbeat>> latest_heartbeat_per_site() = 0;
  virtual Result<std::int64_t> heartbeat_count(const std::string& site_id) = 0;
  // All spool drops a site's node has reported.
  virtual Result<std::int64_t> spool_dropped_total(const std::string& site_id) = 0;

  // Retention. Observations captured before `before_ms` lose their picture: the row keeps
  // the counts and boxes, its frame_path becomes "". Returns the cleared paths (at most
  // `limit`, oldest first) for the caller to delete; call again until it returns none.
  virtual Result<std::vector<std::string>> expire_frames(std::int64_t before_ms, int limit) = 0;
  // Heartbeats captured before `before_ms` are deleted, except those that reported spool
  // drops: they are the record of what was lost. Returns how many were deleted.
  virtual Result<std::int64_t> expire_heartbeats(std::int64_t before_ms) = 0;

  // The ledgers. append() fills seq, prev_hash (the last entry's hash, or 64 zeros for the
  // first) and hash, atomically with respect to other appends, and returns the entry as
  // stored. Refused: an empty kind, subject or actor, or a body that is not JSON.
  virtual Result<LedgerEntry> append(Chain chain, LedgerEntry entry) = 0;
  // Entries matching `query`, in seq order.
  virtual Result<std::vector<LedgerEntry>> entries(Chain chain, const LedgerQuery& query) = 0;

  // Users and sessions of the dashboard (analysis/web/auth.h checks names, roles and passwords).
  // Refused: a name that exists.
  virtual Status add_user(const User& user) = 0;
  // Replaces the role, password hash and disabled flag of the user of that name, and ends
  // all its sessions (it logs in again under the new terms). Refused: no such user.
  virtual Status update_user(const User& user) = 0;
  virtual Result<std::optional<User>> find_user(const std::string& name) = 0;
  virtual Result<std::vector<User>> users() = 0;  // by name
  // Refused: an unknown or disabled user.
  virtual Status add_session(const Session& session) = 0;
  virtual Result<std::optional<Session>> find_session(const std::string& token_sha256) = 0;
  virtual Status touch_session(const std::string& token_sha256, std::int64_t last_seen_ms) = 0;
  virtual Status delete_session(const std::string& token_sha256) = 0;
  // Deletes the sessions that ended by `now_ms`: expires_ms reached, or last seen at or
  // before `idle_before_ms`. Returns how many.
  virtual Result<std::int64_t> delete_ended_sessions(std::int64_t now_ms,
                                                     std::int64_t idle_before_ms) = 0;

  virtual WriteStats write_stats() const = 0;
};

}  // namespace att
