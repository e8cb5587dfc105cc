// Where the roll book's ledger entries go live (the web layer's event stream, LiveHub).
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>

namespace att {

class EventSink {
 public:
  virtual ~EventSink() = default;
  // Called with an entry's kind and body after the entry is stored, on the thread that stored
  // it; returns the event's id.
  virtual std::uint64_t publish(const std::string& type, const nlohmann::json& data) = 0;
};

}  // namespace att
