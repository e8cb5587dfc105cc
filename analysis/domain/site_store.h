// The stored sites: the configured province, kept in the database so that what is stored about
// a site can be joined to it. Part of Store (analysis/domain/store.h), whose contract holds:
// thread-safe, a write returns once it is durable.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "analysis/domain/province.h"
#include "common/error.h"

namespace att {

class SiteStore {
 public:
  virtual ~SiteStore() = default;

  // Makes the stored site list match the configured one (insert or update by id).
  virtual Status sync_sites(const std::vector<Site>& sites) = 0;

  // A site's counting setup as the service numbered it (protocol/site_setup.h): 1, 2, ...
  struct Setup {
    std::int64_t version = 0;
    std::string body;  // SiteSetup::to_json()
    std::int64_t created_ms = 0;
    std::string made_by;  // kSetupFromConfig, or the user who saved it
  };
  // The made_by of a setup that came from config/zones.yaml.
  static constexpr const char* kSetupFromConfig = "config";
  // The site's latest setup; none before the first.
  virtual Result<std::optional<Setup>> latest_setup(const std::string& site_id) = 0;
  // Every setup of the site, oldest first.
  virtual Result<std::vector<Setup>> setup_history(const std::string& site_id) = 0;
  // Keeps `body` as the site's setup: a new version when it differs from the latest, else the
  // latest as it is. Returns the version now in force.
  virtual Result<Setup> put_setup(const std::string& site_id, const std::string& body,
                                  std::int64_t at_ms, const std::string& made_by) = 0;
};

}  // namespace att
