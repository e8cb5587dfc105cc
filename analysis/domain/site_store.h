// The stored sites: the configured province, kept in the database so that what is stored about
// a site can be joined to it. Part of Store (analysis/domain/store.h), whose contract holds:
// thread-safe, a write returns once it is durable.
#pragma once

#include <vector>

#include "analysis/domain/province.h"
#include "common/error.h"

namespace att {

class SiteStore {
 public:
  virtual ~SiteStore() = default;

  // Makes the stored site list match the configured one (insert or update by id).
  virtual Status sync_sites(const std::vector<Site>& sites) = 0;
};

}  // namespace att
