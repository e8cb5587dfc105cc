#include "capture/camera.h"

#include <gst/app/gstappsink.h>
#include <gst/gst.h>

#include <atomic>
#include <cctype>
#include <mutex>
#include <thread>

#include "common/backoff.h"
#include "common/log.h"
#include "counting/sampler.h"

#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#endif

namespace att {
namespace {

// GStreamer hands a pipeline to its streaming threads when it starts, and takes it back when
// set to NULL, through GLib's futexes and atomics: real ordering that ThreadSanitizer cannot
// see (GLib is not instrumented). These tell it, in the tsan build only (tests/tsan.supp).
// `what` is only a tag: the address of a field no atomic operation touches.
#if defined(__SANITIZE_THREAD__)
void handed_over(void* what) {
  __tsan_release(what);
}
void taken_over(void* what) {
  __tsan_acquire(what);
}
#else
void handed_over(void*) {}
void taken_over(void*) {}
#endif

// Owning pointers for GStreamer objects: each adopts one reference and drops it once.
struct GstObjectUnref {
  void operator()(gpointer p) const { gst_object_unref(p); }
};
using ElementPtr = std::unique_ptr<GstElement, GstObjectUnref>;
using BusPtr = std::unique_ptr<GstBus, GstObjectUnref>;
struct MessageUnref {
  void operator()(GstMessage* m) const { gst_message_unref(m); }
};
using MessagePtr = std::unique_ptr<GstMessage, MessageUnref>;
struct SampleUnref {
  void operator()(GstSample* s) const { gst_sample_unref(s); }
};
using SamplePtr = std::unique_ptr<GstSample, SampleUnref>;

bool safe_token(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.' &&
        c != '/') {
      return false;
    }
  }
  return true;
}

struct ParsedSource {
  std::string head;  // gst-launch text for the source part, ending in an element named "src"
  std::string uri;   // set as the "uri" property of src when not empty
};

// The source URI as logs may show it: without a password (rtsp://user:pass@host/...).
std::string shown_uri(const std::string& uri) {
  const auto scheme_end = uri.find("://");
  if (scheme_end == std::string::npos) return uri;
  const auto host_start = scheme_end + 3;
  const auto at = uri.find('@', host_start);
  const auto slash = uri.find('/', host_start);
  if (at == std::string::npos || (slash != std::string::npos && at > slash)) return uri;
  return uri.substr(0, host_start) + "***@" + uri.substr(at + 1);
}

Result<ParsedSource> parse_source(const std::string& uri) {
  const auto scheme_end = uri.find("://");
  if (uri.empty()) return fail("empty source URI");
  if (uri.starts_with("gst:") && scheme_end != 3) {  // gst:<launch text>, not gst://
    if (uri.size() == 4) return fail("gst: needs a GStreamer source description after it");
    return ParsedSource{uri.substr(4) + " ! identity name=src", ""};
  }
  if (scheme_end == std::string::npos) {  // a plain file path
    GError* err = nullptr;
    gchar* file_uri = gst_filename_to_uri(uri.c_str(), &err);
    if (!file_uri) {
      std::string msg = err ? err->message : "bad path";
      g_clear_error(&err);
      return fail("cannot use '" + uri + "' as a file: " + msg);
    }
    ParsedSource p{"uridecodebin name=src", file_uri};
    g_free(file_uri);
    return p;
  }
  const std::string scheme = uri.substr(0, scheme_end);
  const std::string rest = uri.substr(scheme_end + 3);
  if (scheme == "videotestsrc") {
    std::string head = "videotestsrc name=src is-live=true";
    const auto q = rest.find('?');
    if (q != std::string::npos) {
      std::string query = rest.substr(q + 1);
      size_t start = 0;
      while (start <= query.size()) {
        const auto amp = query.find('&', start);
        const std::string kv =
            query.substr(start, amp == std::string::npos ? std::string::npos : amp - start);
        const auto eq = kv.find('=');
        if (eq == std::string::npos || !safe_token(kv.substr(0, eq)) ||
            !safe_token(kv.substr(eq + 1))) {
          return fail("videotestsrc option '" + kv + "' must be name=value");
        }
        head += " " + kv;
        if (amp == std::string::npos) break;
        start = amp + 1;
      }
    }
    return ParsedSource{head, ""};
  }
  if (scheme == "v4l2") {
    const std::string device = rest.empty() ? "/dev/video0" : rest;
    if (!safe_token(device)) return fail("bad v4l2 device path '" + device + "'");
    return ParsedSource{"v4l2src name=src device=" + device + " ! decodebin", ""};
  }
  if (scheme == "rtsp" || scheme == "rtsps" || scheme == "file" || scheme == "http" ||
      scheme == "https") {
    return ParsedSource{"uridecodebin name=src", uri};
  }
  return fail("unsupported source scheme '" + scheme +
              "' (use rtsp://, file://, v4l2://, videotestsrc://, gst:<pipeline> or a file path)");
}

