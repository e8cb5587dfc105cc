#include "capture/edge_counter.h"

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <opencv2/core/utility.hpp>
#include <opencv2/imgproc.hpp>

#include "common/log.h"
#include "common/time_util.h"
#include "counting/jpeg.h"
#include "counting/models.h"
#include "protocol/node_count.h"
#include "protocol/wire.h"

namespace att {
namespace {

constexpr std::int64_t kMaxPixels = 7680LL * 4320;

std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// CPU time of the whole process, ms: what a look costs across OpenCV's worker threads.
double process_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

double median_of(std::vector<double> v) {
  if (v.empty()) return 0;
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}

}  // namespace

Result<CountingModel> load_counting_model(const DetectorConfig& config) {
  auto choice =
      choose_detector(config, model_search_dirs(config.model_dir, config.search_default_dirs));
  if (!choice) return std::unexpected(choice.error());
  if (choice->degraded || choice->model_sha256.empty()) {
    return fail("the node cannot count with '" + choice->name + "': " + choice->message);
  }
  auto detector = choice->make();
  if (!detector) return std::unexpected(detector.error());
  return CountingModel{std::move(*detector), choice->name, choice->model_sha256};
}

OccupancyWindow counting_window(const OccupancyConfig& config, const SiteSetup& setup) {
  const auto zones_of = [](const std::vector<SetupZone>& from) {
    std::vector<Zone> out;
    for (const SetupZone& z : from) {
      Zone zone{z.name, {}};
      for (const auto& p : z.points) zone.points.emplace_back(p[0], p[1]);
      out.push_back(std::move(zone));
    }
    return out;
  };
  OccupancyWindow window(
      config, SiteZones{zones_of(setup.count), zones_of(setup.exclude), setup.min_score});
  window.set_empty_reference(setup.empty_reference, cv::Size2f(1, 1));  // shares of the picture
  return window;
}

EdgeCounter::EdgeCounter(NodeCountingConfig config, CountingModel model, bool realtime, Emit emit)
    : config_(std::move(config)),
      model_(std::move(model)),
      realtime_(realtime),
      emit_(std::move(emit)),
      window_(config_.occupancy) {}

EdgeCounter::~EdgeCounter() {
  stop();
}

void EdgeCounter::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { run(); });
}

void EdgeCounter::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void EdgeCounter::offer(CapturedFrame frame, std::optional<HealthScores> health) {
  std::unique_lock lock(mu_);
  ++stats_.offered;
  if (!realtime_) {  // a file: every sampled frame is counted, at the counter's pace
    changed_.wait(lock, [this] { return !waiting_ || stopping_; });
  } else if (waiting_) {
    ++stats_.skipped_busy;
  }
  waiting_ = Waiting{std::move(frame), std::move(health)};
  changed_.notify_all();
}

void EdgeCounter::set_roll_calls(const std::vector<std::int64_t>& times_ms) {
  std::lock_guard lock(mu_);
  // Times already served stay served: the service repeats them in every answer.
  const std::int64_t served_up_to = last_evidence_ms_;
  for (std::int64_t t : times_ms) {
    if (t - wire::kRollCallLeadMs > served_up_to) roll_calls_ms_.insert(t);
  }
}

void EdgeCounter::set_live(std::int64_t until_ms, double interval_s) {
  std::lock_guard lock(mu_);
  live_until_ms_ = until_ms;
  live_interval_s_ = interval_s;
}

void EdgeCounter::set_setup(std::int64_t version, const SiteSetup& setup) {
  std::lock_guard lock(mu_);
  if (next_setup_ ? next_setup_->first == version : stats_.setup_version == version) return;
  next_setup_.emplace(version, setup);
}

EdgeCounterStats EdgeCounter::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void EdgeCounter::run() {
  // The detector's own threads stay within the budget too.
  cv::setNumThreads(std::max(1, static_cast<int>(std::floor(config_.max_cores))));
  report_steady_ms_ = steady_ms();
  for (;;) {
    std::optional<Waiting> w;
    {
      std::unique_lock lock(mu_);
      changed_.wait(lock, [this] { return waiting_ || stopping_; });
      if (!waiting_) return;  // stopping, nothing left
      w = std::move(waiting_);
      waiting_.reset();
      if (realtime_ && steady_ms() < next_look_steady_ms_) {
        ++stats_.skipped_budget;
        changed_.notify_all();
        continue;
      }
    }
    changed_.notify_all();  // a file's next frame may come
    look(*w);
  }
}

