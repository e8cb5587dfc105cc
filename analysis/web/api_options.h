// What the service's HTTP face is configured with (server.yaml, as the service fills it).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "analysis/web/records_api.h"

namespace att {

struct ApiOptions {
  std::string province_name;
  std::string timezone;  // for the dashboard's clocks
  std::string detector_name;
  bool detector_degraded = false;
  std::string detector_message;
  std::filesystem::path data_dir;       // frames are read from here
  std::filesystem::path dashboard_dir;  // served at /
  int threads = 8;
  int keep_alive_s = 1;  // ServerConfig::keep_alive_s
  std::int64_t max_body_bytes = 4 << 20;
  std::filesystem::path tls_cert, tls_key;  // both set: HTTPS
  RecordsApiOptions records;                // the attendance record's routes (records_api.h)
  // More Prometheus text for /metrics (the service's retention), or none.
  std::function<std::string()> extra_metrics;
};

}  // namespace att
