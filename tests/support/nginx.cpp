#include "tests/support/nginx.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <regex>

namespace att::testing {

namespace fs = std::filesystem;

namespace {

constexpr char kNginx[] = "/usr/sbin/nginx";

}  // namespace

std::string attendance_nginx_conf(const std::map<std::string, std::string>& values) {
  const std::string source =
      read_file(fs::path(ATTENDANCE_SOURCE_DIR) / "config" / "nginx" / "attendance.conf");
  // Line by line, comments left as they are (as scripts/install.sh does).
  std::string conf;
  const std::regex placeholder("@[A-Z]+@");
  for (size_t start = 0; start < source.size();) {
    const size_t end = std::min(source.find('\n', start), source.size());
    std::string line = source.substr(start, end - start);
    start = end + 1;
    if (line.find_first_not_of(' ') == std::string::npos ||
        line[line.find_first_not_of(' ')] != '#') {
      for (const auto& [name, value] : values) {
        const std::string key = "@" + name + "@";
        for (size_t at = line.find(key); at != std::string::npos; at = line.find(key, at)) {
          line.replace(at, key.size(), value);
          at += value.size();
        }
      }
      std::smatch left;
      EXPECT_FALSE(std::regex_search(line, left, placeholder))
          << "config/nginx/attendance.conf: " << left.str() << " is not replaced";
    }
    conf += line + "\n";
  }
  return conf;
}

bool make_test_certificate(const fs::path& cert, const fs::path& key, const fs::path& work) {
  const CommandRun run = run_command(
      {"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
       "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout",
       key.string(), "-out", cert.string()},
      work);
  EXPECT_EQ(run.exit_code, 0) << run.err;
  return run.exit_code == 0;
}

FrontDoor::FrontDoor(int service_port, const fs::path& dashboard)
    : FrontDoor(std::vector<int>{service_port}, dashboard) {}

FrontDoor::FrontDoor(const std::vector<int>& service_ports, const fs::path& dashboard) {
  std::string servers;
  for (int port : service_ports) {
    servers += "server 127.0.0.1:" + std::to_string(port) + " max_fails=1 fail_timeout=5s; ";
  }
  if (!fs::exists(kNginx)) {
    error_ = std::string(kNginx) + " is missing (scripts/deps.sh installs nginx-light)";
    return;
  }
  if (!make_test_certificate(cert(), key(), dir_.path())) {
    error_ = "openssl could not make a certificate";
    return;
  }
  https_port_ = unused_port();
  http_port_ = unused_port();
  const std::string site = attendance_nginx_conf({
      {"SERVICES", servers},
      {"DASHBOARD", dashboard.string()},
      {"CERT", cert().string()},
      {"KEY", key().string()},
      {"HTTPS", "127.0.0.1:" + std::to_string(https_port_)},
      {"HTTP", "127.0.0.1:" + std::to_string(http_port_)},
  });
  write_file(dir_ / "attendance.conf", site);
  const fs::path d = dir_.path();
  std::string main;
  // As root, workers would otherwise run as "nobody", who cannot read the test's files.
  if (geteuid() == 0) main += "user root;\n";
  main += "worker_processes 2;\ndaemon off;\npid " + (d / "nginx.pid").string() + ";\nerror_log " +
          (d / "error.log").string() +
          " warn;\nevents { worker_connections 4096; }\nhttp {\n"
          "  include /etc/nginx/mime.types;\n  default_type application/octet-stream;\n"
          "  access_log off;\n";
  for (const char* temp : {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"}) {
    main += std::string("  ") + temp + "_temp_path " + (d / temp).string() + ";\n";
  }
  main += "  include " + (d / "attendance.conf").string() + ";\n}\n";
  write_file(d / "nginx.conf", main);
  pid_ = spawn({kNginx, "-p", d.string(), "-e", (d / "error.log").string(), "-c",
                (d / "nginx.conf").string()},
               d / "nginx.out");
  httplib::Client probe("127.0.0.1", http_port_);
  probe.set_connection_timeout(std::chrono::milliseconds(200));
  const bool up = eventually(
      [&] {
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
          pid_ = -1;
          return true;
        }
        return static_cast<bool>(probe.Get("/"));
      },
      std::chrono::seconds(10));
  if (!up || pid_ < 0) {
    error_ = "nginx did not start: " + read_file(d / "nginx.out") + error_log();
  }
}

FrontDoor::~FrontDoor() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  if (wait_exit(pid_, std::chrono::seconds(5)) < 0) {
    ADD_FAILURE() << "nginx did not stop on SIGTERM within 5 s";
  }
}

std::string FrontDoor::error_log() const {
  return fs::exists(dir_ / "error.log") ? read_file(dir_ / "error.log") : "";
}

}  // namespace att::testing