Result<std::string> describe(const SourceOptions& o, ParsedSource* parsed_out) {
  auto parsed = parse_source(o.uri);
  if (!parsed) return std::unexpected(parsed.error());
  if (o.sample_interval_s <= 0) return fail("sample interval must be positive");
  std::string caps = "video/x-raw,format=I420";
  if (o.width > 0) caps += ",width=" + std::to_string(o.width) + ",pixel-aspect-ratio=1/1";
  const std::string sync = o.realtime ? "true" : "false";
  // "sampler" carries the probe that keeps one frame per interval (see keep_sample).
  std::string text = parsed->head + " ! identity name=sampler ! videoconvert ! videoscale ! " +
                     caps + " ! jpegenc quality=" + std::to_string(o.jpeg_quality) +
                     " ! appsink name=sink max-buffers=2 drop=" + sync + " sync=" + sync;
  // (The appsink's callback empties it at once; max-buffers only bounds a stalled callback.)
  if (parsed_out) *parsed_out = *parsed;
  return text;
}

std::int64_t wall_ms() {
  return g_get_real_time() / 1000;
}
std::int64_t steady_ms() {
  return g_get_monotonic_time() / 1000;
}

}  // namespace

struct Camera::Impl {
  const CameraOptions options;
  FrameQueue& queue;
  std::shared_ptr<spdlog::logger> log = log::get("camera");

  std::thread thread;
  GMainContext* context = nullptr;  // the camera thread's own
  GMainLoop* loop = nullptr;
  Backoff backoff;  // guarded by status_mu

  // Camera thread only.
  ElementPtr pipeline;
  GSource* bus_watch = nullptr;
  GSource* retry_timer = nullptr;
  std::int64_t start_wall_ms = 0;

  // Shared with the streaming threads and callers.
  std::atomic<GstClockTime> interval;
  std::atomic<std::int64_t> last_buffer_steady_ms{0};  // any buffer at the sampler
  std::atomic<bool> tearing_down{false};  // wakes a streaming thread waiting for queue room
  SampleClock sample_clock;               // streaming thread only, reset per pipeline
  mutable std::mutex status_mu;
  CameraStatus status;  // guarded by status_mu

  Impl(CameraOptions o, FrameQueue& q)
      : options(std::move(o)),
        queue(q),
        backoff(std::chrono::milliseconds(static_cast<long long>(options.max_backoff_s * 1000))),
        interval(static_cast<GstClockTime>(options.source.sample_interval_s * GST_SECOND)) {
    status.interval_s = options.source.sample_interval_s;
  }

  void run();
  void build();
  void teardown();
  void ended(const std::string& why, bool end_of_stream);
  void schedule_build(std::chrono::milliseconds delay);
  void check_stall();
  static void source_setup(GstElement* bin, GstElement* source, gpointer data);

  // A probe or appsink callback: it runs between build() and teardown(), on a streaming
  // thread (see handed_over()).
  struct OnStreamingThread {
    explicit OnStreamingThread(Impl* i) : impl(i) { taken_over(&impl->sample_clock); }
    ~OnStreamingThread() { handed_over(&impl->pipeline); }
    Impl* impl;
  };
  static GstPadProbeReturn keep_sample(GstPad*, GstPadProbeInfo* info, gpointer data);
  static GstFlowReturn new_sample(GstAppSink* sink, gpointer data);
  static gboolean on_bus(GstBus*, GstMessage* msg, gpointer data);
};

