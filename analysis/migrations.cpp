#include "analysis/migrations.h"

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
};

}  // namespace

std::span<const Migration> builtin_migrations() {
  return kMigrations;
}

}  // namespace att
