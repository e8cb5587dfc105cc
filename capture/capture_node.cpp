#include "capture/capture_node.h"

#include <charconv>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <thread>

#include "common/backoff.h"
#include "common/files.h"
#include "common/log.h"
#include "common/time_util.h"

namespace att {
namespace {

using Clock = std::chrono::steady_clock;

std::chrono::milliseconds seconds_ms(double s) {
  return std::chrono::milliseconds(static_cast<long long>(s * 1000));
}

std::string joined(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : ", ") + w;
  return out;
}

}  // namespace

CaptureNode::CaptureNode(CaptureConfig config, Uploader& uploader, SequenceFile& sequence,
                         Spool& spool, std::optional<CountingModel> counting)
    : config_(std::move(config)),
      uploader_(uploader),
      sequence_(sequence),
      spool_(spool),
      health_(config_.health),
      model_(std::move(counting)) {}

NodeStats CaptureNode::run(const std::atomic<bool>& stop) {
  auto log = log::get("node");
  started_ms_ = now_ms();
  const auto reference = reference_path();
  if (const cv::Mat view = cv::imread(reference.string(), cv::IMREAD_GRAYSCALE); !view.empty()) {
    health_.set_reference(view);
    log->info("the view is compared with the confirmed reference {}", reference.string());
  } else {
    log->info(
        "no confirmed reference view ({}): the 'moved' check is off until a technician "
        "confirms the view in the dashboard's site setup or runs attendance-capture "
        "--confirm-reference",
        reference.string());
  }

  // A node that counts looks every every_s; one that sends frames samples at the interval
  // the service asks for.
  const double interval_s = model_ ? config_.counting.every_s : config_.sample_interval_s;
  normal_interval_ms_ = static_cast<std::int64_t>(config_.sample_interval_s * 1000);
  if (model_) {
    log->info(
        "counting here with {} every {} s (at most {} core(s)); counts every {} s, "
        "evidence pictures every {} s and at each roll call",
        model_->name, config_.counting.every_s, config_.counting.max_cores,
        config_.counting.report_interval_s, config_.counting.evidence_interval_s);
    counter_ = std::make_unique<EdgeCounter>(config_.counting, std::move(*model_), config_.realtime,
                                             [this](SpoolItem item) { put(std::move(item)); });
    model_.reset();
    load_setup();
    counter_->start();
  }
  FrameQueue queue(static_cast<size_t>(config_.queue_frames));
  Camera camera(CameraOptions{{config_.source_uri, config_.realtime, interval_s, config_.width,
                               config_.jpeg_quality},
                              config_.stall_timeout_s,
                              config_.max_backoff_s,
                              config_.exit_on_eos},
                queue);
  if (auto started = camera.start(); !started) {
    log->critical("camera: {}", started.error().message);
    counter_.reset();
    return stats_;
  }
  camera_ = &camera;
  queue_ = &queue;
  sending_ = true;
  std::thread sender([this] { send_loop(); });

  // The first heartbeat soon after start (the technician sees the node is up), then steady.
  auto next_heartbeat = Clock::now() + std::min(seconds_ms(config_.heartbeat_s), seconds_ms(5));
  while (!stop && !(camera.status().finished && queue.empty())) {
    if (auto frame = queue.pop(std::chrono::milliseconds(200))) take(std::move(*frame));
    if (Clock::now() >= next_heartbeat) {
      const CameraStatus cam = camera.status();
      const double quiet_s =
          (now_ms() - (cam.last_frame_ms ? cam.last_frame_ms : started_ms_)) / 1000.0;
      // Silent for longer than a hung camera is allowed to be (or three intervals).
      heartbeat(quiet_s > std::max(3 * cam.interval_s, config_.stall_timeout_s)
                    ? NodeState::kNoFrames
                    : NodeState::kOk);
      next_heartbeat += seconds_ms(config_.heartbeat_s);
    }
    // A live view whose time is up without word from the service (the link is down): the
    // node ends it itself, back at its normal pace.
    if (const std::int64_t until = live_until_ms_; until != 0 && service_time(now_ms()) >= until) {
      end_live("its time is up");
      const double normal_s = counter_ ? config_.counting.every_s : normal_interval_ms_ / 1000.0;
      if (config_.realtime && std::abs(normal_s - camera.status().interval_s) >= 1e-6) {
        camera.set_interval(std::clamp(normal_s, config_.min_interval_s, 3600.0));
      }
    }
  }
  camera.stop();  // no frame comes after this
  queue.close();
  while (auto frame = queue.pop(std::chrono::milliseconds(0)))
    take(std::move(*frame));       // sampled: keep
  if (counter_) counter_->stop();  // counts the frame it was given last

  if (!stop) {  // the file has ended: deliver everything, then finish
    heartbeat(NodeState::kFinished);
    log->info("the source has ended; sending what is left in the spool");
    while (!stop && !spool_empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  } else {
    heartbeat(NodeState::kStopping);
    // A short grace for the last items (a node stopped for maintenance says so), no more:
    // whatever is left goes after the next start.
    const auto grace_end = Clock::now() + std::chrono::seconds(2);
    while (Clock::now() < grace_end && !spool_empty()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  sending_ = false;
  uploader_.abort();  // cut a request in flight; its item stays spooled
  wake_.notify_all();
  sender.join();
  camera_ = nullptr;
  queue_ = nullptr;

  std::lock_guard lock(stats_mu_);
  if (counter_) {
    stats_.counting = counter_->stats();
    counter_.reset();
  }
  stats_.pipeline_starts = camera.status().pipeline_starts;
  stats_.queue_dropped = queue.dropped();
  {
    std::lock_guard spool_lock(spool_mu_);
    if (auto s = spool_.stats()) stats_.left_in_spool = s->items;
  }
  log->info(
      "stopped: {} frames sampled, {} items spooled, {} not spooled (disk), {} dropped before "
      "the spool; {} stored, {} duplicates, {} refused by the service; {} live-only items "
      "dropped when live views ended; {} items left in the spool for the next start",
      stats_.frames, stats_.spooled, stats_.spool_failed, stats_.queue_dropped, stats_.stored,
      stats_.duplicates, stats_.rejected, stats_.live_dropped, stats_.left_in_spool);
  if (stats_.counting.offered > 0) {
    const EdgeCounterStats& c = stats_.counting;
    log->info(
        "counting: {} frames counted of {} sampled ({} skipped while busy, {} over the "
        "CPU budget, {} failed); {} counts and {} evidence pictures spooled",
        c.counted, c.offered, c.skipped_busy, c.skipped_budget, c.failed, c.counts, c.evidence);
  }
  return stats_;
}

void CaptureNode::take(CapturedFrame frame) {
  auto log = log::get("node");
  {
    std::lock_guard lock(stats_mu_);
    ++stats_.frames;
  }
  // A node that counts looks every second; the picture's health is scored every
  // sample_interval_s (and on every frame it sends otherwise).
  const bool score = !counter_ || last_health_ms_ < 0 ||
                     frame.capture_time_ms - last_health_ms_ >=
                         static_cast<std::int64_t>(config_.sample_interval_s * 1000);
  std::string health;  // X-Health: "" when the frame could not be scored
  if (score) {
    const cv::Mat grey = cv::imdecode(cv::Mat(1, static_cast<int>(frame.jpeg.size()), CV_8U,
                                              const_cast<char*>(frame.jpeg.data())),
                                      cv::IMREAD_GRAYSCALE);
    if (grey.empty()) {
      log->error("the pipeline gave a frame that does not decode ({} bytes)", frame.jpeg.size());
    } else {
      if (const std::int64_t confirmed = view_to_confirm_ms_.exchange(0); confirmed > 0)
        take_reference(frame, grey, confirmed);
      const HealthReport report = health_.assess(grey);
      last_health_ = report.scores();
      last_health_ms_ = frame.capture_time_ms;
      health = last_health_->to_json();
      const std::string flags = joined(report.flags());
      if (flags != last_flags_) {
        if (flags.empty()) {
          log->info("camera picture is fine again");
        } else {
          log->warn(
              "camera picture: {} (brightness {:.0f}, sharpness {:.0f}, one colour {:.0f}%{})",
              flags, report.brightness, report.sharpness, report.uniform_share * 100,
              report.matched >= 0
                  ? ", " + std::to_string(report.matched) + " features match the reference"
                  : "");
        }
        last_flags_ = flags;
      }
    }
  }
  if (counter_) {
    frame.capture_time_ms = service_time(frame.capture_time_ms);
    counter_->offer(std::move(frame), last_health_);
    return;
  }
  // A normal sample when the normal interval has passed since the last one (less half the
  // camera's interval, for jitter); a frame between two is taken only for a live view.
  const std::int64_t camera_ms = static_cast<std::int64_t>(camera_->status().interval_s * 1000);
  const bool normal =
      !config_.realtime || last_sample_ms_ < 0 ||
      frame.capture_time_ms - last_sample_ms_ >= normal_interval_ms_ - camera_ms / 2;
  if (normal) last_sample_ms_ = frame.capture_time_ms;
  SpoolItem item;
  item.capture_time_ms = service_time(frame.capture_time_ms);
  item.live = !normal;
  item.kind = "frame";
  item.body = std::move(frame.jpeg);
  item.meta = health;
  put(std::move(item));
}

void CaptureNode::heartbeat(NodeState state) {
  const CameraStatus cam = camera_->status();
  const std::int64_t now = now_ms();
  NodeReport report;
  report.state = state;
  {
    std::lock_guard lock(spool_mu_);
    if (auto s = spool_.stats()) {
      report.spool = NodeSpool{s->items, s->bytes, config_.spool_max_bytes, s->dropped};
    }
  }
  report.camera =
      NodeCamera{.playing = cam.playing,
                 .last_frame_ms = cam.last_frame_ms,
                 .last_frame_age_s = cam.last_frame_ms ? (now - cam.last_frame_ms) / 1000.0 : -1.0,
                 .pipeline_starts = cam.pipeline_starts,
                 .last_error = cam.last_error,
                 .interval_s = cam.interval_s};
  report.health = last_health_;
  {
    std::lock_guard lock(stats_mu_);
    report.counters = NodeCounters{.frames = stats_.frames,
                                   .spooled = stats_.spooled,
                                   .spool_failed = stats_.spool_failed,
                                   .queue_dropped = queue_->dropped(),
                                   .stored = stats_.stored,
                                   .duplicates = stats_.duplicates,
                                   .rejected = stats_.rejected};
  }
  if (counter_) {
    const EdgeCounterStats c = counter_->stats();
    report.counting = NodeCounting{.model = counter_->model_name(),
                                   .every_s = config_.counting.every_s,
                                   .max_cores = config_.counting.max_cores,
                                   .rate_hz = c.rate_hz,
                                   .detector_ms = c.detector_ms,
                                   .cpu_share = c.cpu_share,
                                   .looks = c.counted,
                                   .skipped = c.skipped_busy + c.skipped_budget,
                                   .setup_version = c.setup_version};
  }
  report.clock_offset_s = clock_offset_ms_ / 1000.0;
  report.version = ATTENDANCE_VERSION;
  // A wall clock set back under the node must not make its report malformed.
  report.uptime_s = std::max<std::int64_t>(0, (now - started_ms_) / 1000);
  if (state == NodeState::kNoFrames) {
    log::get("node")->warn("no frame from the camera for {:.0f} s{}",
                           (now - (cam.last_frame_ms ? cam.last_frame_ms : started_ms_)) / 1000.0,
                           cam.last_error.empty() ? "" : ": " + cam.last_error);
  }
  SpoolItem item;
  item.capture_time_ms = service_time(now);
  item.kind = "health";
  item.body = report.to_json();
  put(std::move(item));
}

void CaptureNode::put(SpoolItem item) {
  auto log = log::get("node");
  const bool heartbeat = item.kind == "health";
  if (item.live && live_until_ms_ == 0) {  // sampled before the camera slowed down again
    std::lock_guard lock(stats_mu_);
    ++stats_.live_dropped;
    log->debug("dropped a live-only {} taken after the live view ended", item.kind);
    return;
  }
  Status written;
  {
    // The spool thread and the counter's both put: one number, one item, in order.
    std::lock_guard lock(spool_mu_);
    auto sequence = sequence_.reserve();
    if (sequence) {
      item.sequence = *sequence;
      written = spool_.put(item);
    } else {
      written = std::unexpected(sequence.error());
    }
  }
  {
    std::lock_guard lock(stats_mu_);
    if (!written) {
      if (!heartbeat) ++stats_.spool_failed;
      log->error("{} captured at {} could not be spooled and is lost: {}",
                 heartbeat ? "a heartbeat" : "a " + item.kind, iso8601_utc(item.capture_time_ms),
                 written.error().message);
      return;
    }
    ++(heartbeat ? stats_.heartbeats : stats_.spooled);
  }
  log->debug("spooled {} {}", item.kind, item.sequence);
  wake_.notify_all();
}

bool CaptureNode::spool_empty() {
  std::lock_guard lock(spool_mu_);
  auto s = spool_.stats();
  return s && s->items == 0;
}

void CaptureNode::apply_answer(const UploadOutcome& out) {
  // An answer that names no interval says nothing of the live view either.
  const bool live_now = out.live_until_ms > service_time(now_ms()) && out.interval_s > 0;
  if (out.interval_s > 0) note_live(live_now ? out.live_until_ms : 0);
  if (!counter_) {
    if (out.interval_s > 0 && !live_now) {
      normal_interval_ms_ = static_cast<std::int64_t>(out.interval_s * 1000);
    }
    apply_interval(out.interval_s);
    return;
  }
  if (out.roll_calls_known) counter_->set_roll_calls(out.roll_calls_ms);
  if (out.setup) use_setup(*out.setup, /*keep=*/true);
  // While a technician watches: evidence pictures at the live interval, looks at least as
  // often; otherwise every_s.
  const bool live = out.live_until_ms > now_ms() && out.interval_s > 0;
  counter_->set_live(live ? out.live_until_ms : 0, out.interval_s);
  const double wanted =
      live ? std::min(config_.counting.every_s, out.interval_s) : config_.counting.every_s;
  if (config_.realtime && std::abs(wanted - camera_->status().interval_s) >= 1e-6) {
    if (live) {
      log::get("node")->info("a technician watches the site: a picture every {} s", wanted);
    } else {
      log::get("node")->info("back to a look every {} s", wanted);
    }
    camera_->set_interval(std::max(wanted, config_.min_interval_s));
  }
}

void CaptureNode::note_live(std::int64_t until_ms) {
  if (until_ms != 0) {
    live_until_ms_ = until_ms;
    return;
  }
  end_live("the service no longer asks for live frames");
}

void CaptureNode::end_live(const char* why) {
  if (live_until_ms_.exchange(0) == 0) return;  // none, or ended already
  auto log = log::get("node");
  std::int64_t dropped = 0;
  {
    std::lock_guard lock(spool_mu_);
    if (auto d = spool_.drop_live()) {
      dropped = *d;
    } else {
      log->error("cannot drop the live view's frames from the spool: {}", d.error().message);
    }
  }
  std::int64_t total = 0;
  {
    std::lock_guard lock(stats_mu_);
    stats_.live_dropped += dropped;
    total = stats_.live_dropped;
  }
  log->info(
      "the live view has ended ({}): dropped {} live-only item(s) still spooled that nobody "
      "will watch ({} since start)",
      why, dropped, total);
}

std::filesystem::path CaptureNode::reference_path() const {
  return config_.reference.empty() ? config_.state_dir / "reference.jpg" : config_.reference;
}

void CaptureNode::take_reference(const CapturedFrame& frame, const cv::Mat& grey,
                                 std::int64_t confirmed_ms) {
  auto log = log::get("node");
  const auto path = reference_path();
  if (auto w = write_file_atomically(path, frame.jpeg, /*sync=*/true); !w) {
    log->error("the view confirmed in the dashboard cannot be kept: {}", w.error().message);
    return;
  }
  health_.set_reference(grey);
  if (auto w = write_file_atomically(config_.state_dir / kViewConfirmedFile,
                                     std::to_string(confirmed_ms), /*sync=*/true);
      !w) {
    log->warn("{}", w.error().message);
  }
  log->info(
      "the view confirmed in the dashboard is the reference now: this frame ({}x{}), kept "
      "in {}",
      frame.width, frame.height, path.string());
}

bool CaptureNode::use_setup(const SignedSetup& signed_setup, bool keep) {
  auto setup = parse_site_setup(signed_setup.body);
  if (!setup) {
    log::get("node")->error("the site's counting setup version {} cannot be used: {}",
                            signed_setup.version, setup.error().message);
    return false;
  }
  counter_->set_setup(signed_setup.version, *setup);
  // A newer confirmation of the view than the one taken: the next frame is the reference.
  if (setup->view_confirmed_ms > 0) {
    const auto taken = read_file(config_.state_dir / kViewConfirmedFile);
    std::int64_t taken_ms = 0;
    if (taken) std::from_chars(taken->data(), taken->data() + taken->size(), taken_ms);
    if (setup->view_confirmed_ms > taken_ms) view_to_confirm_ms_ = setup->view_confirmed_ms;
  }
  if (keep) {  // counted with again after a restart, before the service is reached
    const std::string kept = to_json(signed_setup).dump();
    if (auto w = write_file_atomically(config_.state_dir / kSetupFile, kept, true); !w) {
      log::get("node")->warn("the site's counting setup is not kept on disk: {}",
                             w.error().message);
    }
  }
  return true;
}

void CaptureNode::load_setup() {
  const auto path = config_.state_dir / kSetupFile;
  if (!std::filesystem::exists(path)) return;
  auto text = read_file(path);
  const auto setup =
      signed_setup_from(text ? nlohmann::json::parse(*text, nullptr, false) : nlohmann::json());
  if (!setup || !uploader_.trusts(*setup)) {
    log::get("node")->error(
        "{}: not a counting setup signed with this site's key; ignored until "
        "the service sends one",
        path.string());
    return;
  }
  if (use_setup(*setup, /*keep=*/false)) {
    log::get("node")->info("counting with the site's setup version {} kept in {}", setup->version,
                           path.string());
  }
}

void CaptureNode::apply_interval(double seconds) {
  if (seconds <= 0 || !config_.realtime) return;  // a file read at full speed keeps its own
  seconds = std::clamp(seconds, config_.min_interval_s, 3600.0);
  if (std::abs(seconds - camera_->status().interval_s) < 1e-6) return;
  log::get("node")->info("the service asks for a frame every {} s", seconds);
  camera_->set_interval(seconds);
}

void CaptureNode::learn_clock(const UploadOutcome& out) {
  if (!out.clock_offset_ms) return;
  constexpr std::int64_t kApplied = 2000;  // below this the node's own clock is kept
  const std::int64_t offset = std::abs(*out.clock_offset_ms) >= kApplied ? *out.clock_offset_ms : 0;
  const std::int64_t before = clock_offset_ms_;
  if (std::abs(offset - before) < kApplied / 2) return;  // the same offset, measured again
  clock_offset_ms_ = offset;
  auto log = log::get("node");
  if (offset == 0) {
    log->info("the node's clock agrees with the service's again; frames carry the node's time");
  } else {
    log->warn(
        "the node's clock is {:.1f} s {} the service's: frames are stamped with the service's "
        "time; set the node's clock (NTP)",
        std::abs(offset) / 1000.0, offset > 0 ? "behind" : "ahead of");
  }
}

void CaptureNode::send_loop() {
  auto log = log::get("upload");
  Backoff backoff(seconds_ms(config_.max_backoff_s));
  log::RateLimit retry_log(std::chrono::seconds(30));
  auto sleep = [this](std::chrono::milliseconds d) {
    std::unique_lock lock(wake_mu_);
    wake_.wait_for(lock, d, [this] { return !sending_; });
  };
  while (sending_) {
    std::optional<SpoolItem> item;
    std::int64_t unreported = 0;
    bool more = false;  // another item waits behind this one
    {
      std::lock_guard lock(spool_mu_);
      auto oldest = spool_.oldest(2);
      if (!oldest) {
        log->error("cannot read the spool: {}", oldest.error().message);
      } else if (!oldest->empty()) {
        more = oldest->size() > 1;
        item = std::move(oldest->front());
        spool_.set_sending(item->sequence);
        if (item->kind == "health") {
          if (auto s = spool_.stats()) unreported = s->dropped_unreported;
        }
      }
    }
    if (!item) {
      std::unique_lock lock(wake_mu_);
      wake_.wait_for(lock, std::chrono::milliseconds(500));
      continue;
    }
    UploadOutcome out = uploader_.send(*item, unreported, more);
    learn_clock(out);
    if (out.kind == UploadOutcome::kRejected && out.code == "capture_time_in_future" &&
        clock_offset_ms_ != 0) {
      // Sampled before the node knew its clock was ahead: once more, at the service's time.
      item->capture_time_ms += clock_offset_ms_;
      out = uploader_.send(*item, unreported, more);
    }
    if (out.kind == UploadOutcome::kRetry) {
      long long suppressed = 0;
      if (retry_log.allow(suppressed)) {
        log->warn("{} {} not delivered ({}); retrying, attempt {}", item->kind, item->sequence,
                  out.message, backoff.attempts() + 1);
      }
      // A busy service says when to come back; never sooner than the backoff.
      if (sending_)
        sleep(std::max(backoff.next(), std::chrono::milliseconds(1000LL * out.retry_after_s)));
      continue;
    }
    backoff.reset();
    bool removed = true;
    {
      std::lock_guard lock(spool_mu_);
      spool_.set_sending(-1);
      if (auto a = spool_.acknowledge(item->sequence); !a) {
        log->error("cannot remove {} {} from the spool: {}", item->kind, item->sequence,
                   a.error().message);
        removed = false;
      }
      if (out.dropped_recorded > 0) {
        if (auto r = spool_.dropped_reported(out.dropped_recorded); !r) {
          log->error("cannot note reported drops in the spool: {}", r.error().message);
        }
      }
    }
    {
      std::lock_guard lock(stats_mu_);
      switch (out.kind) {
        case UploadOutcome::kStored:
          ++stats_.stored;
          break;
        case UploadOutcome::kDuplicate:
          ++stats_.duplicates;
          break;
        default:
          ++stats_.rejected;
          log->error("{} {} refused by the service (HTTP {}): {}; removed from the spool",
                     item->kind, item->sequence, out.http_status, out.message);
      }
    }
    if (out.kind != UploadOutcome::kRejected) {
      log->debug("{} {} acknowledged ({})", item->kind, item->sequence, out.http_status);
      apply_answer(out);
    }
    // Still spooled (a full disk): it goes again, acknowledged as a duplicate; not in a spin.
    if (!removed && sending_) sleep(backoff.next());
  }
}

}  // namespace att
