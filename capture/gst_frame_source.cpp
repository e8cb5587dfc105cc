#include "capture/gst_frame_source.h"

#include <gst/app/gstappsink.h>
#include <gst/gst.h>

#include <atomic>
#include <cctype>
#include <optional>

namespace att {
namespace {

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

Result<ParsedSource> parse_source(const std::string& uri) {
  const auto scheme_end = uri.find("://");
  if (uri.empty()) return fail("empty source URI");
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
              "' (use rtsp://, file://, v4l2://, videotestsrc:// or a file path)");
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
  if (parsed_out) *parsed_out = *parsed;
  return text;
}

class GstFrameSource final : public FrameSource {
 public:
  GstFrameSource(ElementPtr pipeline, GstElement* sampler, ElementPtr sink, BusPtr bus,
                 double interval_s)
      : pipeline_(std::move(pipeline)),
        sink_(std::move(sink)),
        bus_(std::move(bus)),
        interval_(static_cast<GstClockTime>(interval_s * GST_SECOND)) {
    GstPad* pad = gst_element_get_static_pad(sampler, "sink");
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, &GstFrameSource::keep_sample, this, nullptr);
    gst_object_unref(pad);
    pad = gst_element_get_static_pad(sink_.get(), "sink");
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, &GstFrameSource::count_buffer, this, nullptr);
    gst_object_unref(pad);
  }

  // The one place the pipeline goes to NULL; this also stops the streaming threads, so the
  // probe never runs after `this` is gone.
  ~GstFrameSource() override { gst_element_set_state(pipeline_.get(), GST_STATE_NULL); }

  Status play() {
    if (gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
      std::string why = "the pipeline refused to start";
      if (auto n = poll_bus(0); n && n->event == Event::kError) why = n->message;
      return fail(why);
    }
    start_wall_ms_ = g_get_real_time() / 1000;
    return {};
  }

  Next next(std::chrono::milliseconds timeout) override {
    if (auto n = poll_bus(0)) return *n;
    SamplePtr sample(gst_app_sink_try_pull_sample(
        GST_APP_SINK(sink_.get()), static_cast<GstClockTime>(timeout.count()) * GST_MSECOND));
    if (!sample) {
      if (auto n = poll_bus(0)) return *n;
      if (gst_app_sink_is_eos(GST_APP_SINK(sink_.get()))) return Next{Event::kEndOfStream, {}, {}};
      return Next{Event::kTimeout, {}, {}};
    }
    ++taken_;
    Next n{Event::kFrame, {}, {}};
    GstBuffer* buffer = gst_sample_get_buffer(sample.get());
    GstMapInfo map;
    if (buffer && gst_buffer_map(buffer, &map, GST_MAP_READ)) {
      n.frame.jpeg.assign(reinterpret_cast<const char*>(map.data), map.size);
      gst_buffer_unmap(buffer, &map);
    }
    const GstClockTime pts = buffer ? GST_BUFFER_PTS(buffer) : GST_CLOCK_TIME_NONE;
    n.frame.capture_time_ms = GST_CLOCK_TIME_IS_VALID(pts)
                                  ? start_wall_ms_ + static_cast<std::int64_t>(pts / GST_MSECOND)
                                  : g_get_real_time() / 1000;
    if (GstCaps* caps = gst_sample_get_caps(sample.get())) {
      const GstStructure* s = gst_caps_get_structure(caps, 0);
      gst_structure_get_int(s, "width", &n.frame.width);
      gst_structure_get_int(s, "height", &n.frame.height);
    }
    return n;
  }

  SourceStats stats() const override {
    SourceStats s;
    s.sampled = sampled_.load();
    s.taken = taken_;
    s.dropped = s.sampled - s.taken;
    return s;
  }

 private:
  // Keeps the first frame at or after each multiple of the interval (stream time) and drops
  // the rest before they are converted or encoded. Unlike videorate this works with
  // variable-frame-rate sources (caps framerate=0/1) and never duplicates a frame when the
  // camera stalls. Runs on the streaming thread, which alone touches next_pts_.
  static GstPadProbeReturn keep_sample(GstPad*, GstPadProbeInfo* info, gpointer data) {
    auto* self = static_cast<GstFrameSource*>(data);
    const GstClockTime pts = GST_BUFFER_PTS(GST_PAD_PROBE_INFO_BUFFER(info));
    if (!GST_CLOCK_TIME_IS_VALID(pts)) return GST_PAD_PROBE_OK;
    if (GST_CLOCK_TIME_IS_VALID(self->next_pts_) && pts < self->next_pts_) {
      return GST_PAD_PROBE_DROP;
    }
    const GstClockTime base = GST_CLOCK_TIME_IS_VALID(self->next_pts_) ? self->next_pts_ : pts;
    self->next_pts_ = base + self->interval_;
    if (pts >= self->next_pts_) self->next_pts_ = pts + self->interval_;  // after a gap
    return GST_PAD_PROBE_OK;
  }

  static GstPadProbeReturn count_buffer(GstPad*, GstPadProbeInfo*, gpointer self) {
    static_cast<GstFrameSource*>(self)->sampled_++;
    return GST_PAD_PROBE_OK;
  }

  // Errors only: the end of stream is read from the appsink, after its last frame is taken.
  // Other messages are popped and dropped, so the bus never grows.
  std::optional<Next> poll_bus(GstClockTime timeout) {
    MessagePtr msg{gst_bus_timed_pop_filtered(bus_.get(), timeout, GST_MESSAGE_ERROR)};
    if (!msg) return std::nullopt;
    GError* err = nullptr;
    gchar* debug = nullptr;
    gst_message_parse_error(msg.get(), &err, &debug);
    std::string text = std::string(GST_OBJECT_NAME(GST_MESSAGE_SRC(msg.get()))) + ": " +
                       (err ? err->message : "error");
    if (debug) text += std::string(" (") + debug + ")";
    g_clear_error(&err);
    g_free(debug);
    return Next{Event::kError, {}, text};
  }

  ElementPtr pipeline_;
  ElementPtr sink_;
  BusPtr bus_;
  const GstClockTime interval_;
  GstClockTime next_pts_ = GST_CLOCK_TIME_NONE;  // streaming thread only
  std::int64_t start_wall_ms_ = 0;
  std::atomic<std::int64_t> sampled_{0};  // written on the streaming thread
  std::int64_t taken_ = 0;
};

}  // namespace