void EdgeCounter::look(const Waiting& w) {
  auto log = log::get("counting");
  const CapturedFrame& f = w.frame;
  const auto started = steady_ms();
  const double cpu_start = process_cpu_ms();
  auto frame = decode_jpeg(
      std::span(reinterpret_cast<const unsigned char*>(f.jpeg.data()), f.jpeg.size()), kMaxPixels);
  Result<std::vector<Box>> boxes = frame ? model_.detector->detect(*frame)
                                         : Result<std::vector<Box>>(std::unexpected(frame.error()));
  const double detect_ms = static_cast<double>(steady_ms() - started);
  if (!boxes) {
    std::lock_guard lock(mu_);
    ++stats_.failed;
    log->error("a frame could not be counted: {}", boxes.error().message);
    return;
  }
  std::optional<std::pair<std::int64_t, SiteSetup>> setup;
  {
    std::lock_guard lock(mu_);
    setup.swap(next_setup_);
  }
  if (setup) {
    window_ = counting_window(config_.occupancy, setup->second);
    window_setup_ = setup->first;
    log->info(
        "counting with the site's setup version {}: {} audience area(s), {} excluded, "
        "{} empty-room spot(s), scores from {}",
        setup->first, setup->second.count.size(), setup->second.exclude.size(),
        setup->second.empty_reference.size(), setup->second.min_score);
  }
  cv::Mat gray;
  cv::cvtColor(*frame, gray, cv::COLOR_BGR2GRAY);
  const OccupancyResult r = window_.add(f.capture_time_ms, frame->size(), *boxes, gray);
  const double cpu_ms = process_cpu_ms() - cpu_start;
  // The budget: the next look no sooner than this one's CPU time spread over max_cores.
  next_look_steady_ms_ = started + static_cast<std::int64_t>(cpu_ms / config_.max_cores);
  detect_ms_.push_back(detect_ms);
  busy_ms_since_report_ += cpu_ms;
  ++looks_since_report_;

  const std::int64_t t = f.capture_time_ms;
  bool roll_call = false, live = false;
  std::int64_t skipped = 0;
  {
    std::lock_guard lock(mu_);
    ++stats_.counted;
    stats_.window_count = r.window_count;
    stats_.setup_version = window_setup_;
    // Served: every announced roll call due by now (a late look still serves it, nearest).
    while (!roll_calls_ms_.empty() && *roll_calls_ms_.begin() - wire::kRollCallLeadMs <= t) {
      roll_calls_ms_.erase(roll_calls_ms_.begin());
      roll_call = true;
    }
    live = now_ms() < live_until_ms_ &&
           (last_evidence_ms_ < 0 ||
            t - last_evidence_ms_ >= static_cast<std::int64_t>(live_interval_s_ * 1000));
    skipped = stats_.skipped_busy + stats_.skipped_budget;
  }
  const NodeCount count = count_of(r, frame->cols, frame->rows, w.health);

  // Periodic evidence keeps its own pace through a live view: the pictures taken only for
  // the view are dropped once it ends (SpoolItem::live), these never.
  const bool periodic_evidence =
      last_kept_evidence_ms_ < 0 ||
      t - last_kept_evidence_ms_ >= static_cast<std::int64_t>(config_.evidence_interval_s * 1000);
  if (roll_call || live || periodic_evidence) {
    SpoolItem item;
    item.kind = "evidence";
    item.capture_time_ms = t;
    item.roll_call = roll_call;
    item.live = !roll_call && !periodic_evidence;
    item.body = f.jpeg;
    item.meta = count.to_json();
    emit_(std::move(item));
    if (roll_call || periodic_evidence) last_kept_evidence_ms_ = t;
    std::lock_guard lock(mu_);
    last_evidence_ms_ = t;
    ++stats_.evidence;
  }

  if (last_report_ms_ < 0 ||
      t - last_report_ms_ >= static_cast<std::int64_t>(config_.report_interval_s * 1000)) {
    const double span_s = last_report_ms_ < 0 ? 0 : (t - last_report_ms_) / 1000.0;
    const double elapsed_ms = static_cast<double>(steady_ms() - report_steady_ms_);
    NodeCount report = count;
    report.frames_counted = looks_since_report_;
    report.frames_skipped = skipped - skipped_at_report_;
    report.rate_hz = span_s > 0 ? looks_since_report_ / span_s : 0;
    report.detector_ms = median_of(detect_ms_);
    SpoolItem item;
    item.kind = "count";
    item.capture_time_ms = t;
    item.body = report.to_json();
    emit_(std::move(item));
    {
      std::lock_guard lock(mu_);
      ++stats_.counts;
      stats_.rate_hz = report.rate_hz;
      stats_.detector_ms = report.detector_ms;
      stats_.cpu_share = elapsed_ms > 0 ? busy_ms_since_report_ / elapsed_ms : 0;
    }
    last_report_ms_ = t;
    looks_since_report_ = 0;
    skipped_at_report_ = skipped;
    busy_ms_since_report_ = 0;
    report_steady_ms_ = steady_ms();
    detect_ms_.clear();
  }
}

NodeCount EdgeCounter::count_of(const OccupancyResult& r, int width, int height,
                                const std::optional<HealthScores>& health) const {
  NodeCount c;
  c.count = r.window_count;
  c.frame_count = r.frame_count;
  c.width = width;
  c.height = height;
  c.set_boxes(r.counted);
  c.model = model_.name;
  c.model_sha256 = model_.model_sha256;
  c.setup_version = window_setup_;
  c.health = health;
  return c;
}

}  // namespace att
