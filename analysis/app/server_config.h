// Settings of the central service (config/server.yaml), with the province it serves.
// Relative paths in the file are taken relative to the file's own directory.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "analysis/domain/attendance.h"
#include "analysis/domain/audit.h"
#include "analysis/domain/province.h"
#include "analysis/domain/site_keys.h"
#include "analysis/ingest/ingest.h"
#include "analysis/web/auth.h"
#include "analysis/web/live.h"
#include "common/error.h"
#include "counting/detector.h"
#include "counting/occupancy.h"

namespace att {

// The database and the received frames (server.yaml "storage:").
struct StorageConfig {
  // sqlite: data_dir/attendance.db, for a province on one machine (one service process).
  // postgres: the PostgreSQL database `postgres` names, which several service processes may
  // share (docs/deployment.md); the pictures stay under data_dir, which they then share.
  std::string backend = "sqlite";
  // libpq's connection string (keyword=value or postgresql://...). A password belongs in
  // PGPASSFILE or ~/.pgpass, not here.
  std::string postgres;
  // Received pictures older than this (by capture time) are deleted; the observation rows
  // (counts, boxes, hashes) and the roll calls' evidence are kept for good. 0 = keep all.
  double frame_days = 30;
  // Node reports older than this are deleted, except those that reported drops. 0 = keep.
  double heartbeat_days = 90;
  double retention_check_s = 3600;  // how often retention runs
  int write_batch = 256;            // writes in one transaction at most (group commit)
  int readers = 4;                  // database connections for reads (the API's), per process
};

struct ServerConfig {
  std::string listen_host = "127.0.0.1";
  int listen_port = 8080;  // 0 = any free port (tests)
  int http_threads = 8;
  // How long a kept-alive connection may wait idle for its next request (and a new one for
  // its first). Each waiting connection holds an HTTP thread, so nodes ask for their
  // connection to be closed after an answer unless a backlog follows (NodeUpload::more);
  // a browser's stays open this long.
  int keep_alive_s = 1;
  // A request must arrive whole (line, headers, body) within this of its first byte, and a
  // TLS handshake too; a client slower than that is cut off.
  int request_timeout_s = 30;
  // Addresses of the reverse proxies in front (nginx): only requests from these may say who
  // the client is (X-Forwarded-For) and whether it came over HTTPS (X-Forwarded-Proto).
  std::vector<std::string> trusted_proxies;
  // HTTPS when both are set (PEM files); otherwise plain HTTP, e.g. behind a TLS proxy.
  std::filesystem::path tls_cert, tls_key;
  std::filesystem::path data_dir = "data";  // database and frames
  std::filesystem::path dashboard_dir;      // static files; default: dashboard/ in the source tree
  std::string province_name;
  std::filesystem::path sites_csv;
  std::filesystem::path schedule_yaml;
  DetectorConfig detector;
  OccupancyConfig counting;               // the occupancy window (server.yaml "counting:")
  std::filesystem::path zones_yaml;       // per-site zones and empty-room references; optional
  std::int64_t max_body_bytes = 4 << 20;  // a 1080p JPEG is ~0.3-1 MiB
  std::int64_t max_image_pixels = 3840LL * 2160;  // decompression-bomb guard
  int queue_capacity = 0;                         // frames in hand before 503; 0 = 4 per detector
  int queue_per_site = 2;                         // of those, one site's at most
  std::int64_t max_future_s = 300;                // capture times ahead of the clock refused beyond
  std::int64_t max_age_s = 30 * 86400;            // capture times behind the clock refused beyond
  StorageConfig storage;
  AttendanceConfig attendance;  // roll calls and alerts (server.yaml "attendance:")
  AuditConfig audit;            // the audit of nodes' counts (server.yaml "audit:")
  NodesConfig nodes;
  LiveOptions live;  // live outputs: SSE and MJPEG clients, event history and queues
  AuthConfig auth;   // dashboard sessions and login throttling (server.yaml "auth:")
  std::string log_level = "info";
  std::string log_format = "text";  // text, or json: one JSON object per line (common/log.h)

  // Loaded from sites_csv and schedule_yaml.
  std::vector<Site> sites;
  Schedule schedule;
  // Loaded from zones_yaml: site id -> zones, and site id -> empty-room picture.
  std::map<std::string, SiteZones> zones;
  std::map<std::string, std::filesystem::path> empty_references;
  // Loaded from nodes.site_keys when the file exists (a missing file is reported at start:
  // every upload is refused until `attendance-server keys` creates it).
  SiteKeys site_keys;
};

// Parses a zones file (config/zones.yaml documents the format) against the known site ids.
Status parse_zones(const std::filesystem::path& path, const std::vector<Site>& sites,
                   std::map<std::string, SiteZones>& zones,
                   std::map<std::string, std::filesystem::path>& references);

// Reads the YAML, the sites CSV and the schedule it names, and checks all of them; every
// problem found is in the one error message, one per line.
Result<ServerConfig> load_server_config(const std::filesystem::path& path);

}  // namespace att