void Camera::Impl::run() {
  g_main_context_push_thread_default(context);
  schedule_build(std::chrono::milliseconds(0));
  GSource* watchdog = g_timeout_source_new(1000);
  g_source_set_callback(
      watchdog,
      [](gpointer data) -> gboolean {
        static_cast<Impl*>(data)->check_stall();
        return G_SOURCE_CONTINUE;
      },
      this, nullptr);
  g_source_attach(watchdog, context);
  g_main_loop_run(loop);
  g_source_destroy(watchdog);
  g_source_unref(watchdog);
  if (retry_timer) {
    g_source_destroy(retry_timer);
    g_source_unref(retry_timer);
    retry_timer = nullptr;
  }
  teardown();
  g_main_context_pop_thread_default(context);
}

void Camera::Impl::schedule_build(std::chrono::milliseconds delay) {
  if (retry_timer) {
    g_source_destroy(retry_timer);
    g_source_unref(retry_timer);
  }
  retry_timer = g_timeout_source_new(static_cast<guint>(delay.count()));
  g_source_set_callback(
      retry_timer,
      [](gpointer data) -> gboolean {
        auto* self = static_cast<Impl*>(data);
        g_source_unref(self->retry_timer);
        self->retry_timer = nullptr;
        self->build();
        return G_SOURCE_REMOVE;
      },
      this, nullptr);
  g_source_attach(retry_timer, context);
}

void Camera::Impl::build() {
  ParsedSource parsed;
  auto text = describe(options.source, &parsed);
  if (!text) return ended(text.error().message, false);
  GError* err = nullptr;
  GstElement* raw = gst_parse_launch(text->c_str(), &err);
  if (raw) gst_object_ref_sink(raw);  // adopt the floating reference
  ElementPtr built(raw);
  if (err || !built) {  // err is set even when a partial pipeline came back
    const std::string msg = err ? err->message : "unknown error";
    g_clear_error(&err);
    return ended("cannot build pipeline '" + *text + "': " + msg, false);
  }
  ElementPtr src(gst_bin_get_by_name(GST_BIN(built.get()), "src"));
  ElementPtr sampler(gst_bin_get_by_name(GST_BIN(built.get()), "sampler"));
  ElementPtr sink(gst_bin_get_by_name(GST_BIN(built.get()), "sink"));
  if (!src || !sampler || !sink) return ended("pipeline lacks its src, sampler or sink", false);
  if (!parsed.uri.empty()) {
    g_object_set(src.get(), "uri", parsed.uri.c_str(), nullptr);
    // Only the video stream: audio is never decoded, and never blocks the pipeline.
    GstCaps* video = gst_caps_from_string("video/x-raw(ANY)");
    g_object_set(src.get(), "caps", video, "expose-all-streams", FALSE, nullptr);
    gst_caps_unref(video);
    g_signal_connect(src.get(), "source-setup", G_CALLBACK(&Impl::source_setup), nullptr);
  }
  GstPad* pad = gst_element_get_static_pad(sampler.get(), "sink");
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, &Impl::keep_sample, this, nullptr);
  gst_object_unref(pad);
  GstAppSinkCallbacks callbacks{};
  callbacks.new_sample = &Impl::new_sample;
  gst_app_sink_set_callbacks(GST_APP_SINK(sink.get()), &callbacks, this, nullptr);

  BusPtr bus(gst_element_get_bus(built.get()));
  bus_watch = gst_bus_create_watch(bus.get());
  g_source_set_callback(bus_watch, G_SOURCE_FUNC(&Impl::on_bus), this, nullptr);
  g_source_attach(bus_watch, context);

  pipeline = std::move(built);
  sample_clock.reset();
  tearing_down = false;
  last_buffer_steady_ms = steady_ms();
  start_wall_ms = wall_ms();
  {
    std::lock_guard lock(status_mu);
    ++status.pipeline_starts;
  }
  handed_over(&sample_clock);  // to the streaming threads, with start_wall_ms
  if (gst_element_set_state(pipeline.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    // The bus holds the reason; read it now rather than racing the watch.
    MessagePtr msg{gst_bus_pop_filtered(bus.get(), GST_MESSAGE_ERROR)};
    std::string why = "the pipeline refused to start";
    if (msg) {
      GError* e = nullptr;
      gst_message_parse_error(msg.get(), &e, nullptr);
      if (e) why = e->message;
      g_clear_error(&e);
    }
    return ended("cannot start '" + *text + "': " + why, false);
  }
  log->info("camera pipeline started: {}", *text);
  std::lock_guard lock(status_mu);
  status.playing = true;
}

