// What is told of every upload stored for the first time (not of retries): the live outputs
// (LiveHub) and the roll book (Attendance). Called on the HTTP thread that stored it, after
// the commit; a listener must be quick and thread-safe.
#pragma once

#include <string>

#include "analysis/domain/heartbeat_store.h"
#include "analysis/domain/observation_store.h"
#include "protocol/node_report.h"

namespace att {

class IngestListener {
 public:
  virtual ~IngestListener() = default;
  // `jpeg`: the frame's bytes as received.
  virtual void frame_stored(const Observation& obs, const std::string& jpeg) = 0;
  // `report`: heartbeat.report, parsed (protocol/node_report.h).
  virtual void heartbeat_stored(const Heartbeat& heartbeat, const NodeReport& report) = 0;
};

}  // namespace att
