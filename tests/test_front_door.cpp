// The front door: nginx (config/nginx/attendance.conf, Debian's nginx-light) in front of the
// real service on loopback, both started by each test, attacked as a broken or hostile client
// would: slow and idle connections by the hundred, bodies where none belongs, a request hidden
// in a body, headers by the hundred thousand, login floods, streams held open, TLS without
// forward secrecy. Each test asserts the answer the attacker gets and what the others see
// meanwhile: node uploads and /healthz still answered in their usual time, nothing lost after.
// Clients come from 127.0.0.2, 127.0.0.3, ... where the address matters (all of 127/8 is this
// machine), so that nginx and the service see them as different clients.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "analysis/app/server_config.h"
#include "analysis/app/service.h"
#include "analysis/web/http_server.h"
#include "protocol/wire.h"
#include "tests/support/fake_detector.h"
#include "tests/support/nginx.h"
#include "tests/support/test_support.h"
#include "tests/support/tls_client.h"

namespace att {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

using testing::Answer;
using testing::Client;
using testing::TlsOptions;
const TlsOptions kModernTls{};

std::string get(const std::string& target, const std::string& extra = "") {
  return testing::get_request(target, extra);
}

// ----------------------------------------------------------------------------------------
// The service and nginx in front of it

class FrontDoorTest : public ::testing::Test {
 public:
  // What the others see while an attack goes on (others_for).
  struct Others {
    int uploads = 0, stored = 0, health = 0, failed = 0;
    double slowest_upload_s = 0, slowest_health_s = 0;
    std::string first_failure;
  };

 protected:
  void SetUp() override { start_service(); }

  void start_service(bool tls = false) {
    testing::write_file(dir_ / "dashboard" / "index.html",
                        "<!doctype html><title>Điểm danh</title><p>dashboard from disk");
    ServerConfig config = testing::test_server_config(dir_.path());
    config.dashboard_dir = dir_ / "dashboard";
    config.http_threads = 16;
    config.trusted_proxies = {"127.0.0.1"};
    config.request_timeout_s = 5;
    if (tls) {
      ASSERT_TRUE(
          testing::make_test_certificate(dir_ / "own-cert.pem", dir_ / "own-key.pem", dir_.path()));
      config.tls_cert = dir_ / "own-cert.pem";
      config.tls_key = dir_ / "own-key.pem";
    }
    ServiceHooks hooks;
    hooks.detector = testing::FakeDetector::fixed_people(3).choice();
    auto service = Service::create(std::move(config), std::move(hooks));
    ASSERT_TRUE(service) << service.error().message;
    service_ = std::move(*service);
    auto port = service_->start();
    ASSERT_TRUE(port) << port.error().message;
    port_ = *port;
  }

  void start_nginx() {
    nginx_ = std::make_unique<testing::FrontDoor>(port_, dir_ / "dashboard");
    ASSERT_TRUE(nginx_->ok()) << nginx_->error();
  }

  // A node's client through nginx, checking nginx's certificate.
  std::unique_ptr<httplib::Client> node_client() {
    auto c = std::make_unique<httplib::Client>("https://localhost:" +
                                               std::to_string(nginx_->https_port()));
    c->set_ca_cert_path(nginx_->cert().c_str());
    c->enable_server_certificate_verification(true);
    c->set_connection_timeout(15s);
    c->set_read_timeout(15s);
    return c;
  }

