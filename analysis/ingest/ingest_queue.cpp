#include "analysis/ingest/ingest_queue.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <utility>

namespace att {
namespace {

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

IngestQueue::IngestQueue(IngestQueueLimits limits) : limits_(limits) {}

IngestQueue::Ticket::Ticket(Ticket&& other) noexcept
    : queue_(std::exchange(other.queue_, nullptr)),
      site_(std::move(other.site_)),
      id_(other.id_),
      turn_(other.turn_),
      turn_start_us_(other.turn_start_us_) {}

IngestQueue::Ticket::~Ticket() {
  if (queue_) queue_->leave(*this);
}

std::expected<IngestQueue::Ticket, IngestQueue::Refusal> IngestQueue::enter(
    const std::string& site_id) {
  std::lock_guard lock(mu_);
  if (held_ >= limits_.capacity) {
    ++stats_.refused_full;
    return std::unexpected(Refusal{"queue_full",
                                   "the service is at capacity (" +
                                       std::to_string(limits_.capacity) +
                                       " frames in hand); keep the frame and retry later",
                                   retry_after_s()});
  }
  int& mine = held_by_site_[site_id];
  if (mine >= limits_.per_site) {
    ++stats_.refused_site;
    return std::unexpected(Refusal{"site_busy",
                                   "this site already has " + std::to_string(mine) +
                                       " frames waiting; send the next when they are done",
                                   retry_after_s()});
  }
  ++mine;
  ++held_;
  return Ticket(this, site_id, next_id_++);
}

void IngestQueue::wait_turn(Ticket& ticket) {
  std::unique_lock lock(mu_);
  waiting_[ticket.site_].push_back(ticket.id_);
  if (waiting_[ticket.site_].size() == 1) rotation_.push_back(ticket.site_);
  ++stats_.waiting;
  grant();
  turn_.wait(lock, [&] { return granted_.contains(ticket.id_); });
  granted_.erase(ticket.id_);
  ticket.turn_ = true;
  ticket.turn_start_us_ = now_us();
}

void IngestQueue::grant() {
  bool any = false;
  while (running_ < limits_.workers && !rotation_.empty()) {
    const std::string site = rotation_.front();
    rotation_.pop_front();
    auto& queue = waiting_[site];
    granted_.insert(queue.front());
    queue.pop_front();
    if (queue.empty()) {
      waiting_.erase(site);
    } else {
      rotation_.push_back(site);  // its next frame waits for every other site's turn
    }
    ++running_;
    --stats_.waiting;
    ++stats_.served;
    any = true;
  }
  if (any) turn_.notify_all();
}

void IngestQueue::end_turn(Ticket& ticket) {
  if (!ticket.turn_) return;
  std::lock_guard lock(mu_);
  ticket.turn_ = false;
  --running_;
  const double ms = (now_us() - ticket.turn_start_us_) / 1000.0;
  stats_.mean_turn_ms = stats_.mean_turn_ms == 0 ? ms : 0.9 * stats_.mean_turn_ms + 0.1 * ms;
  grant();
}

void IngestQueue::leave(Ticket& ticket) {
  end_turn(ticket);
  std::lock_guard lock(mu_);
  --held_;
  if (--held_by_site_[ticket.site_] == 0) held_by_site_.erase(ticket.site_);
}

int IngestQueue::retry_after_s() const {
  // The frames in hand, shared among the workers, at the recent time per frame.
  const double ms = stats_.mean_turn_ms > 0 ? stats_.mean_turn_ms : 1000;
  return std::max(1, static_cast<int>(std::ceil(held_ * ms / limits_.workers / 1000.0)));
}

IngestQueueStats IngestQueue::stats() const {
  std::lock_guard lock(mu_);
  IngestQueueStats s = stats_;
  s.running = running_;
  return s;
}

}  // namespace att
