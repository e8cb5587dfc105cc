// nginx (Debian's nginx-light) in front of a service on loopback, started by a test: the
// project's own config/nginx/attendance.conf with the test's ports, a fresh self-signed RSA
// certificate and a dashboard directory, under a main config that keeps its pid, logs and
// temporary files in a directory of its own.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "tests/support/test_support.h"

namespace att::testing {

// config/nginx/attendance.conf with each @NAME@ outside comments replaced by `values`, as
// scripts/install.sh does (a name left unreplaced is a test failure).
std::string attendance_nginx_conf(const std::map<std::string, std::string>& values);

class FrontDoor {
 public:
  // Starts nginx in front of 127.0.0.1:`service_port`, serving `dashboard`. ok() says whether
  // it runs; error() why not (nginx missing, a bad config, no port).
  FrontDoor(int service_port, const std::filesystem::path& dashboard);
  // In front of several service processes (config/nginx/attendance.conf says which answers).
  FrontDoor(const std::vector<int>& service_ports, const std::filesystem::path& dashboard);
  ~FrontDoor();  // stops nginx (SIGTERM, then SIGKILL)
  FrontDoor(const FrontDoor&) = delete;
  FrontDoor& operator=(const FrontDoor&) = delete;

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  int https_port() const { return https_port_; }
  int http_port() const { return http_port_; }
  // The certificate nginx serves, which clients trust (self-signed for "localhost" and
  // 127.0.0.1), and its key (for a service that serves TLS itself).
  std::filesystem::path cert() const { return dir_ / "cert.pem"; }
  std::filesystem::path key() const { return dir_ / "key.pem"; }
  std::string error_log() const;

 private:
  TempDir dir_;
  pid_t pid_ = -1;
  int https_port_ = 0, http_port_ = 0;
  std::string error_;
};

// Writes a self-signed RSA certificate for localhost and 127.0.0.1 to `cert` and `key`.
bool make_test_certificate(const std::filesystem::path& cert, const std::filesystem::path& key,
                           const std::filesystem::path& work);

}  // namespace att::testing