  // What the others see while an attack goes on: a node uploading a frame and /healthz asked,
  // each every 200 ms through nginx, for `how_long`; then `stop` is set (the attack ends).
  // Their slowest answers and any failure.
  Others others_for(std::chrono::seconds how_long, std::atomic<bool>& stop,
                    const std::string& site) {
    Others o;
    const auto end = Clock::now() + how_long;
    auto node = node_client();
    const std::string jpeg = testing::synthetic_jpeg(320, 240);
    for (int seq = 1; Clock::now() < end; ++seq) {
      auto t = Clock::now();
      auto up = testing::post_signed(*node, wire::kFramesPath, site, std::to_string(seq),
                                     std::to_string(now_ms()), jpeg, wire::kJpegContentType);
      o.slowest_upload_s = std::max(o.slowest_upload_s, seconds_since(t));
      ++o.uploads;
      if (up && up->status == 201) {
        ++o.stored;
      } else {
        ++o.failed;
        if (o.first_failure.empty())
          o.first_failure =
              up ? std::to_string(up->status) + " " + up->body : httplib::to_string(up.error());
      }
      t = Clock::now();
      auto health = node->Get("/healthz");
      o.slowest_health_s = std::max(o.slowest_health_s, seconds_since(t));
      if (health && health->status == 200) {
        ++o.health;
      } else {
        ++o.failed;
        if (o.first_failure.empty()) o.first_failure = "healthz failed";
      }
      std::this_thread::sleep_for(200ms);
    }
    stop = true;
    return o;
  }

  int observations(const std::string& site) {
    testing::RawDb db(dir_ / "data" / "attendance.db");
    return db.integer("SELECT count(*) FROM observations WHERE site_id = '" + site + "'");
  }

