#include "analysis/store/migrations.h"

namespace att {
namespace {

constexpr Migration kMigrations[] = {
    {1, "sites and observations", R"sql(
CREATE TABLE sites (
  id                 TEXT PRIMARY KEY,
  name               TEXT NOT NULL,
  district           TEXT NOT NULL,
  school_level       TEXT NOT NULL,
  address            TEXT NOT NULL,
  expected_attendees INTEGER NOT NULL,
  camera             TEXT NOT NULL
);
CREATE TABLE observations (
  id             INTEGER PRIMARY KEY,
  site_id        TEXT NOT NULL REFERENCES sites(id),
  sequence       INTEGER NOT NULL,
  captured_at_ms INTEGER NOT NULL,
  received_at_ms INTEGER NOT NULL,
  count          INTEGER NOT NULL,
  boxes          TEXT NOT NULL,      -- JSON [[x, y, w, h, score], ...] in frame pixels
  detector       TEXT NOT NULL,
  width          INTEGER NOT NULL,
  height         INTEGER NOT NULL,
  frame_path     TEXT NOT NULL,      -- relative to the data directory
  frame_sha256   TEXT NOT NULL,
  UNIQUE (site_id, sequence)
);
CREATE INDEX observations_by_site_time ON observations(site_id, captured_at_ms);
)sql"},
    {2, "windowed count beside the per-frame count", R"sql(
-- count is now the occupancy window's count (the reported one); frame_count is what this
-- frame alone showed. Rows from before keep their per-frame count in both.
ALTER TABLE observations ADD COLUMN frame_count INTEGER NOT NULL DEFAULT 0;
UPDATE observations SET frame_count = count;
)sql"},
    {3, "camera health from the capture nodes", R"sql(
-- The node's health scores of each frame (JSON, '' for frames from before), and its
-- heartbeats: a report every 30 s, sent even when the camera gives nothing.
ALTER TABLE observations ADD COLUMN health TEXT NOT NULL DEFAULT '';
CREATE TABLE heartbeats (
  id             INTEGER PRIMARY KEY,
  site_id        TEXT NOT NULL REFERENCES sites(id),
  sequence       INTEGER NOT NULL,   -- shares the node's counter with its frames
  captured_at_ms INTEGER NOT NULL,   -- when the node wrote the report
  received_at_ms INTEGER NOT NULL,
  report         TEXT NOT NULL,      -- the node's JSON, as sent
  spool_dropped  INTEGER NOT NULL,   -- items the node's full spool dropped, reported here
  UNIQUE (site_id, sequence)
);
CREATE INDEX heartbeats_by_site_time ON heartbeats(site_id, captured_at_ms);
)sql"},
    {4, "retention by capture time", R"sql(
-- Retention finds the oldest observations that still have a picture, and old heartbeats.
CREATE INDEX observations_with_frame_by_time ON observations(captured_at_ms)
  WHERE frame_path != '';
CREATE INDEX heartbeats_by_time ON heartbeats(captured_at_ms);
)sql"},
    {5, "attendance ledger and audit trail", R"sql(
-- Two hash chains (analysis/domain/ledger.h): the ledger of what happened (roll calls, alerts,
-- corrections) and the audit trail of who viewed or exported records. Rows are appended,
-- never updated: each commits to the one before it through prev_hash, so an edit, a
-- deletion or a reorder made behind the triggers is found by `attendance-server verify`.
CREATE TABLE ledger (
  seq            INTEGER PRIMARY KEY,  -- 1, 2, 3, ... in append order; not hashed
  kind           TEXT NOT NULL,        -- roll_call, alert, correction, ...
  site_id        TEXT NOT NULL DEFAULT '',
  subject        TEXT NOT NULL,        -- stable key, e.g. roll_call/td-01/2027-07-12/morning/0745
  at_ms          INTEGER NOT NULL,     -- when the recorded event happened
  recorded_at_ms INTEGER NOT NULL,     -- when it was appended
  actor          TEXT NOT NULL,        -- "system" or a user name
  body           TEXT NOT NULL,        -- JSON, hashed as stored
  prev_hash      TEXT NOT NULL,        -- the previous entry's hash; 64 zeros for the first
  hash           TEXT NOT NULL         -- sha256 of the entry (analysis/domain/ledger.h)
);
CREATE INDEX ledger_by_kind_site_time ON ledger(kind, site_id, at_ms);
CREATE INDEX ledger_by_subject ON ledger(subject);
CREATE TABLE audit_trail (
  seq            INTEGER PRIMARY KEY,
  kind           TEXT NOT NULL,        -- view, export, ...
  site_id        TEXT NOT NULL DEFAULT '',
  subject        TEXT NOT NULL,        -- what was viewed or exported
  at_ms          INTEGER NOT NULL,
  recorded_at_ms INTEGER NOT NULL,
  actor          TEXT NOT NULL,        -- the user
  body           TEXT NOT NULL,
  prev_hash      TEXT NOT NULL,
  hash           TEXT NOT NULL
);
CREATE INDEX audit_trail_by_kind_site_time ON audit_trail(kind, site_id, at_ms);
CREATE INDEX audit_trail_by_subject ON audit_trail(subject);
-- A casual edit fails here. INSERT OR REPLACE of an existing seq would delete the old row
-- without firing the DELETE trigger (recursive_triggers is off), hence the INSERT trigger.
-- A deliberate edit (dropping the triggers) is what verify catches.
CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
  BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
  BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER ledger_no_replace BEFORE INSERT ON ledger
  WHEN EXISTS (SELECT 1 FROM ledger WHERE seq = NEW.seq)
  BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER audit_trail_no_update BEFORE UPDATE ON audit_trail
  BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER audit_trail_no_delete BEFORE DELETE ON audit_trail
  BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER audit_trail_no_replace BEFORE INSERT ON audit_trail
  WHEN EXISTS (SELECT 1 FROM audit_trail WHERE seq = NEW.seq)
  BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
)sql"},
    {6, "dashboard users and sessions", R"sql(
-- Who may log in (analysis/web/auth.h) and the browsers logged in. A password is kept only as a
-- salted scrypt hash, a session only as the SHA-256 of its token.
CREATE TABLE users (
  name          TEXT PRIMARY KEY,   -- 1-64 of [a-z0-9._-]
  role          TEXT NOT NULL CHECK (role IN ('organizer', 'auditor', 'technician', 'admin')),
  password_hash TEXT NOT NULL,      -- scrypt$<log2 N>$<r>$<p>$<salt b64>$<hash b64>
  created_ms    INTEGER NOT NULL,
  disabled      INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE sessions (
  token_sha256  TEXT PRIMARY KEY,   -- of the cookie's token, which is not stored
  user          TEXT NOT NULL REFERENCES users(name),
  csrf_token    TEXT NOT NULL,
  created_ms    INTEGER NOT NULL,
  expires_ms    INTEGER NOT NULL,   -- the absolute end
  last_seen_ms  INTEGER NOT NULL    -- for the idle timeout
);
CREATE INDEX sessions_by_user ON sessions(user);
)sql"},
    {7, "counts from the sites' nodes", R"sql(
-- Who counted: 'service' (it detected on the picture it was sent) or 'node' (the site's node
-- counted; frame_path, when there is one, is the node's evidence picture of that count).
ALTER TABLE observations ADD COLUMN counted_by TEXT NOT NULL DEFAULT 'service'
  CHECK (counted_by IN ('service', 'node'));
)sql"},
    {8, "the audit of nodes' evidence pictures", R"sql(
-- The service's own count of a node's evidence picture, with the site's zones, to set against
-- the node's count of it (frame_count); NULL until it is audited.
ALTER TABLE observations ADD COLUMN audit_count INTEGER;
)sql"},
    {9, "sites' counting setups", R"sql(
-- Each site's counting setup (zones, empty-room reference, detector options) as sent to its
-- node, numbered 1, 2, ... per site; a new row for each change, none ever rewritten.
CREATE TABLE site_setups (
  site_id     TEXT NOT NULL REFERENCES sites(id),
  version     INTEGER NOT NULL,
  body        TEXT NOT NULL,      -- protocol/site_setup.h, canonical JSON
  created_ms  INTEGER NOT NULL,
  PRIMARY KEY (site_id, version)
);
)sql"},
    {10, "who made each site setup", R"sql(
-- 'config' for a setup from config/zones.yaml, else the user who saved it from the dashboard.
ALTER TABLE site_setups ADD COLUMN made_by TEXT NOT NULL DEFAULT 'config';
)sql"},
};

}  // namespace

std::span<const Migration> builtin_migrations() {
  return kMigrations;
}

}  // namespace att
