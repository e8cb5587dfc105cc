// attendance-server: the central service and its dashboard. Wires only: parse arguments,
// load and check config, build the service, run until SIGINT/SIGTERM.
#include <CLI/CLI.hpp>
#include <csignal>
#include <iostream>

#include "analysis/server_config.h"
#include "analysis/service.h"
#include "analysis/site_keys.h"
#include "common/log.h"

namespace {

// `attendance-server keys`: every site gets a key, kept in nodes.site_keys (mode 0600).
int run_keys(const att::ServerConfig& config, const std::string& show_site) {
  const auto& path = config.nodes.site_keys_csv;
  if (path.empty()) {
    std::cerr << "attendance-server: nodes.site_keys is not set in the configuration\n";
    return 2;
  }
  att::SiteKeys keys = config.site_keys;  // loaded (and checked) when the file exists
  auto added = att::add_missing_keys(keys, config.sites);
  if (!added) return std::cerr << "attendance-server: " << added.error().message << "\n", 1;
  if (!added->empty()) {
    if (auto saved = att::save_site_keys(path, keys); !saved) {
      return std::cerr << "attendance-server: " << saved.error().message << "\n", 1;
    }
    std::cerr << "added a key for " << added->size() << " site(s) to " << path.string() << "\n";
  }
  if (show_site.empty()) {
    std::cerr << keys.size() << " of " << config.sites.size() << " sites have a key in "
              << path.string() << "\n";
    return 0;
  }
  const auto it = keys.find(show_site);
  if (it == keys.end()) {
    std::cerr << "attendance-server: no site '" << show_site << "' in the province\n";
    return 2;
  }
  std::cout << it->second << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"attendance-server: central attendance service and dashboard"};
  std::string config_path = "config/server.yaml";
  std::string data_dir;
  std::string listen;
  std::string log_format;
  app.add_option("-c,--config", config_path, "service settings (YAML)")->capture_default_str();
  app.add_option("--data-dir", data_dir, "overrides data_dir: database and frames");
  app.add_option("--listen", listen, "overrides listen: HOST:PORT (port 0 = any free port)");
  app.add_option("--log-format", log_format,
                 "overrides log_format: text, or json (one object a line)");
  auto* keys = app.add_subcommand(
      "keys",
      "create the site keys file (nodes.site_keys) or add a key for every site without one; "
      "with --show, print one site's key for its capture node");
  std::string show_site;
  keys->add_option("--show", show_site, "print this site's key (put it in the node's secret file)");
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
  if (!log_format.empty()) config->log_format = log_format;
  const auto format = att::log::parse_format(config->log_format);
  if (!format) {
    std::cerr << "attendance-server: --log-format must be text or json (got '" << log_format
              << "')\n";
    return 2;
  }
  att::log::setup(config->log_level, *format);
  if (keys->parsed()) return run_keys(*config, show_site);

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
