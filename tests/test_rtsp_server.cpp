// The test RTSP server against real GStreamer clients: decoded frames arrive, stop() drops
// the clients and refuses new connections, and start() on the same port serves again.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gst/gst.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <optional>

#include "tools/rtsp_server.h"

namespace att::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;
using ::testing::HasSubstr;

// Small and with a key frame every second, so that a client decodes within about a second.
constexpr char kLaunch[] =
    "( videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=15/1"
    " ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=15 ! rtph264pay name=pay0 "
    "pt=96 )";

struct GstObjectUnref {
  void operator()(gpointer p) const { gst_object_unref(p); }
};

// A client pipeline that decodes the stream and counts decoded frames at its sink.
class Client {
 public:
  // `protocols` as rtspsrc takes them: "tcp" (interleaved) or "udp" (default order when empty).
  explicit Client(const std::string& url, const std::string& protocols = "") {
    GError* err = nullptr;
    GstElement* raw = gst_parse_launch(
        "rtspsrc name=src latency=0 ! rtph264depay ! avdec_h264 ! fakesink name=sink sync=false",
        &err);
    EXPECT_EQ(err, nullptr) << (err ? err->message : "");
    g_clear_error(&err);
    if (!raw) return;
    gst_object_ref_sink(raw);
    pipeline_.reset(raw);
    GstElement* src = gst_bin_get_by_name(GST_BIN(raw), "src");
    g_object_set(src, "location", url.c_str(), nullptr);
    if (!protocols.empty()) gst_util_set_object_arg(G_OBJECT(src), "protocols", protocols.c_str());
    gst_object_unref(src);
    GstElement* sink = gst_bin_get_by_name(GST_BIN(raw), "sink");
    GstPad* pad = gst_element_get_static_pad(sink, "sink");
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, &Client::count, &frames_, nullptr);
    gst_object_unref(pad);
    gst_object_unref(sink);
    bus_.reset(gst_element_get_bus(raw));
    gst_element_set_state(raw, GST_STATE_PLAYING);
  }
  ~Client() {
    if (pipeline_) gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  int frames() const { return frames_.load(); }

  // True once `n` frames were decoded; false at an error or end of stream, or at `timeout`.
  bool wait_frames(int n, milliseconds timeout) {
    const auto deadline = steady_clock::now() + timeout;
    while (frames_.load() < n && steady_clock::now() < deadline) {
      if (auto ended = wait_end(milliseconds(50))) {
        ADD_FAILURE() << "client ended after " << frames_.load() << " frames: " << *ended;
        return false;
      }
    }
    return frames_.load() >= n;
  }

  // The error or end of stream the client reports within `timeout`, if any.
  std::optional<std::string> wait_end(milliseconds timeout) {
    if (!bus_) return "no pipeline";
    GstMessage* msg = gst_bus_timed_pop_filtered(
        bus_.get(), static_cast<GstClockTime>(timeout.count()) * GST_MSECOND,
        static_cast<GstMessageType>(GST_MESSAGE_ERROR | GST_MESSAGE_EOS));
    if (!msg) return std::nullopt;
    std::string text = "end of stream";
    if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
      GError* err = nullptr;
      gst_message_parse_error(msg, &err, nullptr);
      text = err ? err->message : "error";
      g_clear_error(&err);
    }
    gst_message_unref(msg);
    return text;
  }

 private:
  static GstPadProbeReturn count(GstPad*, GstPadProbeInfo*, gpointer frames) {
    ++*static_cast<std::atomic<int>*>(frames);
    return GST_PAD_PROBE_OK;
  }

  std::unique_ptr<GstElement, GstObjectUnref> pipeline_;
  std::unique_ptr<GstBus, GstObjectUnref> bus_;
  std::atomic<int> frames_{0};  // written on the streaming thread
};

// errno of a plain TCP connect to 127.0.0.1:`port`, 0 when it connects.
int tcp_connect_errno(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  const int error = rc == 0 ? 0 : errno;
  ::close(fd);
  return error;
}

TEST(RtspServer, EveryClientDecodesTheOneSharedStream) {
  RtspServer server(kLaunch);
  auto port = server.start();
  ASSERT_TRUE(port) << port.error().message;
  EXPECT_GT(*port, 0);
  EXPECT_EQ(server.port(), *port);
  EXPECT_EQ(server.url(), "rtsp://127.0.0.1:" + std::to_string(*port) + "/cam");

  Client udp(server.url());
  Client tcp(server.url(), "tcp");
  EXPECT_TRUE(udp.wait_frames(5, milliseconds(10000))) << udp.frames() << " frames";
  EXPECT_TRUE(tcp.wait_frames(5, milliseconds(10000))) << tcp.frames() << " frames";
}

TEST(RtspServer, StopDropsClientsAndClosesThePortAndStartServesAgainOnIt) {
  RtspServer server(kLaunch);
  auto port = server.start();
  ASSERT_TRUE(port) << port.error().message;
  {
    Client watching(server.url(), "tcp");
    ASSERT_TRUE(watching.wait_frames(3, milliseconds(10000)));

    server.stop();
    EXPECT_FALSE(server.running());
    // The client that was watching loses its connection, as when a camera goes away:
    // rtspsrc warns "The server closed the connection." and ends the stream.
    EXPECT_EQ(watching.wait_end(milliseconds(5000)), "end of stream");
  }
  EXPECT_EQ(tcp_connect_errno(*port), ECONNREFUSED);
  {
    Client late(server.url());
    EXPECT_EQ(late.wait_end(milliseconds(5000)),
              "Could not open resource for reading and writing.");
    EXPECT_EQ(late.frames(), 0);
  }

  auto again = server.start(*port);  // at once: connections in TIME_WAIT do not block it
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(*again, *port);
  EXPECT_EQ(tcp_connect_errno(*port), 0);
  Client fresh(server.url());
  EXPECT_TRUE(fresh.wait_frames(3, milliseconds(10000))) << fresh.frames() << " frames";
}

TEST(RtspServer, StartFailsOnAPortAnotherSocketListensOn) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const int busy = ntohs(addr.sin_port);

  RtspServer server(kLaunch);
  auto port = server.start(busy);
  ::close(fd);
  ASSERT_FALSE(port);
  EXPECT_THAT(port.error().message,
              HasSubstr("cannot listen on 127.0.0.1:" + std::to_string(busy) + ": "));
  EXPECT_THAT(port.error().message, HasSubstr("in use"));
  EXPECT_FALSE(server.running());
}

TEST(RtspServer, StartFailsOnABadLaunchLine) {
  RtspServer missing("( nosuchelement ! rtph264pay name=pay0 pt=96 )");
  auto port = missing.start();
  ASSERT_FALSE(port);
  EXPECT_THAT(port.error().message, HasSubstr("no element \"nosuchelement\""));

  RtspServer unnamed("( videotestsrc ! x264enc ! rtph264pay pt=96 )");
  port = unnamed.start();
  ASSERT_FALSE(port);
  EXPECT_THAT(port.error().message, HasSubstr("has no payloader named pay0"));

  RtspServer relative(kLaunch, "cam");
  port = relative.start();
  ASSERT_FALSE(port);
  EXPECT_EQ(port.error().message, "mount 'cam' must start with '/'");
}

}  // namespace
}  // namespace att::testing