Result<std::string> pipeline_description(const SourceOptions& options) {
  return describe(options, nullptr);
}

Result<std::unique_ptr<FrameSource>> open_gst_source(const SourceOptions& options) {
  GError* err = nullptr;
  if (!gst_init_check(nullptr, nullptr, &err)) {
    std::string msg = err ? err->message : "unknown";
    g_clear_error(&err);
    return fail("GStreamer init failed: " + msg);
  }
  ParsedSource parsed;
  auto text = describe(options, &parsed);
  if (!text) return std::unexpected(text.error());

  GstElement* raw = gst_parse_launch(text->c_str(), &err);
  if (raw) gst_object_ref_sink(raw);  // adopt the floating reference
  ElementPtr pipeline(raw);
  if (err) {  // set even when a (partial) pipeline came back
    std::string msg = err->message;
    g_clear_error(&err);
    return fail("cannot build pipeline '" + *text + "': " + msg);
  }
  if (!pipeline) return fail("cannot build pipeline '" + *text + "'");

  ElementPtr src(gst_bin_get_by_name(GST_BIN(pipeline.get()), "src"));
  ElementPtr sampler(gst_bin_get_by_name(GST_BIN(pipeline.get()), "sampler"));
  ElementPtr sink(gst_bin_get_by_name(GST_BIN(pipeline.get()), "sink"));
  if (!src || !sampler || !sink) return fail("pipeline lacks its src, sampler or sink element");
  if (!parsed.uri.empty()) {
    g_object_set(src.get(), "uri", parsed.uri.c_str(), nullptr);
    // Only the video stream: audio is never decoded, and never blocks the pipeline.
    GstCaps* video = gst_caps_from_string("video/x-raw(ANY)");
    g_object_set(src.get(), "caps", video, "expose-all-streams", FALSE, nullptr);
    gst_caps_unref(video);
  }
  BusPtr bus(gst_element_get_bus(pipeline.get()));
  auto source =
      std::make_unique<GstFrameSource>(std::move(pipeline), sampler.get(), std::move(sink),
                                       std::move(bus), options.sample_interval_s);
  if (auto played = source->play(); !played)
    return fail("cannot start '" + *text + "': " + played.error().message);
  return std::unique_ptr<FrameSource>(std::move(source));
}

}  // namespace att
