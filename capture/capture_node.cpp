#include "capture/capture_node.h"

#include <thread>

#include "common/backoff.h"
#include "common/log.h"

namespace att {

CaptureNode::CaptureNode(CaptureConfig config, SourceFactory open_source, Uploader& uploader,
                         SequenceFile& sequence)
    : config_(std::move(config)),
      open_source_(std::move(open_source)),
      uploader_(uploader),
      sequence_(sequence) {}

bool CaptureNode::pause(std::chrono::milliseconds d, const std::atomic<bool>& stop) {
  const auto until = std::chrono::steady_clock::now() + d;
  while (!stop) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= until) return true;
    std::this_thread::sleep_for(
        std::min<std::chrono::nanoseconds>(until - now, std::chrono::milliseconds(100)));
  }
  return false;
}

bool CaptureNode::deliver(const CapturedFrame& frame, const std::atomic<bool>& stop) {
  auto log = log::get("upload");
  auto sequence = sequence_.reserve();
  Backoff backoff(std::chrono::milliseconds(static_cast<long long>(config_.max_backoff_s * 1000)));
  while (!sequence) {  // the state disk is full or gone: nothing can be sent safely
    log->error("cannot reserve a sequence number: {}", sequence.error().message);
    if (!pause(backoff.next(), stop)) return false;
    sequence = sequence_.reserve();
  }
  backoff.reset();
  log::RateLimit retry_log(std::chrono::seconds(30));
  while (true) {
    const UploadOutcome out = uploader_.send(frame, *sequence);
    switch (out.kind) {
      case UploadOutcome::kStored:
        ++stats_.stored;
        log->debug("frame {} stored: {} counted", *sequence, out.count);
        return true;
      case UploadOutcome::kDuplicate:
        ++stats_.duplicates;
        return true;
      case UploadOutcome::kRejected:
        ++stats_.rejected;
        log->error("frame {} refused by the server (HTTP {}): {}", *sequence, out.http_status,
                   out.message);
        return true;
      case UploadOutcome::kRetry:
        break;
    }
    long long suppressed = 0;
    if (retry_log.allow(suppressed)) {
      log->warn("frame {} not delivered ({}); retrying (attempt {})", *sequence, out.message,
                backoff.attempts() + 1);
    }
    if (!pause(backoff.next(), stop)) return false;
  }
}

NodeStats CaptureNode::run(const std::atomic<bool>& stop) {
  auto log = log::get("capture");
  Backoff restart(std::chrono::milliseconds(static_cast<long long>(config_.max_backoff_s * 1000)));
  while (!stop) {
    auto source = open_source_();
    if (!source) {
      log->error("camera pipeline: {}", source.error().message);
      if (!pause(restart.next(), stop)) break;
      continue;
    }
    ++stats_.pipeline_starts;
    bool ended = false;
    while (!stop && !ended) {
      FrameSource::Next next = (*source)->next(std::chrono::milliseconds(200));
      switch (next.event) {
        case FrameSource::Event::kFrame:
          restart.reset();
          ++stats_.frames;
          if (!deliver(next.frame, stop)) ++stats_.unsent_at_stop;
          break;
        case FrameSource::Event::kTimeout:
          break;
        case FrameSource::Event::kEndOfStream:
          log->info("end of stream from the source");
          ended = true;
          break;
        case FrameSource::Event::kError:
          log->error("camera pipeline error: {}", next.message);
          ended = true;
          break;
      }
    }
    const SourceStats s = (*source)->stats();
    stats_.dropped_at_source += s.dropped;
    if (s.dropped > 0) {
      log->warn(
          "{} sampled frame(s) never sent: dropped while an upload was slow, or queued "
          "when the pipeline stopped",
          s.dropped);
    }
    source->reset();
    if (stop || (ended && config_.exit_on_eos)) break;
    log->info("rebuilding the camera pipeline");
    if (!pause(restart.next(), stop)) break;
  }
  log->info(
      "stopped: {} frames, {} stored, {} duplicates, {} refused, {} dropped at source, "
      "{} unsent at stop",
      stats_.frames, stats_.stored, stats_.duplicates, stats_.rejected, stats_.dropped_at_source,
      stats_.unsent_at_stop);
  return stats_;
}

}  // namespace att
