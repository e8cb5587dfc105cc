#include "analysis/web/live.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cassert>
#include <charconv>
#include <span>

#include "counting/jpeg.h"

namespace att {
namespace {

using nlohmann::json;

[[maybe_unused]] bool is_event_type(const std::string& type) {
  return !type.empty() &&
         std::ranges::all_of(type, [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; });
}

// One line of JSON; bytes that are not UTF-8 (a header as sent) become U+FFFD, never an
// exception on the publishing thread.
std::string one_line(const json& value) {
  return value.dump(-1, ' ', /*ensure_ascii=*/false, json::error_handler_t::replace);
}

std::optional<std::uint64_t> parse_id(const std::string& text) {
  std::uint64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

}  // namespace

std::string to_sse(const LiveEvent& e) {
  // one_line() escapes control characters: data never spans lines.
  return fmt::format("id: {}\nevent: {}\ndata: {}\n\n", e.id, e.type, e.data);
}

std::shared_ptr<const LiveFrame> LiveFrame::make(const Observation& obs,
                                                 std::shared_ptr<const std::string> jpeg) {
  auto frame = std::make_shared<LiveFrame>();
  frame->site_id = obs.site_id;
  frame->sequence = obs.sequence;
  frame->captured_at_ms = obs.captured_at_ms;
  frame->count = obs.count;
  frame->frame_count = obs.frame_count;
  frame->boxes = obs.boxes;
  frame->jpeg = std::move(jpeg);
  return frame;
}

namespace {

std::atomic<std::int64_t> pictures_drawn = 0;  // LiveFrame::annotated(), for /metrics

}  // namespace

const Result<std::string>& LiveFrame::annotated() const {
  std::call_once(drawn_, [this] {
    annotated_ = draw_counted_frame(*jpeg, boxes);
    ++pictures_drawn;
  });
  return annotated_;
}

// ----------------------------------------------------------------------------------------

EventSubscription::~EventSubscription() {
  hub_.leave(*this);
}

EventSubscription::Batch EventSubscription::next(std::chrono::steady_clock::time_point deadline) {
  return hub_.next_events(*this, deadline);
}

FrameSubscription::~FrameSubscription() {
  hub_.leave(*this);
}

FrameSubscription::Next FrameSubscription::next(std::chrono::steady_clock::time_point deadline) {
  return hub_.next_frame(*this, deadline);
}

// ----------------------------------------------------------------------------------------

LiveHub::LiveHub(LiveOptions options, std::uint64_t first_id)
    : options_(options), last_id_(first_id) {
  assert(options_.event_history > 0 && options_.event_queue > 0);
}

std::uint64_t LiveHub::publish_locked(const std::string& type, std::string data) {
  auto event = std::make_shared<const LiveEvent>(LiveEvent{++last_id_, type, std::move(data)});
  history_.push_back(event);
  while (history_.size() > static_cast<size_t>(options_.event_history)) history_.pop_front();
  ++counters_.published[type];
  std::int64_t dropped_now = 0;
  for (EventSubscription* sub : event_clients_) {
    if (sub->pending_.size() >= static_cast<size_t>(options_.event_queue)) {
      sub->pending_.pop_front();  // the oldest goes; the client is told to reload
      ++sub->lost_;
      ++dropped_now;
    }
    sub->pending_.push_back(event);
    sub->wake_.notify_one();
  }
  if (dropped_now > 0) {
    counters_.events_dropped += dropped_now;
    long long suppressed = 0;
    if (drop_log_.allow(suppressed)) {
      log::get("live")->warn(
          "{} event client(s) too slow to keep up: oldest events dropped, a reset follows{}",
          dropped_now, suppressed ? " (+" + std::to_string(suppressed) + " more)" : "");
    }
  }
  return event->id;
}

void LiveHub::frame_stored(const Observation& obs, const std::string& jpeg) {
  bool watched = false;
  {
    std::lock_guard lock(mu_);
    watched = mjpeg_clients_.contains(obs.site_id);
  }
  // Copied outside the lock, and only for a site someone watches (a node's count without a
  // picture has nothing to show).
  std::shared_ptr<const LiveFrame> frame;
  if (watched && !jpeg.empty())
    frame = LiveFrame::make(obs, std::make_shared<const std::string>(jpeg));

  std::unique_lock lock(mu_);
  if (frame) {
    auto [first, last] = mjpeg_clients_.equal_range(obs.site_id);
    for (auto it = first; it != last; ++it) {
      FrameSubscription* sub = it->second;
      if (sub->pending_) ++counters_.mjpeg_frames_skipped;
      sub->pending_ = frame;
      sub->wake_.notify_one();
    }
  }
  // Against the latest frame by capture time, as /api/v1/sites shows it: a frame that
  // arrives after a newer one (two uploads racing, a late retry) changes nothing.
  auto [it, first_frame] =
      last_count_.try_emplace(obs.site_id, Latest<int>{obs.count, obs.captured_at_ms});
  if (!first_frame) {
    if (obs.captured_at_ms < it->second.captured_at_ms) return;
    it->second.captured_at_ms = obs.captured_at_ms;
    if (it->second.value == obs.count) return;
  }
  it->second.value = obs.count;
  std::string data = one_line(json{{"site_id", obs.site_id},
                                   {"count", obs.count},
                                   {"frame_count", obs.frame_count},
                                   {"sequence", obs.sequence},
                                   {"captured_at_ms", obs.captured_at_ms},
                                   {"received_at_ms", obs.received_at_ms}});
  publish_locked("count", data);
  lock.unlock();
  if (forward_) forward_("count", data);
}

void LiveHub::heartbeat_stored(const Heartbeat& h, const NodeReport& report) {
  if (!report.state) return;
  const std::string state(to_string(*report.state));
  std::unique_lock lock(mu_);
  auto [it, first] =
      last_state_.try_emplace(h.site_id, Latest<std::string>{state, h.captured_at_ms});
  if (!first) {
    if (h.captured_at_ms < it->second.captured_at_ms) return;  // a late one: not the latest
    it->second.captured_at_ms = h.captured_at_ms;
    if (it->second.value == state) return;
  }
  const json previous = first ? json(nullptr) : json(it->second.value);
  it->second.value = state;
  std::string data = one_line(json{{"site_id", h.site_id},
                                   {"state", state},
                                   {"previous_state", previous},
                                   {"sequence", h.sequence},
                                   {"reported_at_ms", h.captured_at_ms},
                                   {"received_at_ms", h.received_at_ms}});
  publish_locked("node", data);
  lock.unlock();
  if (forward_) forward_("node", data);
}

std::uint64_t LiveHub::publish(const std::string& type, const nlohmann::json& data) {
  assert(is_event_type(type) && "event types are lowercase words");
  std::string text = one_line(data);
  std::unique_lock lock(mu_);
  const std::uint64_t id = publish_locked(type, text);
  lock.unlock();
  if (forward_) forward_(type, text);
  return id;
}

void LiveHub::forward_to(Forward forward) {
  forward_ = std::move(forward);
}

void LiveHub::publish_from_peer(const std::string& type, std::string data) {
  if (!is_event_type(type)) return;  // not one of ours: dropped
  std::lock_guard lock(mu_);
  publish_locked(type, std::move(data));
}

void LiveHub::missed_peer_events() {
  std::lock_guard lock(mu_);
  const std::uint64_t id = ++last_id_;
  history_.clear();  // a resume from before `id` would miss what never reached this hub
  for (EventSubscription* sub : event_clients_) {
    sub->pending_.clear();  // what it had not taken yet is older than the reset
    sub->lost_ = 0;
    sub->resume_reset_ = LiveEvent{id, "reset", one_line({{"reason", "missed"}})};
    ++counters_.resets["missed"];
    sub->wake_.notify_one();
  }
}

LiveRefusal LiveHub::refuse(const std::string& stream, int limit) {
  ++counters_.refused[stream];
  long long suppressed = 0;
  if (refuse_log_.allow(suppressed)) {
    log::get("live")->warn("{} client refused: {} already open (live.max_{}_clients){}", stream,
                           limit, stream == "events" ? "event" : stream,
                           suppressed ? " (+" + std::to_string(suppressed) + " more)" : "");
  }
  return {"too_many_clients", fmt::format("{} {} streams are open already, the most this server "
                                          "allows; try again later",
                                          limit, stream == "events" ? "event" : "MJPEG")};
}

std::optional<LiveRefusal> LiveHub::refuse_viewer(const std::string& viewer) {
  int open = 0;
  for (const EventSubscription* sub : event_clients_) open += sub->viewer_ == viewer;
  for (const auto& [site, sub] : mjpeg_clients_) open += sub->viewer_ == viewer;
  if (open < options_.max_streams_per_viewer) return std::nullopt;
  ++counters_.refused["per_viewer"];
  return LiveRefusal{"too_many_streams",
                     fmt::format("{} streams of yours are open already (live.max_streams_per_"
                                 "viewer); close one first",
                                 open),
                     429};
}

std::expected<std::unique_ptr<EventSubscription>, LiveRefusal> LiveHub::subscribe_events(
    const std::optional<std::string>& last_event_id, const std::string& viewer) {
  std::lock_guard lock(mu_);
  if (closed_) return std::unexpected(LiveRefusal{"shutting_down", "the service is stopping"});
  if (event_clients_.size() >= static_cast<size_t>(options_.max_event_clients)) {
    return std::unexpected(refuse("events", options_.max_event_clients));
  }
  if (auto refused = refuse_viewer(viewer)) return std::unexpected(std::move(*refused));
  std::unique_ptr<EventSubscription> sub(new EventSubscription(*this, viewer));
  if (last_event_id) {
    const auto last = parse_id(*last_event_id);
    const std::uint64_t oldest = history_.empty() ? last_id_ + 1 : history_.front()->id;
    std::string reason;
    if (!last || *last > last_id_) {
      reason = "unknown_id";  // not an id of this run of the service
    } else if (*last + 1 < oldest ||
               last_id_ - *last > static_cast<std::uint64_t>(options_.event_queue)) {
      reason = "too_old";  // what it missed is no longer kept, or would not fit its queue
    }
    if (reason.empty()) {
      for (const auto& event : history_) {
        if (event->id > *last) sub->pending_.push_back(event);
      }
    } else {
      ++counters_.resets[reason];
      sub->resume_reset_ = LiveEvent{
          last_id_, "reset",
          one_line({{"reason", reason}, {"last_event_id", last_event_id->substr(0, 64)}})};
    }
  }
  event_clients_.push_back(sub.get());
  return sub;
}

std::expected<std::unique_ptr<FrameSubscription>, LiveRefusal> LiveHub::watch_frames(
    const std::string& site_id, const std::string& viewer) {
  std::lock_guard lock(mu_);
  if (closed_) return std::unexpected(LiveRefusal{"shutting_down", "the service is stopping"});
  if (mjpeg_clients_.size() >= static_cast<size_t>(options_.max_mjpeg_clients)) {
    return std::unexpected(refuse("mjpeg", options_.max_mjpeg_clients));
  }
  if (auto refused = refuse_viewer(viewer)) return std::unexpected(std::move(*refused));
  std::unique_ptr<FrameSubscription> sub(new FrameSubscription(*this, site_id, viewer));
  mjpeg_clients_.emplace(site_id, sub.get());
  return sub;
}

EventSubscription::Batch LiveHub::next_events(EventSubscription& sub,
                                              std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mu_);
  sub.wake_.wait_until(lock, deadline, [&] {
    return closed_ || !sub.pending_.empty() || sub.resume_reset_.has_value();
  });
  EventSubscription::Batch batch;
  if (closed_) {
    batch.closed = true;
    return batch;
  }
  if (sub.resume_reset_) {
    batch.events.push_back(std::move(*sub.resume_reset_));
    sub.resume_reset_.reset();
  }
  if (sub.lost_ > 0) {
    // Its id is the cursor just before the events still queued: a client that reloads and
    // then reconnects with it misses nothing more.
    const std::uint64_t cursor = sub.pending_.empty() ? last_id_ : sub.pending_.front()->id - 1;
    batch.events.push_back(
        LiveEvent{cursor, "reset", one_line({{"reason", "too_slow"}, {"dropped", sub.lost_}})});
    ++counters_.resets["too_slow"];
    sub.lost_ = 0;
  }
  for (const auto& event : sub.pending_) batch.events.push_back(*event);
  sub.pending_.clear();
  return batch;
}

FrameSubscription::Next LiveHub::next_frame(FrameSubscription& sub,
                                            std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mu_);
  sub.wake_.wait_until(lock, deadline, [&] { return closed_ || sub.pending_ != nullptr; });
  FrameSubscription::Next next;
  next.closed = closed_;
  if (!closed_) next.frame = std::move(sub.pending_);
  sub.pending_.reset();
  return next;
}

