// The bounded hand-over between the camera's streaming thread and the node's spool thread.
// A live camera never waits: when the queue is full the oldest frame is dropped and counted
// (the spool thread is only ever behind when the disk stalls). A file read as fast as frames
// are taken waits for room instead, so that no frame of it is lost.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>

#include "capture/frame_source.h"

namespace att {

class FrameQueue {
 public:
  explicit FrameQueue(size_t capacity) : capacity_(capacity < 1 ? 1 : capacity) {}

  // Never blocks: a full queue loses its oldest frame (counted in dropped()).
  void push_live(CapturedFrame frame) {
    {
      std::lock_guard lock(mu_);
      if (closed_) return;
      if (frames_.size() >= capacity_) {
        frames_.pop_front();
        ++dropped_;
      }
      frames_.push_back(std::move(frame));
    }
    ready_.notify_one();
  }

  // Waits for room. False, with the frame not queued, once the queue is closed or `abort`
  // is set (checked every 100 ms).
  bool push_wait(CapturedFrame frame, const std::atomic<bool>& abort) {
    std::unique_lock lock(mu_);
    while (!closed_ && !abort && frames_.size() >= capacity_) {
      room_.wait_for(lock, std::chrono::milliseconds(100));
    }
    if (closed_ || abort) return false;
    frames_.push_back(std::move(frame));
    lock.unlock();
    ready_.notify_one();
    return true;
  }

  // The oldest frame, waiting up to `timeout`; after close() the frames left are still
  // returned, then nothing.
  std::optional<CapturedFrame> pop(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    ready_.wait_for(lock, timeout, [&] { return closed_ || !frames_.empty(); });
    if (frames_.empty()) return std::nullopt;
    CapturedFrame f = std::move(frames_.front());
    frames_.pop_front();
    lock.unlock();
    room_.notify_one();
    return f;
  }

  // No more pushes; wakes every waiter.
  void close() {
    {
      std::lock_guard lock(mu_);
      closed_ = true;
    }
    ready_.notify_all();
    room_.notify_all();
  }

  bool empty() const {
    std::lock_guard lock(mu_);
    return frames_.empty();
  }
  std::int64_t dropped() const {
    std::lock_guard lock(mu_);
    return dropped_;
  }

 private:
  const size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable ready_, room_;
  std::deque<CapturedFrame> frames_;
  bool closed_ = false;
  std::int64_t dropped_ = 0;
};

}  // namespace att
