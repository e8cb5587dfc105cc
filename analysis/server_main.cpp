// attendance-server: the central service and its dashboard. Wires only: parse arguments,
// load and check config, build the service, run until SIGINT/SIGTERM.
#include <CLI/CLI.hpp>
#include <csignal>
#include <iostream>

#include "analysis/server_config.h"
#include "analysis/service.h"
#include "common/log.h"

int main(int argc, char** argv) {
  CLI::App app{"attendance-server: central attendance service and dashboard"};
  std::string config_path = "config/server.yaml";
  std::string data_dir;
  std::string listen;
  app.add_option("-c,--config", config_path, "service settings (YAML)")->capture_default_str();
  app.add_option("--data-dir", data_dir, "overrides data_dir: database and frames");
  app.add_option("--listen", listen, "overrides listen: HOST:PORT (port 0 = any free port)");
  CLI11_PARSE(app, argc, argv);

  auto config = att::load_server_config(config_path);
  if (!config) {
    std::cerr << "attendance-server: invalid configuration\n" << config.error().message << "\n";
    return 2;
  }
  if (!data_dir.empty()) config->data_dir = data_dir;
  if (!listen.empty()) {
    const auto colon = listen.rfind(':');
    try {
      if (colon == std::string::npos) throw std::invalid_argument(listen);
      config->listen_host = listen.substr(0, colon);
      config->listen_port = std::stoi(listen.substr(colon + 1));
    } catch (const std::exception&) {
      std::cerr << "attendance-server: --listen must be HOST:PORT (got '" << listen << "')\n";
      return 2;
    }
  }
  att::log::setup(config->log_level);

  // Block the stop signals in every thread; this one waits for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto service = att::Service::create(std::move(*config));
  if (!service) {
    att::log::get("server")->critical("cannot start: {}", service.error().message);
    return 1;
  }
  auto port = (*service)->start();
  if (!port) {
    att::log::get("server")->critical("{}", port.error().message);
    return 1;
  }
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  att::log::get("server")->info("signal {}: stopping", signal_number);
  (*service)->stop();
  return 0;
}