// The one place a pipeline goes to NULL, on the camera thread; this also stops its streaming
// threads, so no probe or callback runs after it.
void Camera::Impl::teardown() {
  if (bus_watch) {
    g_source_destroy(bus_watch);
    g_source_unref(bus_watch);
    bus_watch = nullptr;
  }
  if (pipeline) {
    tearing_down = true;
    gst_element_set_state(pipeline.get(), GST_STATE_NULL);
    taken_over(&pipeline);  // its streaming threads have left our callbacks
    pipeline.reset();
  }
  std::lock_guard lock(status_mu);
  status.playing = false;
}

void Camera::Impl::ended(const std::string& reason, bool end_of_stream) {
  teardown();
  const std::string why = reason + " [source " + shown_uri(options.source.uri) + "]";
  if (end_of_stream && options.exit_on_eos) {
    log->info("end of the source: the camera is finished");
    {
      std::lock_guard lock(status_mu);
      status.finished = true;
    }
    g_main_loop_quit(loop);
    return;
  }
  std::chrono::milliseconds delay;
  {
    std::lock_guard lock(status_mu);  // the streaming thread resets the backoff
    delay = backoff.next();
    status.last_error = why;
  }
  (end_of_stream ? log->info("{}; starting again in {} ms", why, delay.count())
                 : log->error("{}; rebuilding the pipeline in {} ms", why, delay.count()));
  schedule_build(delay);
}

void Camera::Impl::check_stall() {
  if (!pipeline || !options.source.realtime) return;  // a file read at full speed waits on us
  const std::int64_t quiet_ms = steady_ms() - last_buffer_steady_ms.load();
  if (quiet_ms > static_cast<std::int64_t>(options.stall_timeout_s * 1000)) {
    ended(fmt::format("no video from the camera for {:g} s", options.stall_timeout_s), false);
  }
}

gboolean Camera::Impl::on_bus(GstBus*, GstMessage* msg, gpointer data) {
  auto* self = static_cast<Impl*>(data);
  switch (GST_MESSAGE_TYPE(msg)) {
    case GST_MESSAGE_ERROR: {
      GError* err = nullptr;
      gchar* debug = nullptr;
      gst_message_parse_error(msg, &err, &debug);
      std::string text = std::string(GST_OBJECT_NAME(GST_MESSAGE_SRC(msg))) + ": " +
                         (err ? err->message : "error");
      if (debug) self->log->debug("{} ({})", text, debug);
      g_clear_error(&err);
      g_free(debug);
      self->ended(text, false);
      return G_SOURCE_REMOVE;  // the watch went with the pipeline
    }
    case GST_MESSAGE_EOS:
      self->ended("end of stream", true);
      return G_SOURCE_REMOVE;
    case GST_MESSAGE_WARNING: {
      GError* err = nullptr;
      gst_message_parse_warning(msg, &err, nullptr);
      self->log->warn("{}: {}", GST_OBJECT_NAME(GST_MESSAGE_SRC(msg)),
                      err ? err->message : "warning");
      g_clear_error(&err);
      return G_SOURCE_CONTINUE;
    }
    default:
      return G_SOURCE_CONTINUE;
  }
}

// An RTSP camera is read over TCP (interleaved): a packet lost on UDP while the node is busy
// counting would smear the frames that follow it until the next key frame, and a node at a
// site has no use for the lower latency UDP gives. Its frames are timed by the camera's own
// RTP clock alone (buffer-mode none), not re-timed by when they arrived: the sampler then
// keeps the frames a file of the same stream would give, however the network bunched them.
void Camera::Impl::source_setup(GstElement*, GstElement* source, gpointer) {
  GObjectClass* type = G_OBJECT_GET_CLASS(source);
  if (g_object_class_find_property(type, "protocols")) {
    gst_util_set_object_arg(G_OBJECT(source), "protocols", "tcp");
  }
  if (g_object_class_find_property(type, "buffer-mode")) {
    gst_util_set_object_arg(G_OBJECT(source), "buffer-mode", "none");
  }
}

