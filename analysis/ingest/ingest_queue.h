// Admission and fair turns in front of the detectors. Detection is the service's whole cost
// (README, "Cost per frame"), so frames wait for a detector here, in a bounded queue:
//
// - enter() takes a place, or refuses at once when the queue is full or when the site
//   already holds its share of places. The service then answers 503 with Retry-After, and
//   the node keeps the frame in its spool: nothing accepted is dropped, and a service that
//   cannot keep up says so instead of letting requests pile up.
// - wait_turn() blocks until a detector is free and it is this place's turn; turns go round
//   the sites with waiting frames (round robin), so one chatty site (a long spool being
//   emptied after an outage) cannot starve the others.
//
// Thread-safe; each Ticket is used by the thread that entered.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <expected>
#include <map>
#include <mutex>
#include <set>
#include <string>

namespace att {

struct IngestQueueLimits {
  int workers = 2;   // frames detected at once (the detector pool's size)
  int capacity = 8;  // places in all: running and waiting
  int per_site = 2;  // places one site may hold
};

struct IngestQueueStats {
  std::int64_t waiting = 0;       // places holding a frame not yet being detected
  std::int64_t running = 0;       // frames being detected
  std::int64_t served = 0;        // turns given since start
  std::int64_t refused_full = 0;  // enter() refused: no place left
  std::int64_t refused_site = 0;  // enter() refused: the site holds its share
  double mean_turn_ms = 0;        // recent mean time a turn is held (moving average)
};

class IngestQueue {
 public:
  explicit IngestQueue(IngestQueueLimits limits);

  class Ticket {
   public:
    Ticket(Ticket&& other) noexcept;
    Ticket& operator=(Ticket&&) = delete;
    ~Ticket();  // gives the place (and the turn, if taken) back
   private:
    friend class IngestQueue;
    Ticket(IngestQueue* queue, std::string site, std::uint64_t id)
        : queue_(queue), site_(std::move(site)), id_(id) {}
    IngestQueue* queue_;
    std::string site_;
    std::uint64_t id_;
    bool turn_ = false;
    std::int64_t turn_start_us_ = 0;
  };

  struct Refusal {
    std::string code;  // "queue_full" or "site_busy"
    std::string message;
    int retry_after_s = 1;  // when a place is likely free again
  };

  std::expected<Ticket, Refusal> enter(const std::string& site_id);
  // Waits for a free detector and this ticket's turn. Call once per ticket.
  void wait_turn(Ticket& ticket);
  // Ends the turn early (detection done; storing needs no detector). Idempotent.
  void end_turn(Ticket& ticket);

  IngestQueueStats stats() const;

 private:
  void leave(Ticket& ticket);
  void grant();               // with mu_ held: gives free detectors to waiting sites, in turn
  int retry_after_s() const;  // with mu_ held

  const IngestQueueLimits limits_;
  mutable std::mutex mu_;
  std::condition_variable turn_;
  std::uint64_t next_id_ = 1;
  int held_ = 0;                                              // tickets alive
  int running_ = 0;                                           // tickets in their turn
  std::map<std::string, int> held_by_site_;                   // tickets alive per site
  std::map<std::string, std::deque<std::uint64_t>> waiting_;  // per site, in arrival order
  std::deque<std::string> rotation_;  // sites with waiting tickets, next first
  std::set<std::uint64_t> granted_;   // turns given, not yet taken up
  IngestQueueStats stats_;
};

}  // namespace att