  testing::TempDir dir_;
  std::unique_ptr<Service> service_;
  int port_ = 0;
  std::unique_ptr<testing::FrontDoor> nginx_;
};

void print_others(const char* during, const FrontDoorTest::Others& o) {
  std::cout << fmt::format(
      "[figures] during {}: {} uploads ({} stored), slowest {:.3f} s; {} /healthz, slowest "
      "{:.3f} s; {} failed\n",
      during, o.uploads, o.stored, o.slowest_upload_s, o.health, o.slowest_health_s, o.failed);
}

// ----------------------------------------------------------------------------------------

TEST_F(FrontDoorTest, TheDashboardComesFromDiskWithSecurityHeadersEvenWhenTheServiceIsDown) {
  start_nginx();
  auto browser = node_client();
  auto page = browser->Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("dashboard from disk"), std::string::npos) << page->body;
  EXPECT_EQ(page->get_header_value("Strict-Transport-Security"), "max-age=31536000");
  EXPECT_NE(page->get_header_value("Content-Security-Policy").find("default-src 'self'"),
            std::string::npos);
  EXPECT_EQ(page->get_header_value("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(page->get_header_value("Cache-Control"), "no-cache");
  // Plain HTTP only points to HTTPS.
  httplib::Client plain("127.0.0.1", nginx_->http_port());
  auto moved = plain.Get("/api/v1/sites");
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->status, 308);
  EXPECT_EQ(moved->get_header_value("Location"), "https://127.0.0.1/api/v1/sites");

  service_->stop();
  auto still = browser->Get("/");
  ASSERT_TRUE(still);
  EXPECT_EQ(still->status, 200) << "the page is nginx's to serve";
  auto api = browser->Get("/api/v1/sites");
  ASSERT_TRUE(api);
  EXPECT_EQ(api->status, 503);
  EXPECT_EQ(json::parse(api->body, nullptr, false).value("code", ""), "service_unavailable");
  EXPECT_EQ(api->get_header_value("Retry-After"), "5");
}

TEST_F(FrontDoorTest, TheServiceSeesTheRealClientOnlyThroughItsTrustedProxy) {
  start_nginx();
  testing::add_user(service_->store(), "tech", Role::kTechnician);
  const std::string login =
      R"({"user":"tech","password":")" + std::string(testing::kTestPassword) + R"("})";
  // Through nginx over HTTPS: the cookie is Secure, and the login is logged from the client's
  // own address (a spoofed X-Forwarded-For is replaced by nginx).
  Client browser("127.0.0.7", nginx_->https_port(), &kModernTls);
  ASSERT_TRUE(browser.handshake_ok());
  ASSERT_TRUE(browser.send(
      "POST /api/v1/login HTTP/1.1\r\nHost: localhost\r\nX-Forwarded-For: 198.51.100.1\r\n"
      "Content-Type: application/json\r\nContent-Length: " +
      std::to_string(login.size()) + "\r\n\r\n" + login));
  const Answer in = browser.receive();
  ASSERT_EQ(in.status, 200) << in.head << in.body;
  EXPECT_NE(in.header("Set-Cookie").find("; Secure"), std::string::npos) << in.head;
  const std::string cookie = in.header("Set-Cookie").substr(0, in.header("Set-Cookie").find(';'));
  // The audit trail names the reader's real address.
  ASSERT_TRUE(browser.send(get("/api/v1/roll-calls", "Cookie: " + cookie + "\r\n")));
  const Answer calls = browser.receive();
  EXPECT_EQ(calls.status, 403) << "technicians do not read the record: " << calls.body;
  testing::add_user(service_->store(), "aud", Role::kAuditor);
  httplib::Headers auditor;
  {
    auto c = node_client();
    c->set_default_headers({{"X-Forwarded-For", "198.51.100.1"}});
    auditor = testing::log_in(*c, "aud");
  }
  Client reader("127.0.0.8", nginx_->https_port(), &kModernTls);
  ASSERT_TRUE(
      reader.send(get("/api/v1/roll-calls", "Cookie: " + auditor.find("Cookie")->second + "\r\n")));
  EXPECT_EQ(reader.receive().status, 200);
  testing::RawDb db(dir_ / "data" / "attendance.db");
  EXPECT_EQ(db.scalar("SELECT actor FROM audit_trail ORDER BY seq DESC LIMIT 1"), "aud@127.0.0.8");

  // Directly: X-Forwarded-For counts only from the trusted proxy's address (127.0.0.1 here).
  // From there, a client named outside this machine may not read /metrics; from any other
  // address the header is ignored, and a loopback client may.
  Client via_proxy("127.0.0.1", port_);
  ASSERT_TRUE(via_proxy.send(get("/metrics", "X-Forwarded-For: 203.0.113.9\r\n")));
  EXPECT_EQ(via_proxy.receive().status, 401);
  Client spoofer("127.0.0.9", port_);
  ASSERT_TRUE(spoofer.send(get("/metrics", "X-Forwarded-For: 203.0.113.9\r\n")));
  EXPECT_EQ(spoofer.receive().status, 200);
  // Over plain HTTP directly, the cookie is not Secure; told https by the proxy, it is.
  Client plain("127.0.0.1", port_);
  ASSERT_TRUE(
      plain.send("POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: "
                 "application/json\r\nContent-Length: " +
                 std::to_string(login.size()) + "\r\n\r\n" + login));
  const Answer direct = plain.receive();
  ASSERT_EQ(direct.status, 200) << direct.body;
  EXPECT_EQ(direct.header("Set-Cookie").find("Secure"), std::string::npos);
}

TEST_F(FrontDoorTest, TlsIsTwelveWithForwardSecrecyInTheServersOrderOrThirteen) {
  start_nginx();
  // The service's own TLS has nginx's policy: the same suites, word for word.
  const std::string conf =
      testing::read_file(fs::path(ATTENDANCE_SOURCE_DIR) / "config" / "nginx" / "attendance.conf");
  EXPECT_NE(conf.find(std::string("ssl_ciphers ") + kTlsCiphers + ";"), std::string::npos);
  const auto check = [](int port, const char* who) {
    SCOPED_TRACE(who);
    const TlsOptions tls11{TLS1_VERSION, TLS1_1_VERSION, ""};
    EXPECT_FALSE(Client("127.0.0.1", port, &tls11).handshake_ok()) << "TLS 1.1 refused";
    const TlsOptions rsa_kx{TLS1_2_VERSION, TLS1_2_VERSION, "AES128-GCM-SHA256:AES256-SHA"};
    EXPECT_FALSE(Client("127.0.0.1", port, &rsa_kx).handshake_ok())
        << "no suite without forward secrecy";
    const TlsOptions chacha_first{TLS1_2_VERSION, TLS1_2_VERSION,
                                  "ECDHE-RSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256"};
    Client twelve("127.0.0.1", port, &chacha_first);
    ASSERT_TRUE(twelve.handshake_ok());
    EXPECT_EQ(twelve.cipher(), "ECDHE-RSA-AES128-GCM-SHA256") << "the server's order";
    Client thirteen("127.0.0.1", port, &kModernTls);
    ASSERT_TRUE(thirteen.handshake_ok());
    EXPECT_EQ(thirteen.protocol(), "TLSv1.3");
    ASSERT_TRUE(thirteen.send(get("/healthz", "Connection: close\r\n")));
    EXPECT_EQ(thirteen.receive().status, 200);
  };
  check(nginx_->https_port(), "nginx");
  service_->stop();
  service_.reset();
  start_service(/*tls=*/true);
  check(port_, "the service's own TLS");
  // A silent connection to the service's TLS port is closed once the handshake has taken
  // request_timeout_s (5 s here), not left holding a thread.
  Client silent("127.0.0.2", port_);
  const auto t = Clock::now();
  EXPECT_TRUE(silent.closed_within(15s));
  EXPECT_LT(seconds_since(t), 10.0);
}

TEST_F(FrontDoorTest, ABodyWhereNoneBelongsIsRefusedAndEndsTheConnection) {
  // A GET whose body holds a second request: refused, and the connection ends, so the hidden
  // request is never answered.
  const std::string hidden = get("/metrics");
  const std::string padded = hidden + std::string(4096 - hidden.size(), ' ');
  const std::string smuggler =
      "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 4096\r\n\r\n" + padded;
  {
    Client direct("127.0.0.1", port_);
    ASSERT_TRUE(direct.send(smuggler));
    const Answer a = direct.receive();
    EXPECT_EQ(a.status, 400);
    EXPECT_EQ(a.code(), "unexpected_body");
    EXPECT_EQ(a.header("Connection"), "close");
    EXPECT_TRUE(direct.closed_within(3s)) << "the connection stays open";
    EXPECT_EQ(direct.receive(1s).status, 0) << "the hidden request was answered";
  }
  // A refusal without reading the body (no session) ends the connection as it says.
  {
    Client direct("127.0.0.1", port_);
    ASSERT_TRUE(
        direct.send("POST /api/v1/roll-calls/corrections HTTP/1.1\r\nHost: x\r\n"
                    "Content-Length: 4096\r\n\r\n" +
                    padded));
    const Answer a = direct.receive();
    EXPECT_EQ(a.status, 401);
    EXPECT_EQ(a.header("Connection"), "close");
    EXPECT_TRUE(direct.closed_within(3s));
  }
  // Through nginx: the body is nginx's to read; the service refuses it all the same.
  start_nginx();
  Client front("127.0.0.2", nginx_->https_port(), &kModernTls);
  ASSERT_TRUE(front.send(smuggler));
  const Answer a = front.receive();
  EXPECT_EQ(a.status, 400);
  EXPECT_EQ(a.code(), "unexpected_body");
  EXPECT_EQ(front.receive(1s).status, 0) << "the hidden request was answered";
}

TEST_F(FrontDoorTest, HeadersByTheHundredThousandNeverReachTheServicesMemory) {
  std::string many;
  for (int i = 0; i < 100000; ++i) many += fmt::format("X-H{}: v\r\n", i);
  const std::string request = "GET /healthz HTTP/1.1\r\nHost: x\r\n" + many + "\r\n";
  // The service alone cuts a request's head at 64 KiB.
  for (int i = 0; i < 4; ++i) {
    Client direct("127.0.0.1", port_);
    direct.send(request);  // cut off part way
    const Answer a = direct.receive();
    EXPECT_EQ(a.status, 431);
    EXPECT_EQ(a.code(), "headers_too_large");
  }
  httplib::Client probe("127.0.0.1", port_);
  auto metrics = probe.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(
      metrics->body.find("attendance_http_connections_total{event=\"headers_too_large\"} 4\n"),
      std::string::npos);
  // nginx refuses it before the service sees a byte.
  start_nginx();
  for (int i = 0; i < 4; ++i) {
    Client front("127.0.0.2", nginx_->https_port(), &kModernTls);
    front.send(request);
    const Answer a = front.receive();
    EXPECT_EQ(a.status, 400) << a.head;
  }
  auto health = probe.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
}

TEST_F(FrontDoorTest, SlowClientsWaitInNginxWhileNodesAndHealthChecksGoOn) {
  start_nginx();
  // 150 clients through nginx, each sending its request a byte every 3 s.
  std::vector<std::unique_ptr<Client>> slow;
  for (int i = 0; i < 150; ++i) {
    slow.push_back(std::make_unique<Client>(fmt::format("127.0.1.{}", 1 + i % 250),
                                            nginx_->https_port(), &kModernTls));
    ASSERT_TRUE(slow.back()->handshake_ok()) << i;
  }
  std::atomic<bool> stop = false;
  std::thread trickle([&] {
    const std::string request = get("/api/v1/sites");
    for (size_t byte = 0; !stop && byte < request.size(); ++byte) {
      for (auto& c : slow) c->send(request.substr(byte, 1));
      for (int i = 0; i < 30 && !stop; ++i) std::this_thread::sleep_for(100ms);
    }
  });
  const Others o = others_for(15s, stop, "td-01");
  trickle.join();
  print_others("150 slow clients", o);
  EXPECT_EQ(o.failed, 0) << o.first_failure;
  EXPECT_GT(o.uploads, 10);
  EXPECT_LT(o.slowest_upload_s, 2.0);
  EXPECT_LT(o.slowest_health_s, 2.0);
  EXPECT_EQ(observations("td-01"), o.stored) << "an acknowledged upload was lost";
  // nginx gave up on them (client_header_timeout 10 s) without the service seeing them.
  int closed = 0;
  for (auto& c : slow) closed += c->closed_within(100ms) ? 1 : 0;
  EXPECT_EQ(closed, 150);
}

TEST_F(FrontDoorTest, IdleConnectionsByTheHundredWaitInNginxWhileNodesGoOn) {
  start_nginx();
  // 500 connections that never send a byte, reopened as nginx closes them.
  std::atomic<bool> stop = false;
  std::atomic<int> opened = 0;
  std::thread idlers([&] {
    std::vector<std::unique_ptr<Client>> idle;
    while (!stop) {
      std::erase_if(idle, [](auto& c) { return c->closed_within(0ms); });
      while (idle.size() < 500 && !stop) {
        idle.push_back(std::make_unique<Client>(fmt::format("127.0.2.{}", 1 + opened % 250),
                                                nginx_->https_port()));
        ++opened;
      }
      std::this_thread::sleep_for(200ms);
    }
  });
  const Others o = others_for(15s, stop, "td-02");
  idlers.join();
  print_others("500 idle connections", o);
  std::cout << "[figures] idle connections opened: " << opened << "\n";
  EXPECT_GE(opened, 500);
  EXPECT_EQ(o.failed, 0) << o.first_failure;
  EXPECT_LT(o.slowest_upload_s, 2.0);
  EXPECT_LT(o.slowest_health_s, 2.0);
  EXPECT_EQ(observations("td-02"), o.stored);
}

TEST_F(FrontDoorTest, ASlowClientDirectlyAtTheServiceIsCutOffAtItsRequestTimeout) {
  // Without nginx a slow client holds a thread, but only for request_timeout_s (5 s here).
  Client slow("127.0.0.1", port_);
  const std::string request = get("/api/v1/sites");
  const auto t = Clock::now();
  Answer a;
  for (size_t i = 0; i < request.size() && a.status == 0; ++i) {
    slow.send(request.substr(i, 1));
    const std::string got = slow.read_some(1000ms);
    if (!got.empty()) {
      a.head = got;
      a.status = std::atoi(got.c_str() + 9);
    }
  }
  EXPECT_EQ(a.status, 408) << "[" << a.head << "]";
  EXPECT_NE(a.head.find("request_timeout"), std::string::npos) << a.head;
  EXPECT_LT(seconds_since(t), 8.0);
  // Counted where an operator looks.
  httplib::Client probe("127.0.0.1", port_);
  auto metrics = probe.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("attendance_http_connections_total{event=\"request_timeout\"} 1\n"),
            std::string::npos)
      << metrics->body;
}

