// A real RTSP server (gst-rtsp-server) on 127.0.0.1 for tests, benchmarks and demos: one
// gst-rtsp-server launch line served at one mount, shared by every client (one encoder, all
// clients see the same stream), like an IP camera.
//
// stop() drops every client and closes the listening port, so a client sees the camera go
// away; start() on the same port brings it back (SO_REUSEADDR, so at once).
//
// Threads: the server runs on a thread of its own with its own GMainContext (never GLib's
// global default one); the media pipeline runs on gst-rtsp-server's threads. The methods of
// one RtspServer are called from one thread (its owner); they are not safe to call
// concurrently with each other. Clients may connect from any thread or process.
#pragma once

#include <memory>
#include <string>

#include "common/error.h"

namespace att::testing {

class RtspServer {
 public:
  // `launch` is a gst-rtsp-server launch line: a bin in parentheses whose payloaders are
  // named pay0, pay1, ..., e.g.
  //   ( videotestsrc is-live=true ! x264enc tune=zerolatency ! rtph264pay name=pay0 pt=96 )
  // `mount` is the path part of the URL and starts with '/'. Nothing runs until start().
  explicit RtspServer(std::string launch, std::string mount = "/cam");
  ~RtspServer();  // stop()
  RtspServer(const RtspServer&) = delete;
  RtspServer& operator=(const RtspServer&) = delete;

  // Checks the launch line, binds 127.0.0.1:`port` (0 = any free port) and serves on a new
  // thread. Returns the bound port. Fails with a message when GStreamer cannot start, the
  // launch line does not parse (missing element, bad property), or the port cannot be bound
  // (in use by a listening socket). Must not be called while running.
  Result<int> start(int port = 0);

  // Closes every client connection and RTSP session, closes the listening socket (a new
  // TCP connect is refused), stops the thread and releases the media. Idempotent; returns
  // when all of that is done.
  void stop();

  bool running() const;
  // The port of the last successful start() (kept after stop(), for a restart); 0 before.
  int port() const;
  // "rtsp://127.0.0.1:PORT/MOUNT" for the last successful start().
  std::string url() const;

 private:
  struct Running;  // the GLib/GStreamer objects of one start()..stop()
  std::string launch_;
  std::string mount_;
  int port_ = 0;
  std::unique_ptr<Running> running_;
};

}  // namespace att::testing
