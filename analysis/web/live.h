// Live outputs: what the dashboard is pushed while it is open. Ingest feeds the hub after it
// stores a frame or a heartbeat; the HTTP API drains it into Server-Sent Events
// (GET /api/v1/events) and into MJPEG streams of one site (GET /api/v1/sites/{id}/live.mjpeg).
//
// Events: `count` when a site's reported count changes (and on its first frame), `node` when
// its node's reported state (ok, no_frames, stopping, finished) changes, and whatever
// publish() is given: the attendance issue publishes `alert` events through it. Every event
// gets the next id; the last `event_history` events are kept so that a client reconnecting
// with Last-Event-ID receives exactly what it missed, or a `reset` (reload your state) when
// that is no longer possible.
//
// Every queue is bounded and every drop counted (render_metrics):
// - each event client has a queue of `event_queue` events; a client too slow to drain it
//   loses the oldest (attendance_events_dropped_total) and is sent a `reset` before the rest;
// - each MJPEG client holds one frame: a newer frame replaces one it has not taken yet
//   (attendance_mjpeg_frames_skipped_total);
// - at most max_event_clients and max_mjpeg_clients subscribe at once; one more is refused
//   (too_many_clients) and counted; one viewer (a user) holds at most max_streams_per_viewer
//   of them together, so that one session cannot take them all (too_many_streams).
// The hub keeps no frames of its own: a frame is copied only for sites someone watches, so
// memory is bounded by the MJPEG client limit.
//
// Thread-safety: every LiveHub member may be called from any thread. A subscription belongs
// to one thread (an HTTP worker) and must not outlive its hub.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "analysis/domain/event_sink.h"
#include "analysis/domain/ingest_listener.h"
#include "analysis/domain/store.h"
#include "common/box.h"
#include "common/error.h"
#include "common/log.h"

namespace att {

// Bounds of the live outputs (server.yaml "live:").
struct LiveOptions {
  int max_event_clients = 32;      // open /api/v1/events streams; one more gets 503
  int max_mjpeg_clients = 8;       // open live.mjpeg streams (each costs its site a fast node)
  int max_streams_per_viewer = 4;  // of both, open for one user at once; one more gets 429
  int event_history = 1024;        // events kept for clients resuming with Last-Event-ID
  int event_queue = 256;           // events waiting for one client; beyond it the oldest go
  double keepalive_s = 15;   // an idle stream sends a comment (SSE) or the frame again (MJPEG)
  double mjpeg_max_s = 600;  // one MJPEG stream's longest life; the dashboard reopens it
};

struct LiveEvent {
  std::uint64_t id = 0;
  std::string type;  // count, node, alert, reset, ...
  std::string data;  // JSON on one line
};

// "id: 17\nevent: count\ndata: {...}\n\n"
std::string to_sse(const LiveEvent& event);

// A stored frame of one site as live view shows it. Shared, immutable, apart from the
// annotated picture that is drawn once, by whichever thread asks first.
struct LiveFrame {
  std::string site_id;
  std::int64_t sequence = 0;
  std::int64_t captured_at_ms = 0;
  int count = 0;        // the reported count
  int frame_count = 0;  // counted in this frame alone
  std::vector<Box> boxes;
  std::shared_ptr<const std::string> jpeg;  // the bytes as received

  static std::shared_ptr<const LiveFrame> make(const Observation& obs,
                                               std::shared_ptr<const std::string> jpeg);
  // The frame with its counted boxes and "count (N in this frame)" drawn, as JPEG; an error
  // when the stored bytes do not decode.
  const Result<std::string>& annotated() const;