TEST_F(FrontDoorTest, LoginsAreRateLimitedPerAddressAndStreamsCappedPerAddress) {
  start_nginx();
  testing::add_user(service_->store(), "tech", Role::kTechnician);
  const std::string bad = R"({"user":"tech","password":"wrong-password"})";
  const auto login_from = [&](const std::string& source, const std::string& body) {
    Client c(source, nginx_->https_port(), &kModernTls);
    c.send(
        "POST /api/v1/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        "Content-Length: " +
        std::to_string(body.size()) + "\r\n\r\n" + body);
    return c.receive();
  };
  // Past a burst of 10, nginx refuses (too_many_requests); before, the service answers 401,
  // and 429 too_many_attempts once this name failed 5 times from this address.
  int by_nginx = 0, by_service = 0;
  for (int i = 0; i < 20; ++i) {
    const Answer a = login_from("127.0.0.20", bad);
    by_nginx += a.code() == "too_many_requests";
    by_service += a.code() == "too_many_attempts";
    EXPECT_TRUE(a.status == 401 || a.status == 429) << a.status << " " << a.body;
  }
  EXPECT_GE(by_nginx, 9);
  EXPECT_GE(by_service, 1);
  const std::string good =
      R"({"user":"tech","password":")" + std::string(testing::kTestPassword) + R"("})";
  const Answer in = login_from("127.0.0.21", good);
  ASSERT_EQ(in.status, 200) << "another address is not limited: " << in.body;
  const std::string cookie = in.header("Set-Cookie").substr(0, in.header("Set-Cookie").find(';'));

  // Event streams: passed on at once, four per address.
  std::vector<std::unique_ptr<Client>> streams;
  for (int i = 0; i < 4; ++i) {
    streams.push_back(std::make_unique<Client>("127.0.0.21", nginx_->https_port(), &kModernTls));
    ASSERT_TRUE(streams.back()->send(get("/api/v1/events", "Cookie: " + cookie + "\r\n")));
    std::string got;
    const auto t = Clock::now();
    while (got.find(": subscribed") == std::string::npos && seconds_since(t) < 3)
      got += streams.back()->read_some(200ms);
    EXPECT_NE(got.find(": subscribed"), std::string::npos) << "stream " << i << ": " << got;
  }
  Client fifth("127.0.0.21", nginx_->https_port(), &kModernTls);
  ASSERT_TRUE(fifth.send(get("/api/v1/events", "Cookie: " + cookie + "\r\n")));
  const Answer capped = fifth.receive();
  EXPECT_EQ(capped.status, 429);
  EXPECT_EQ(capped.code(), "too_many_requests");
}