void LiveHub::leave(EventSubscription& sub) {
  std::lock_guard lock(mu_);
  std::erase(event_clients_, &sub);
}

void LiveHub::leave(FrameSubscription& sub) {
  std::lock_guard lock(mu_);
  auto [first, last] = mjpeg_clients_.equal_range(sub.site_id_);
  for (auto it = first; it != last; ++it) {
    if (it->second == &sub) {
      mjpeg_clients_.erase(it);
      break;
    }
  }
}

void LiveHub::close() {
  std::lock_guard lock(mu_);
  closed_ = true;
  for (EventSubscription* sub : event_clients_) sub->wake_.notify_all();
  for (auto& [site, sub] : mjpeg_clients_) sub->wake_.notify_all();
}

std::uint64_t LiveHub::last_id() const {
  std::lock_guard lock(mu_);
  return last_id_;
}

LiveStats LiveHub::stats() const {
  std::lock_guard lock(mu_);
  LiveStats s = counters_;
  s.event_clients = static_cast<int>(event_clients_.size());
  s.mjpeg_clients = static_cast<int>(mjpeg_clients_.size());
  return s;
}

std::string LiveHub::render_metrics() const {
  LiveStats s = stats();
  // The types the dashboard listens for are always listed, at 0 before the first one.
  for (const char* type : {"count", "node", "alert"}) s.published.try_emplace(type, 0);
  for (const char* stream : {"events", "mjpeg", "per_viewer"}) s.refused.try_emplace(stream, 0);
  for (const char* reason : {"too_slow", "too_old", "unknown_id", "missed"}) {
    s.resets.try_emplace(reason, 0);
  }
  std::string out;
  out += "# HELP attendance_live_clients Open live streams, by kind.\n";
  out += "# TYPE attendance_live_clients gauge\n";
  out += fmt::format("attendance_live_clients{{stream=\"events\"}} {}\n", s.event_clients);
  out += fmt::format("attendance_live_clients{{stream=\"mjpeg\"}} {}\n", s.mjpeg_clients);
  out += "# HELP attendance_live_client_limit Live streams allowed at once, by kind.\n";
  out += "# TYPE attendance_live_client_limit gauge\n";
  out += fmt::format("attendance_live_client_limit{{stream=\"events\"}} {}\n",
                     options_.max_event_clients);
  out += fmt::format("attendance_live_client_limit{{stream=\"mjpeg\"}} {}\n",
                     options_.max_mjpeg_clients);
  out +=
      "# HELP attendance_live_refusals_total Live streams refused (too many clients, or too many "
      "for one viewer).\n";
  out += "# TYPE attendance_live_refusals_total counter\n";
  for (const auto& [stream, n] : s.refused) {
    out += fmt::format("attendance_live_refusals_total{{stream=\"{}\"}} {}\n", stream, n);
  }
  out += "# HELP attendance_events_published_total Live events published, by type.\n";
  out += "# TYPE attendance_events_published_total counter\n";
  for (const auto& [type, n] : s.published) {
    out += fmt::format("attendance_events_published_total{{type=\"{}\"}} {}\n", type, n);
  }
  out +=
      "# HELP attendance_events_dropped_total Events lost by clients too slow to keep up "
      "(each then gets a reset).\n";
  out += "# TYPE attendance_events_dropped_total counter\n";
  out += fmt::format("attendance_events_dropped_total {}\n", s.events_dropped);
  out += "# HELP attendance_events_resets_total Reset events sent to clients, by reason.\n";
  out += "# TYPE attendance_events_resets_total counter\n";
  for (const auto& [reason, n] : s.resets) {
    out += fmt::format("attendance_events_resets_total{{reason=\"{}\"}} {}\n", reason, n);
  }
  out +=
      "# HELP attendance_mjpeg_frames_skipped_total Frames replaced by a newer one before an "
      "MJPEG client took them.\n";
  out += "# TYPE attendance_mjpeg_frames_skipped_total counter\n";
  out += fmt::format("attendance_mjpeg_frames_skipped_total {}\n", s.mjpeg_frames_skipped);
  out +=
      "# HELP attendance_pictures_drawn_total Frames annotated for the live view and latest.jpg "
      "(each drawn once, however often it is shown).\n";
  out += "# TYPE attendance_pictures_drawn_total counter\n";
  out += fmt::format("attendance_pictures_drawn_total {}\n", pictures_drawn.load());
  return out;
}

}  // namespace att
