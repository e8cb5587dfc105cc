#include "tools/rtsp_server.h"

#include <gst/gst.h>
#include <gst/rtsp-server/rtsp-server.h>

#include <cassert>
#include <thread>

namespace att::testing {
namespace {

// Owning pointers for the GLib objects of a server: each adopts one reference.
struct GObjectUnref {
  void operator()(gpointer p) const { g_object_unref(p); }
};
template <class T>
using GObjectPtr = std::unique_ptr<T, GObjectUnref>;
struct ContextUnref {
  void operator()(GMainContext* c) const { g_main_context_unref(c); }
};
struct LoopUnref {
  void operator()(GMainLoop* l) const { g_main_loop_unref(l); }
};
struct SourceUnref {
  void operator()(GSource* s) const { g_source_unref(s); }
};

// Takes the message out of `err` and frees it.
std::string take_message(GError* err, const char* fallback) {
  std::string message = err ? err->message : fallback;
  g_clear_error(&err);
  return message;
}

// Builds the launch line once, as the media factory will for the first client, so that a
// missing element or bad property fails start() instead of every client's DESCRIBE.
Status check_launch(const std::string& launch) {
  GError* err = nullptr;
  GstElement* raw = gst_parse_launch(launch.c_str(), &err);
  if (raw) gst_object_ref_sink(raw);  // adopt the floating reference
  std::unique_ptr<GstElement, GObjectUnref> element(raw);
  if (err || !element) {
    return fail("bad launch line '" + launch + "': " + take_message(err, "does not parse"));
  }
  GstElement* pay0 = GST_IS_BIN(raw) ? gst_bin_get_by_name(GST_BIN(raw), "pay0") : nullptr;
  if (!pay0) return fail("launch line '" + launch + "' has no payloader named pay0");
  gst_object_unref(pay0);
  return {};
}

GstRTSPFilterResult remove_client(GstRTSPServer*, GstRTSPClient*, gpointer) {
  return GST_RTSP_FILTER_REMOVE;
}

GstRTSPFilterResult remove_session(GstRTSPSessionPool*, GstRTSPSession*, gpointer) {
  return GST_RTSP_FILTER_REMOVE;
}

void serve(GMainContext* context, GMainLoop* loop) {
  // Thread-default, so that whatever the server attaches "to the current context" lands here.
  g_main_context_push_thread_default(context);
  g_main_loop_run(loop);
  g_main_context_pop_thread_default(context);
}

}  // namespace

// Members are released in reverse order: the thread is joined first (by stop()), then the
// accept watch (its last reference closes the listening socket), then the server.
struct RtspServer::Running {
  std::unique_ptr<GMainContext, ContextUnref> context;
  std::unique_ptr<GMainLoop, LoopUnref> loop;
  GObjectPtr<GstRTSPServer> server;
  std::unique_ptr<GSource, SourceUnref> listener;  // accepts connections; owns the socket
  std::thread thread;                              // runs `loop` on `context`

  // Runs on the server thread, which alone touches the clients: stops accepting, closes
  // every client and session (the last session's end unprepares the shared media), quits.
  static gboolean shut_down(gpointer data) {
    auto* self = static_cast<Running*>(data);
    g_source_destroy(self->listener.get());
    g_list_free(gst_rtsp_server_client_filter(self->server.get(), remove_client, nullptr));
    GObjectPtr<GstRTSPSessionPool> sessions(gst_rtsp_server_get_session_pool(self->server.get()));
    g_list_free(gst_rtsp_session_pool_filter(sessions.get(), remove_session, nullptr));
    g_main_loop_quit(self->loop.get());
    return G_SOURCE_REMOVE;
  }
};

RtspServer::RtspServer(std::string launch, std::string mount)
    : launch_(std::move(launch)), mount_(std::move(mount)) {}

RtspServer::~RtspServer() {
  stop();
}

Result<int> RtspServer::start(int port) {
  assert(!running_ && "RtspServer::start() while running");
  if (port < 0 || port > 65535) return fail("bad port " + std::to_string(port));
  if (mount_.empty() || mount_.front() != '/') {
    return fail("mount '" + mount_ + "' must start with '/'");
  }
  GError* err = nullptr;
  if (!gst_init_check(nullptr, nullptr, &err)) {
    return fail("GStreamer init failed: " + take_message(err, "unknown"));
  }
  if (auto checked = check_launch(launch_); !checked) return std::unexpected(checked.error());

  auto r = std::make_unique<Running>();
  r->context.reset(g_main_context_new());
  r->loop.reset(g_main_loop_new(r->context.get(), FALSE));
  r->server.reset(gst_rtsp_server_new());
  GstRTSPServer* server = r->server.get();
  gst_rtsp_server_set_address(server, "127.0.0.1");
  gst_rtsp_server_set_service(server, std::to_string(port).c_str());
  // No client threads: clients are served on this server's own thread, so shut_down() sees
  // and closes them all in one place.
  GObjectPtr<GstRTSPThreadPool> threads(gst_rtsp_server_get_thread_pool(server));
  gst_rtsp_thread_pool_set_max_threads(threads.get(), 0);

  GstRTSPMediaFactory* factory = gst_rtsp_media_factory_new();
  gst_rtsp_media_factory_set_launch(factory, launch_.c_str());
  gst_rtsp_media_factory_set_shared(factory, TRUE);  // one pipeline for every client
  GObjectPtr<GstRTSPMountPoints> mounts(gst_rtsp_server_get_mount_points(server));
  gst_rtsp_mount_points_add_factory(mounts.get(), mount_.c_str(), factory);  // takes factory

  // Binds and listens here, so that a busy port fails start(). gst-rtsp-server binds with
  // g_socket_bind(allow_reuse=TRUE), i.e. SO_REUSEADDR: connections the last stop() left in
  // TIME_WAIT do not block a restart on the same port.
  r->listener.reset(gst_rtsp_server_create_source(server, nullptr, &err));
  if (!r->listener) {
    return fail("cannot listen on 127.0.0.1:" + std::to_string(port) + ": " +
                take_message(err, "no socket"));
  }
  const int bound = gst_rtsp_server_get_bound_port(server);
  g_source_attach(r->listener.get(), r->context.get());
  r->thread = std::thread(serve, r->context.get(), r->loop.get());
  running_ = std::move(r);
  port_ = bound;
  return bound;
}

void RtspServer::stop() {
  if (!running_) return;
  // An idle source rather than g_main_context_invoke(), which would run shut_down() on this
  // thread if the server thread had not yet taken the context, and the quit would be lost.
  GSource* idle = g_idle_source_new();
  g_source_set_callback(idle, &Running::shut_down, running_.get(), nullptr);
  g_source_attach(idle, running_->context.get());
  g_source_unref(idle);
  running_->thread.join();
  running_.reset();
}

bool RtspServer::running() const {
  return running_ != nullptr;
}

int RtspServer::port() const {
  return port_;
}

std::string RtspServer::url() const {
  return "rtsp://127.0.0.1:" + std::to_string(port_) + mount_;
}

}  // namespace att::testing