TEST(FrontDoorInstall, TheInstalledServerRunsOnLoopbackBehindNginx) {
  testing::TempDir dest;
  const fs::path source(ATTENDANCE_SOURCE_DIR);
  const testing::CommandRun run =
      testing::run_command({"/bin/bash", (source / "scripts" / "install.sh").string(), "server",
                            "--destdir", dest.path().string(), "--host", "diemdanh.example.vn"},
                           dest.path());
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  // nginx's part: the project's config with the installed places.
  EXPECT_EQ(testing::read_file(dest / "etc" / "nginx" / "conf.d" / "attendance.conf"),
            testing::attendance_nginx_conf(
                {{"SERVICES", "server 127.0.0.1:8080 max_fails=1 fail_timeout=5s;"},
                 {"DASHBOARD", "/opt/attendance/dashboard"},
                 {"CERT", "/etc/attendance/tls/cert.pem"},
                 {"KEY", "/etc/attendance/tls/key.pem"},
                 {"HTTPS", "443"},
                 {"HTTP", "80"}}));
  EXPECT_TRUE(fs::exists(dest / "opt" / "attendance" / "dashboard" / "index.html"));
  EXPECT_EQ(
      fs::status(dest / "etc" / "attendance" / "tls" / "key.pem").permissions() & fs::perms::all,
      fs::perms::owner_read | fs::perms::owner_write);
  // The service's part: on loopback, trusting nginx on this machine.
  auto config = load_server_config(dest / "etc" / "attendance" / "server.yaml");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->listen_host, "127.0.0.1");
  EXPECT_EQ(config->listen_port, 8080);
  EXPECT_EQ(config->trusted_proxies, (std::vector<std::string>{"127.0.0.1", "::1"}));
  EXPECT_EQ(config->dashboard_dir, fs::path("/opt/attendance/dashboard"));
  EXPECT_TRUE(config->tls_cert.empty());
}

