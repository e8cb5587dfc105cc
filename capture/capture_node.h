// One site's capture loop: take sampled frames from the camera pipeline and deliver each to
// the service, rebuilding the pipeline after errors or the end of a file, with backoff,
// for as long as it runs. Runs on the calling thread until `stop` becomes true.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>

#include "capture/frame_source.h"
#include "capture/node_config.h"
#include "capture/sequence_file.h"
#include "capture/uploader.h"

namespace att {

struct NodeStats {
  std::int64_t frames = 0;             // frames taken from the pipeline
  std::int64_t stored = 0;             // acknowledged as new by the service
  std::int64_t duplicates = 0;         // acknowledged as already stored
  std::int64_t rejected = 0;           // refused for good (4xx); logged with the reason
  std::int64_t dropped_at_source = 0;  // dropped by the pipeline while an upload was slow
  std::int64_t unsent_at_stop = 0;     // still being retried when asked to stop
  std::int64_t pipeline_starts = 0;
};

class CaptureNode {
 public:
  using SourceFactory = std::function<Result<std::unique_ptr<FrameSource>>()>;

  CaptureNode(CaptureConfig config, SourceFactory open_source, Uploader& uploader,
              SequenceFile& sequence);

  // Returns when `stop` is set (checked at least every 200 ms), or at the end of the source
  // when config.exit_on_eos.
  NodeStats run(const std::atomic<bool>& stop);

 private:
  // Delivers one frame, retrying while the service cannot take it. False if stopped first.
  bool deliver(const CapturedFrame& frame, const std::atomic<bool>& stop);
  // Sleeps up to `d`, returning early (false) when stopped.
  static bool pause(std::chrono::milliseconds d, const std::atomic<bool>& stop);

  CaptureConfig config_;
  SourceFactory open_source_;
  Uploader& uploader_;
  SequenceFile& sequence_;
  NodeStats stats_;
};

}  // namespace att