 private:
  mutable std::once_flag drawn_;
  mutable Result<std::string> annotated_;
};

// Why a subscription was refused (both are 503 for the HTTP client).
struct LiveRefusal {
  std::string code;  // too_many_clients, too_many_streams, shutting_down
  std::string message;
  int status = 503;  // the HTTP answer: 503, or 429 for too_many_streams
};

class LiveHub;

// One event client. Its single user waits in next(); the destructor leaves the hub.
class EventSubscription {
 public:
  ~EventSubscription();
  EventSubscription(const EventSubscription&) = delete;
  EventSubscription& operator=(const EventSubscription&) = delete;

  struct Batch {
    bool closed = false;  // the hub is closed (the service stops): end the stream
    std::vector<LiveEvent> events;
  };
  // Waits until events are pending, the hub closes or `deadline` passes (then the batch is
  // empty). A client that fell behind, or resumed too late, gets a `reset` first.
  Batch next(std::chrono::steady_clock::time_point deadline);

 private:
  friend class LiveHub;
  EventSubscription(LiveHub& hub, std::string viewer) : hub_(hub), viewer_(std::move(viewer)) {}

  LiveHub& hub_;
  const std::string viewer_;
  std::condition_variable wake_;
  std::deque<std::shared_ptr<const LiveEvent>> pending_;  // guarded by hub_.mu_
  std::int64_t lost_ = 0;                  // guarded by hub_.mu_; since the last reset
  std::optional<LiveEvent> resume_reset_;  // guarded by hub_.mu_
};

// One MJPEG client of one site: the latest frame it has not taken yet.
class FrameSubscription {
 public:
  ~FrameSubscription();
  FrameSubscription(const FrameSubscription&) = delete;
  FrameSubscription& operator=(const FrameSubscription&) = delete;

  struct Next {
    bool closed = false;                     // the hub is closed: end the stream
    std::shared_ptr<const LiveFrame> frame;  // null when `deadline` passed first
  };
  Next next(std::chrono::steady_clock::time_point deadline);
  const std::string& site_id() const { return site_id_; }

 private:
  friend class LiveHub;
  FrameSubscription(LiveHub& hub, std::string site_id, std::string viewer)
      : hub_(hub), site_id_(std::move(site_id)), viewer_(std::move(viewer)) {}

  LiveHub& hub_;
  const std::string site_id_;
  const std::string viewer_;
  std::condition_variable wake_;
  std::shared_ptr<const LiveFrame> pending_;  // guarded by hub_.mu_
};

struct LiveStats {
  int event_clients = 0;
  int mjpeg_clients = 0;
  std::map<std::string, std::int64_t> published;  // by event type
  std::int64_t events_dropped = 0;                // lost by clients too slow to keep up
  std::map<std::string, std::int64_t> resets;     // by reason: too_slow, too_old,
                                                  // unknown_id, missed
  std::map<std::string, std::int64_t> refused;    // by stream: events, mjpeg
  std::int64_t mjpeg_frames_skipped = 0;          // replaced before their client took them
};

class LiveHub final : public IngestListener, public EventSink {
 public:
  // Ids start after `first_id`. The service passes its start time in microseconds, so that
  // the ids of a restarted service are above those it gave before: a browser resuming across
  // a restart gets a `reset` rather than a wrong resume.
  explicit LiveHub(LiveOptions options, std::uint64_t first_id = 0);
  LiveHub(const LiveHub&) = delete;
  LiveHub& operator=(const LiveHub&) = delete;

  // --- Fed by Ingest, after the row is inserted (never for a duplicate) ---
  // The frame goes to the site's MJPEG clients; a `count` event when the site's count differs
  // from the last one published for it (or it is the site's first): site_id, count,
  // frame_count, sequence, captured_at_ms, received_at_ms. A frame captured before the last
  // one seen of its site publishes nothing (the latest is the latest by capture time).
  void frame_stored(const Observation& obs, const std::string& jpeg) override;
  // A `node` event when the report's "state" differs from the site's last one: site_id, state,
  // previous_state (null the first time), sequence, reported_at_ms, received_at_ms. A report
  // without a state, or written before the site's last one, publishes nothing.
  void heartbeat_stored(const Heartbeat& heartbeat, const NodeReport& report) override;
  // Any other event (the attendance issue's `alert`): `type` is a lowercase word
  // ([a-z_]+), `data` a JSON value. Returns the event's id.
  std::uint64_t publish(const std::string& type, const nlohmann::json& data) override;