// Keeps one frame per interval of stream time (counting/sampler.h) and drops the rest before
// they are converted or encoded. Runs on the streaming thread, which alone touches
// sample_clock.
GstPadProbeReturn Camera::Impl::keep_sample(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* self = static_cast<Impl*>(data);
  const OnStreamingThread streaming(self);
  self->last_buffer_steady_ms = steady_ms();
  const GstClockTime pts = GST_BUFFER_PTS(GST_PAD_PROBE_INFO_BUFFER(info));
  if (!GST_CLOCK_TIME_IS_VALID(pts)) return GST_PAD_PROBE_OK;
  const auto step_us = static_cast<std::int64_t>(self->interval.load() / GST_USECOND);
  return self->sample_clock.keep(static_cast<std::int64_t>(pts / GST_USECOND), step_us)
             ? GST_PAD_PROBE_OK
             : GST_PAD_PROBE_DROP;
}

GstFlowReturn Camera::Impl::new_sample(GstAppSink* sink, gpointer data) {
  auto* self = static_cast<Impl*>(data);
  const OnStreamingThread streaming(self);
  SamplePtr sample(gst_app_sink_pull_sample(sink));
  if (!sample) return GST_FLOW_EOS;
  CapturedFrame frame;
  GstBuffer* buffer = gst_sample_get_buffer(sample.get());
  GstMapInfo map;
  if (buffer && gst_buffer_map(buffer, &map, GST_MAP_READ)) {
    frame.jpeg.assign(reinterpret_cast<const char*>(map.data), map.size);
    gst_buffer_unmap(buffer, &map);
  }
  const GstClockTime pts = buffer ? GST_BUFFER_PTS(buffer) : GST_CLOCK_TIME_NONE;
  frame.capture_time_ms = GST_CLOCK_TIME_IS_VALID(pts)
                              ? self->start_wall_ms + static_cast<std::int64_t>(pts / GST_MSECOND)
                              : wall_ms();
  if (GstCaps* caps = gst_sample_get_caps(sample.get())) {
    const GstStructure* s = gst_caps_get_structure(caps, 0);
    gst_structure_get_int(s, "width", &frame.width);
    gst_structure_get_int(s, "height", &frame.height);
  }
  {  // counted before the hand-over, so that whoever takes the frame sees it counted
    std::lock_guard lock(self->status_mu);
    ++self->status.frames;
    self->status.last_frame_ms = wall_ms();
    self->backoff.reset();
  }
  if (self->options.source.realtime) {
    self->queue.push_live(std::move(frame));
  } else if (!self->queue.push_wait(std::move(frame), self->tearing_down)) {
    std::lock_guard lock(self->status_mu);
    --self->status.frames;  // torn down while waiting for room: never handed over
    return GST_FLOW_FLUSHING;
  }
  return GST_FLOW_OK;
}

Camera::Camera(CameraOptions options, FrameQueue& queue)
    : impl_(std::make_unique<Impl>(std::move(options), queue)) {}

Camera::~Camera() {
  stop();
}

Status Camera::start() {
  GError* err = nullptr;
  if (!gst_init_check(nullptr, nullptr, &err)) {
    std::string msg = err ? err->message : "unknown";
    g_clear_error(&err);
    return fail("GStreamer init failed: " + msg);
  }
  if (auto text = describe(impl_->options.source, nullptr); !text) {
    return std::unexpected(text.error());  // a URI that can never work is the caller's error
  }
  impl_->context = g_main_context_new();
  impl_->loop = g_main_loop_new(impl_->context, FALSE);
  impl_->thread = std::thread([this] { impl_->run(); });
  return {};
}

void Camera::stop() {
  if (!impl_ || !impl_->thread.joinable()) return;
  impl_->tearing_down = true;  // a streaming thread waiting for room gives up
  GSource* quit = g_idle_source_new();
  g_source_set_callback(
      quit,
      [](gpointer loop) -> gboolean {
        g_main_loop_quit(static_cast<GMainLoop*>(loop));
        return G_SOURCE_REMOVE;
      },
      impl_->loop, nullptr);
  g_source_attach(quit, impl_->context);
  g_source_unref(quit);
  impl_->thread.join();
  g_main_loop_unref(impl_->loop);
  g_main_context_unref(impl_->context);
  impl_->loop = nullptr;
  impl_->context = nullptr;
}

void Camera::set_interval(double seconds) {
  impl_->interval = static_cast<GstClockTime>(seconds * GST_SECOND);
  std::lock_guard lock(impl_->status_mu);
  impl_->status.interval_s = seconds;
}

CameraStatus Camera::status() const {
  std::lock_guard lock(impl_->status_mu);
  return impl_->status;
}

Result<std::string> pipeline_description(const SourceOptions& options) {
  return describe(options, nullptr);
}

}  // namespace att
