// What the service's HTTP face is configured with (server.yaml, as the service fills it).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "analysis/web/records_api.h"

namespace att {

// How long and how much a connection may take (HttpServer, http_server.h).
struct ConnectionLimits {
  int keep_alive_s = 1;      // an idle kept-alive connection is closed after this
  int request_s = 30;        // a request (and a TLS handshake) must arrive whole in this
  int write_s = 30;          // a write that cannot go on for this long ends the connection
  int header_bytes = 65536;  // the request line and headers together, at most
  int requests_per_connection = 100;
};

struct ApiOptions {
  std::string province_name;
  std::string timezone;  // for the dashboard's clocks
  std::string detector_name;
  bool detector_degraded = false;
  std::string detector_message;
  std::filesystem::path data_dir;       // frames are read from here
  std::filesystem::path dashboard_dir;  // served at /
  int threads = 8;
  ConnectionLimits connections;              // ServerConfig::keep_alive_s, request_timeout_s
  std::vector<std::string> trusted_proxies;  // ServerConfig::trusted_proxies
  std::int64_t max_body_bytes = 4 << 20;
  std::int64_t max_image_pixels = 0;        // ServerConfig::max_image_pixels: pictures decoded here
  std::filesystem::path tls_cert, tls_key;  // both set: HTTPS
  RecordsApiOptions records;                // the attendance record's routes (records_api.h)
  // More Prometheus text for /metrics (the service's retention), or none.
  std::function<std::string()> extra_metrics;
};

}  // namespace att
