// attendance-rtsp-serve: a stand-in IP camera for benchmarks and demos. Serves one
// gst-rtsp-server launch line on 127.0.0.1, prints its URL as the first line of stdout, and
// serves until SIGINT or SIGTERM. Wires only: arguments, signals, RtspServer.
#include <CLI/CLI.hpp>
#include <csignal>
#include <iostream>

#include "tools/rtsp_server.h"

int main(int argc, char** argv) {
  CLI::App app{"attendance-rtsp-serve: serves a test stream over RTSP on 127.0.0.1"};
  app.footer(
      "Exit status: 0 stopped by SIGINT/SIGTERM; 1 cannot start (bad launch line, port in use).");
  std::string launch =
      "( videotestsrc is-live=true pattern=ball ! video/x-raw,width=640,height=360,framerate=15/1"
      " ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=15 ! rtph264pay name=pay0 "
      "pt=96 )";
  int port = 8554;
  std::string mount = "/cam";
  app.add_option("--launch", launch, "gst-rtsp-server launch line; payloaders named pay0, pay1..")
      ->capture_default_str();
  app.add_option("--port", port, "TCP port on 127.0.0.1 (0 = any free port)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  app.add_option("--mount", mount, "path of the stream in the URL")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  // Blocked before any thread starts, so every thread inherits the mask and the signals
  // wait for sigwait() below instead of interrupting a GStreamer thread.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  att::testing::RtspServer server(launch, mount);
  if (auto started = server.start(port); !started) {
    std::cerr << "attendance-rtsp-serve: " << started.error().message << "\n";
    return 1;
  }
  std::cout << server.url() << std::endl;  // flushed: a script may wait for this line

  int received = 0;
  sigwait(&stop_signals, &received);
  std::cerr << "attendance-rtsp-serve: " << (received == SIGINT ? "SIGINT" : "SIGTERM")
            << ", stopping\n";
  server.stop();
  return 0;
}
