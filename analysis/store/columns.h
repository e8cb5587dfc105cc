// Column lists read by both stores (sqlite_store.cpp, pg_store.cpp): the same tables in both,
// the columns in the order their readers take them.
#pragma once

namespace att::columns {

inline constexpr char kObservation[] =
    "site_id, sequence, captured_at_ms, received_at_ms, count, boxes, detector, width, height, "
    "frame_path, frame_sha256, frame_count, health, counted_by, audit_count";

inline constexpr char kLedgerEntry[] =
    "seq, kind, site_id, subject, at_ms, recorded_at_ms, actor, body, prev_hash, hash";

inline constexpr char kUser[] = "name, role, password_hash, created_ms, disabled";

// "user" is quoted: a reserved word in PostgreSQL (SQLite takes the quotes too).
inline constexpr char kSession[] =
    "token_sha256, \"user\", csrf_token, created_ms, expires_ms, last_seen_ms";

}  // namespace att::columns
