// Benchmark of the front door: requests a second and p50/p99 for node uploads (signed counts,
// POST /api/v1/counts: the HTTP path, the check and the store, no detection) and for
// GET /api/v1/sites (a dashboard's poll), against the service directly (HTTP, and its own
// HTTPS) and through nginx (HTTPS, config/nginx/attendance.conf), first alone, then while
// slow clients (a byte every 3 s, reconnecting when cut off) hold connections to the same
// door. The real service (in this process, real SQLite, real HTTP on loopback) and a real
// nginx; a request that takes over 10 s (a node's patience) counts as failed. Prints a
// Markdown table; scripts/bench_front_door.sh runs it.
//
//   bench_front_door [--seconds 10] [--clients 4] [--slow 300]
#include <fmt/format.h>
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "analysis/app/service.h"
#include "counting/models.h"
#include "protocol/node_count.h"
#include "protocol/wire.h"
#include "tests/support/fake_detector.h"
#include "tests/support/nginx.h"
#include "tests/support/test_support.h"
#include "tests/support/tls_client.h"

namespace att {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

struct Door {
  std::string name;
  int port = 0;
  bool https = false;
  std::string ca;  // the certificate to trust over HTTPS
};

struct Figures {
  double per_s = 0, p50_ms = 0, p99_ms = 0;
  int failed = 0;
};

std::unique_ptr<httplib::Client> client_for(const Door& door) {
  auto c = std::make_unique<httplib::Client>(std::string(door.https ? "https" : "http") +
                                             "://localhost:" + std::to_string(door.port));
  if (door.https) {
    c->set_ca_cert_path(door.ca.c_str());
    c->enable_server_certificate_verification(true);
  }
  c->set_tcp_nodelay(true);  // as the nodes' client does
  c->set_connection_timeout(10s);
  c->set_read_timeout(10s);
  c->set_write_timeout(10s);
  return c;
}

// `clients` threads, each making requests one after another for `seconds`.
template <class Request>
Figures measure(const Door& door, int clients, double seconds, Request request) {
  std::vector<std::vector<double>> ms(static_cast<size_t>(clients));
  std::atomic<int> failed = 0;
  const auto end = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(seconds));
  std::vector<std::thread> threads;
  for (int t = 0; t < clients; ++t) {
    threads.emplace_back([&, t] {
      auto client = client_for(door);
      while (Clock::now() < end) {
        const auto start = Clock::now();
        const bool ok = request(*client, t);
        const double took = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
        if (ok) {
          ms[static_cast<size_t>(t)].push_back(took);
        } else {
          ++failed;
          ms[static_cast<size_t>(t)].push_back(std::max(took, 10'000.0));
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  std::vector<double> all;
  for (const auto& v : ms) all.insert(all.end(), v.begin(), v.end());
  std::ranges::sort(all);
  Figures f;
  f.failed = failed;
  f.per_s = static_cast<double>(all.size() - static_cast<size_t>(f.failed)) / seconds;
  const auto pct = [&](double p) {
    return all.empty() ? 0.0 : all[std::min(all.size() - 1, static_cast<size_t>(p * all.size()))];
  };
  f.p50_ms = pct(0.50);
  f.p99_ms = pct(0.99);
  return f;
}

// Slow clients at a door: each sends its request a byte every 3 s; one cut off is reopened.
class SlowClients {
 public:
  SlowClients(const Door& door, int n) : door_(door) {
    thread_ = std::thread([this, n] { run(n); });
  }
  ~SlowClients() {
    stop_ = true;
    thread_.join();
  }
  int opened() const { return opened_; }

 private:
  void run(int n) {
    const testing::TlsOptions tls;
    const std::string request = testing::get_request("/api/v1/sites");
    std::vector<std::unique_ptr<testing::Client>> slow;
    std::vector<size_t> sent;
    while (!stop_) {
      for (size_t i = 0; i < slow.size(); ++i) {
        if (slow[i]->closed_within(0ms) || sent[i] >= request.size()) {
          slow[i] = open();
          sent[i] = 0;
        }
        slow[i]->send(request.substr(sent[i]++, 1));
      }
      while (static_cast<int>(slow.size()) < n && !stop_) {
        slow.push_back(open());
        sent.push_back(0);
      }
      for (int i = 0; i < 30 && !stop_; ++i) std::this_thread::sleep_for(100ms);
    }
  }
  std::unique_ptr<testing::Client> open() {
    ++opened_;
    const testing::TlsOptions tls;
    return std::make_unique<testing::Client>(fmt::format("127.0.3.{}", 1 + opened_ % 250),
                                             door_.port, door_.https ? &tls : nullptr);
  }

  const Door door_;
  std::atomic<bool> stop_ = false;
  std::atomic<int> opened_ = 0;
  std::thread thread_;
};

std::unique_ptr<Service> start_service(const std::filesystem::path& dir, bool tls) {
  ServerConfig c = testing::test_server_config(dir);
  c.trusted_proxies = {"127.0.0.1"};
  if (tls) {
    testing::make_test_certificate(dir / "cert.pem", dir / "key.pem", dir);
    c.tls_cert = dir / "cert.pem";
    c.tls_key = dir / "key.pem";
  }
  ServiceHooks hooks;
  hooks.detector = testing::FakeDetector::fixed_people(3).choice();
  auto service = Service::create(std::move(c), std::move(hooks));
  if (!service) {
    std::cerr << service.error().message << "\n";
    std::exit(1);
  }
  return std::move(*service);
}

int bench(int argc, char** argv) {
  double seconds = 10;
  int clients = 4, slow = 300;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--seconds") seconds = std::atof(argv[i + 1]);
    if (a == "--clients") clients = std::atoi(argv[i + 1]);
    if (a == "--slow") slow = std::atoi(argv[i + 1]);
  }
  log::setup("warn");
  testing::TempDir plain_dir, tls_dir;
  auto plain = start_service(plain_dir.path(), false);
  auto own_tls = start_service(tls_dir.path(), true);
  const int plain_port = plain->start().value();
  const int tls_port = own_tls->start().value();
  testing::FrontDoor nginx(plain_port, plain_dir / "dashboard");
  if (!nginx.ok()) {
    std::cerr << nginx.error() << "\n";
    return 1;
  }
  const std::vector<Door> doors = {
      {"service, HTTP", plain_port, false, ""},
      {"service, its own HTTPS", tls_port, true, (tls_dir / "cert.pem").string()},
      {"nginx, HTTPS", nginx.https_port(), true, nginx.cert().string()},
  };

  // A session for the dashboard's poll, in each service's database.
  httplib::Headers plain_session, tls_session;
  {
    auto c = client_for(doors[0]);
    plain_session = testing::log_in_as(*c, plain->store(), Role::kOrganizer);
    auto t = client_for(doors[1]);
    tls_session = testing::log_in_as(*t, own_tls->store(), Role::kOrganizer);
  }
  const std::vector<Site> sites = testing::small_province();
  std::atomic<std::int64_t> sequence = 0;
  NodeCount count;
  count.count = count.frame_count = 30;
  count.width = 1280;
  count.height = 720;
  count.model = "yunet";
  count.model_sha256 = {yunet_2022mar().sha256};
  count.detector_ms = 74;
  count.frames_counted = 5;
  count.rate_hz = 1;
  const std::string body = count.to_json();
  const auto upload = [&](httplib::Client& c, int t) {
    const Site& site = sites[static_cast<size_t>(t) % sites.size()];
    auto res = testing::post_signed(c, wire::kCountsPath, site.id, std::to_string(++sequence),
                                    std::to_string(now_ms()), body, wire::kJsonContentType);
    return res && res->status == 201;
  };

  std::cout << "| door | slow clients | uploads/s | upload p50 ms | upload p99 ms | failed | "
               "/api/v1/sites per s | p50 ms | p99 ms | failed |\n"
               "|---|---|---|---|---|---|---|---|---|---|\n";
  for (const Door& door : doors) {
    const httplib::Headers& session = door.port == tls_port ? tls_session : plain_session;
    const auto poll = [&](httplib::Client& c, int) {
      auto res = c.Get("/api/v1/sites", session);
      return res && res->status == 200;
    };
    for (const int held : {0, slow}) {
      std::unique_ptr<SlowClients> attack;
      if (held > 0) {
        attack = std::make_unique<SlowClients>(door, held);
        std::this_thread::sleep_for(5s);  // all of them open
      }
      const Figures up = measure(door, clients, seconds, upload);
      const Figures get = measure(door, clients, seconds, poll);
      std::cout
          << fmt::format(
                 "| {} | {} | {:.0f} | {:.1f} | {:.1f} | {} | {:.0f} | {:.1f} | {:.1f} | {} |",
                 door.name, held, up.per_s, up.p50_ms, up.p99_ms, up.failed, get.per_s, get.p50_ms,
                 get.p99_ms, get.failed)
          << std::endl;
    }
  }
  own_tls->stop();
  plain->stop();
  return 0;
}

}  // namespace
}  // namespace att

int main(int argc, char** argv) {
  return att::bench(argc, argv);
}