  // --- A service of several processes (analysis/store/pg_cluster.h) ---
  // Every event this hub makes (count, node, and what publish() is given) is also given to
  // `forward`, outside the hub's lock, for the other processes. Set before the hub is fed.
  using Forward = std::function<void(const std::string& type, const std::string& data)>;
  void forward_to(Forward forward);
  // An event another process made (`data`: its JSON line), to this hub's clients under this
  // hub's next id; forwarded nowhere. A type that is not a lowercase word is dropped.
  void publish_from_peer(const std::string& type, std::string data);
  // Events of the other processes were lost (this one could not hear them for a while):
  // every client is sent a `reset` (reason `missed`: reload your state) under a new id, and
  // a later resume from before it gets a reset too, as what it missed is not all here.
  void missed_peer_events();

  // --- Subscribers ---
  // `last_event_id`: the Last-Event-ID header of a reconnecting client; the events after it
  // are queued at once (or a reset when they are gone). `viewer`: who watches (a user name),
  // for the limit per viewer.
  std::expected<std::unique_ptr<EventSubscription>, LiveRefusal> subscribe_events(
      const std::optional<std::string>& last_event_id, const std::string& viewer);
  std::expected<std::unique_ptr<FrameSubscription>, LiveRefusal> watch_frames(
      const std::string& site_id, const std::string& viewer);

  // Wakes every waiting subscriber with `closed` and refuses new ones: the HTTP server can
  // then stop without waiting on open streams. Idempotent.
  void close();

  const LiveOptions& options() const { return options_; }
  std::uint64_t last_id() const;
  LiveStats stats() const;
  // Prometheus text: clients and limits, events published by type, drops, resets, refusals.
  std::string render_metrics() const;

 private:
  friend class EventSubscription;
  friend class FrameSubscription;
  std::uint64_t publish_locked(const std::string& type, std::string data);
  EventSubscription::Batch next_events(EventSubscription& sub,
                                       std::chrono::steady_clock::time_point deadline);
  FrameSubscription::Next next_frame(FrameSubscription& sub,
                                     std::chrono::steady_clock::time_point deadline);
  void leave(EventSubscription& sub);
  void leave(FrameSubscription& sub);
  LiveRefusal refuse(const std::string& stream, int limit);
  // A refusal when `viewer` holds max_streams_per_viewer streams already. Caller holds mu_.
  std::optional<LiveRefusal> refuse_viewer(const std::string& viewer);

  const LiveOptions options_;
  mutable std::mutex mu_;
  bool closed_ = false;                                           // guarded by mu_
  std::uint64_t last_id_;                                         // guarded by mu_
  std::deque<std::shared_ptr<const LiveEvent>> history_;          // guarded by mu_; oldest first
  std::vector<EventSubscription*> event_clients_;                 // guarded by mu_
  std::multimap<std::string, FrameSubscription*> mjpeg_clients_;  // guarded by mu_; by site
  template <class T>
  struct Latest {  // what was last published for a site, and the capture time it was of
    T value;
    std::int64_t captured_at_ms = 0;
  };
  std::map<std::string, Latest<int>> last_count_;          // guarded by mu_; by site
  std::map<std::string, Latest<std::string>> last_state_;  // guarded by mu_; by site
  LiveStats counters_;  // guarded by mu_ (its client numbers are filled in by stats())
  log::RateLimit drop_log_{std::chrono::seconds(10)};
  log::RateLimit refuse_log_{std::chrono::seconds(10)};
  Forward forward_;  // set before the hub is fed
};

}  // namespace att