TEST(FrontDoorInstall, SeveralProcessesOnPostgresqlAreEachBehindNginx) {
  testing::TempDir dest;
  const fs::path source(ATTENDANCE_SOURCE_DIR);
  const std::vector<std::string> install = {"/bin/bash",
                                            (source / "scripts" / "install.sh").string(),
                                            "server",
                                            "--destdir",
                                            dest.path().string(),
                                            "--host",
                                            "diemdanh.example.vn",
                                            "--processes",
                                            "3"};
  // Several processes share one PostgreSQL database: without one they are refused.
  const testing::CommandRun refused = testing::run_command(install, dest.path());
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find("--processes 3 needs --postgres"), std::string::npos) << refused.err;
  EXPECT_FALSE(fs::exists(dest / "etc" / "attendance"));

  std::vector<std::string> with_db = install;
  with_db.insert(with_db.end(), {"--postgres", "host=db.example.vn dbname=attendance"});
  const testing::CommandRun run = testing::run_command(with_db, dest.path());
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_EQ(testing::read_file(dest / "etc" / "nginx" / "conf.d" / "attendance.conf"),
            testing::attendance_nginx_conf(
                {{"SERVICES",
                  "server 127.0.0.1:8081 max_fails=1 fail_timeout=5s; server 127.0.0.1:8082 "
                  "max_fails=1 fail_timeout=5s; server 127.0.0.1:8083 max_fails=1 "
                  "fail_timeout=5s;"},
                 {"DASHBOARD", "/opt/attendance/dashboard"},
                 {"CERT", "/etc/attendance/tls/cert.pem"},
                 {"KEY", "/etc/attendance/tls/key.pem"},
                 {"HTTPS", "443"},
                 {"HTTP", "80"}}));
  const std::string unit =
      testing::read_file(dest / "etc" / "systemd" / "system" / "attendance-server@.service");
  EXPECT_NE(unit.find("--listen 127.0.0.1:%i"), std::string::npos) << unit;
  auto config = load_server_config(dest / "etc" / "attendance" / "server.yaml");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->storage.backend, "postgres");
  EXPECT_EQ(config->storage.postgres, "host=db.example.vn dbname=attendance");
}

}  // namespace
}  // namespace att
