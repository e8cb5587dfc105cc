// The service's durable state, behind interfaces so that a PostgreSQL backend can be added
// without touching callers. One interface per aggregate, each in its own header:
//   SiteStore         sites                                   site_store.h
//   ObservationStore  analysed frames, their pictures' expiry observation_store.h
//   HeartbeatStore    node reports, spool drops, their expiry heartbeat_store.h
//   LedgerStore       the two hash chains                     ledger_store.h
//   AccountStore      dashboard users and sessions            account_store.h
// Store is all of them in one object (the service holds one); a caller takes the narrowest
// interface it uses. Implementations are thread-safe, and a write returns only once it is
// durable: the caller may acknowledge it.
#pragma once

#include <cstdint>

#include "analysis/domain/account_store.h"
#include "analysis/domain/heartbeat_store.h"
#include "analysis/domain/ledger_store.h"
#include "analysis/domain/observation_store.h"
#include "analysis/domain/site_store.h"

namespace att {

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

class Store : public SiteStore,
              public ObservationStore,
              public HeartbeatStore,
              public LedgerStore,
              public AccountStore {
 public:
  ~Store() override = default;

  virtual WriteStats write_stats() const = 0;
};

}  // namespace att
