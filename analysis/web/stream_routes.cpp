// HttpApi's long-lived answers: Server-Sent Events of everything the LiveHub publishes, and
// a site's MJPEG live view. Each holds one worker thread while it is open and ends when the
// client goes away or the hub closes.
#include <fmt/format.h>
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "analysis/web/api_service.h"
#include "analysis/web/http_util.h"

namespace att {
namespace {

using SteadyClock = std::chrono::steady_clock;

SteadyClock::duration seconds_of(double s) {
  return std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(s));
}

// The separator of MJPEG parts (multipart/x-mixed-replace); never occurs in a part's headers.
constexpr char kMjpegBoundary[] = "attendance-live-frame";

// The route whose answers say what an event of this type says: a viewer is sent the event
// only if its role may GET that route (the route table decides). Counts and node states are
// the sites' (every role); alerts are the alerts'; anything else (roll calls, summaries, the
// final report, corrections) is the attendance record's.
const char* route_of_event(std::string_view type) {
  if (type == "count" || type == "node" || type == "reset") return "/api/v1/sites";
  if (type.starts_with("alert")) return "/api/v1/alerts";
  return "/api/v1/roll-calls";
}

}  // namespace

// Server-Sent Events: every event the hub publishes, from the moment of the request (or after
// the Last-Event-ID a reconnecting browser sends). Ends when the client goes away (a write
// fails; an idle stream writes a comment every live.keepalive_s) or the hub closes.
void ApiService::get_events(const httplib::Request& req, httplib::Response& res) {
  const auto who = session_of(auth, req, res);
  if (!who) return;
  std::optional<std::string> last_event_id;
  if (req.has_header("Last-Event-ID")) last_event_id = req.get_header_value("Last-Event-ID");
  auto subscribed = live.subscribe_events(last_event_id, who->user);
  if (!subscribed) {
    const LiveRefusal& no = subscribed.error();
    return send_error(res, no.status, no.code, no.message);
  }
  if (!records.audit(req, res, "stream", "")) return;  // the answer is in res
  std::map<std::string, bool, std::less<>> visible;    // by event type, for this viewer's role
  const unsigned role = role_bit(who->role);
  auto may_see = [this, role, visible](const std::string& type) mutable {
    auto it = visible.find(type);
    if (it == visible.end()) {
      const auto allowed = routes_->access("GET", route_of_event(type));
      it = visible.emplace(type, allowed && (*allowed & role)).first;
    }
    return it->second;
  };
  std::shared_ptr<EventSubscription> events = std::move(*subscribed);
  const auto keepalive = seconds_of(live.options().keepalive_s);
  res.set_header("Cache-Control", "no-store");
  res.set_header("X-Accel-Buffering", "no");  // a reverse proxy must pass events on at once
  res.set_chunked_content_provider(
      "text/event-stream",
      [events, keepalive, may_see, opened = false](size_t, httplib::DataSink& sink) mutable {
        std::string out;
        if (!opened) {
          // At once: the client knows it is subscribed; a browser retries 3 s after a drop.
          out = "retry: 3000\n: subscribed\n\n";
          opened = true;
        } else {
          // Returning without writing is fine: cpp-httplib checks its stop flag, calls again.
          auto batch = events->next(SteadyClock::now() + keepalive);
          if (batch.closed) return false;
          for (const LiveEvent& e : batch.events) {
            if (may_see(e.type)) out += to_sse(e);
          }
          if (out.empty()) out = ": keep-alive\n\n";
        }
        return sink.write(out.data(), out.size());
      });
}

// MJPEG live view of one site: the stored latest frame at once, then each new one, annotated.
// While open, the site's node is kept at the live interval (request_live, renewed half-way
// through each grant). An idle stream repeats its last frame every live.keepalive_s, which
// also finds a client that went away; a stream ends after live.mjpeg_max_s.
void ApiService::get_live_mjpeg(const httplib::Request& req, httplib::Response& res) {
  const std::string id = req.matches[1];
  if (!by_id.contains(id)) return send_error(res, 404, "unknown_site", "no site '" + id + "'");
  const auto who = session_of(auth, req, res);
  if (!who) return;
  // Watching before the stored frame is read: a frame stored meanwhile is not missed, and
  // the same frame (same sequence) is not sent twice.
  auto watching = live.watch_frames(id, who->user);
  if (!watching) {
    const LiveRefusal& no = watching.error();
    return send_error(res, no.status, no.code, no.message);
  }
  if (!records.audit(req, res, "stream", id)) return;

  struct Stream {
    std::unique_ptr<FrameSubscription> watch;
    std::shared_ptr<const LiveFrame> first;  // the stored latest frame, sent before any other
    std::shared_ptr<const LiveFrame> last;   // the last one sent
    SteadyClock::time_point last_sent_at;
    SteadyClock::time_point renew_at;  // when to ask the node for live frames again
    SteadyClock::time_point end;
  };
  auto stream = std::make_shared<Stream>();
  stream->watch = std::move(*watching);
  stream->end = SteadyClock::now() + seconds_of(live.options().mjpeg_max_s);
  if (auto latest = store.latest_observation(id); !latest) {
    log->error("site {}: {}", id, latest.error().message);
  } else if (*latest) {
    auto frame = stored_frame(**latest);
    if (frame) {
      stream->first = std::move(*frame);
    } else {
      log->error("site {}: stored frame {} unreadable: {}", id, (*latest)->frame_path,
                 frame.error().message);
    }
  }
  const auto renew = [this, id](Stream& s) {
    const std::int64_t until = ingest.request_live(id);
    s.renew_at = SteadyClock::now() +
                 std::chrono::milliseconds(std::max<std::int64_t>((until - clock()) / 2, 1000));
  };
  renew(*stream);
  log->debug("site {}: MJPEG live view opened", id);

  res.set_header("Cache-Control", "no-store");
  res.set_chunked_content_provider(
      std::string("multipart/x-mixed-replace; boundary=") + kMjpegBoundary,
      [this, id, stream, renew, keepalive = seconds_of(live.options().keepalive_s)](
          size_t, httplib::DataSink& sink) {
        Stream& s = *stream;
        const auto now = SteadyClock::now();
        if (now >= s.end) {  // the dashboard opens a new one
          const std::string tail = std::string("--") + kMjpegBoundary + "--\r\n";
          sink.write(tail.data(), tail.size());
          sink.done();
          return true;
        }
        if (now >= s.renew_at) renew(s);
        std::shared_ptr<const LiveFrame> frame = std::move(s.first);
        s.first.reset();
        if (!frame) {
          const auto next = s.watch->next(std::min({s.end, s.renew_at, now + keepalive}));
          if (next.closed) return false;
          frame = next.frame;
          if (frame && s.last && frame->sequence == s.last->sequence) return true;  // sent
          if (!frame) {
            // Nothing new: httplib checks its stop flag and calls again. Idle too long: the
            // same picture once more.
            if (!s.last || SteadyClock::now() < s.last_sent_at + keepalive) return true;
            frame = s.last;
          }
        }
        const Result<std::string>& jpeg = frame->annotated();
        if (!jpeg) {
          long long suppressed = 0;
          if (stream_log.allow(suppressed)) {
            log->error("site {}: frame {} cannot be shown live: {}", id, frame->sequence,
                       jpeg.error().message);
          }
          return true;
        }
        std::string part =
            fmt::format("--{}\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\n\r\n",
                        kMjpegBoundary, jpeg->size());
        part += *jpeg;
        part += "\r\n";
        s.last = std::move(frame);
        s.last_sent_at = SteadyClock::now();
        return sink.write(part.data(), part.size());
      });
}

}  // namespace att
