// The central service assembled from its config: store, detectors, ingest and HTTP API.
// main() and the integration tests build it the same way.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>

#include "analysis/app/server_config.h"
#include "analysis/domain/store.h"
#include "common/error.h"
#include "common/time_util.h"
#include "counting/detector.h"
#include "counting/occupancy.h"

namespace att {

// The service's database with storage.backend sqlite: attendance.db in the data directory
// (ledger.head beside it).
std::filesystem::path database_path(const ServerConfig& config);

// The store server.yaml names (storage.backend), opened and migrated: SQLite's file in the data
// directory (created with the directory), or the PostgreSQL database. `read_only`: SQLite's
// file is read as it is (a missing one is an error); PostgreSQL's is opened as for writing,
// since the service processes keep it migrated.
Result<std::unique_ptr<Store>> open_store(const ServerConfig& config, bool read_only = false);

// What a test may put in place of the real thing; main() leaves both as they are.
struct ServiceHooks {
  WallClock clock = now_ms;  // the service's time: capture-time checks, roll book, API answers
  std::optional<DetectorChoice> detector;  // instead of the one config.detector chooses
};

class Service {
 public:
  // Fails fast with a clear message: unusable data directory or database, no detector.
  // A missing YuNet model is not a failure: the service runs degraded on the Haar cascade.
  static Result<std::unique_ptr<Service>> create(ServerConfig config, ServiceHooks hooks = {});
  ~Service();

  // Starts serving; returns the bound port (useful with listen.port 0).
  Result<int> start();
  void stop();

  // What the roll book's timer does every 10 s: takes the roll calls, alerts, summaries and
  // final report due at the service's time. For a test that moves its own clock.
  Status tick_roll_book();

  // Makes these the site's zones and empty-room reference (detections on a picture of the
  // empty room of size `picture`): counted with at the centre from the next frame, numbered
  // as the site's next setup and sent to its node with the next answer.
  Status set_site_setup(const std::string& site_id, const SiteZones& zones,
                        const std::vector<Box>& reference, cv::Size2f picture);

  const ServerConfig& config() const;
  const DetectorChoice& detector() const;
  Store& store();

 private:
  struct Impl;
  explicit Service(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace att
