#include "tests/support/raw_http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <optional>

namespace att::testing {
namespace {

// Parses one HTTP/1.1 response at the start of `in`; nullopt while it is incomplete.
std::optional<HttpAnswer> parse_response(const std::string& in, bool closed) {
  const size_t end = in.find("\r\n\r\n");
  if (end == std::string::npos) return std::nullopt;
  HttpAnswer a;
  const size_t line_end = in.find("\r\n");
  const std::string status_line = in.substr(0, line_end);
  if (status_line.size() < 12 || !status_line.starts_with("HTTP/1.")) {
    a.error = "not an HTTP answer: " + status_line.substr(0, 60);
    return a;
  }
  a.status = std::atoi(status_line.c_str() + 9);
  size_t at = line_end + 2;
  while (at < end) {
    const size_t next = in.find("\r\n", at);
    const std::string line = in.substr(at, next - at);
    const size_t colon = line.find(':');
    if (colon != std::string::npos) {
      size_t v = colon + 1;
      while (v < line.size() && line[v] == ' ') ++v;
      a.headers.emplace(line.substr(0, colon), line.substr(v));
    }
    at = next + 2;
  }
  const std::string length = a.header("Content-Length");
  const size_t body_at = end + 4;
  if (!length.empty()) {
    const size_t n = std::stoul(length);
    if (in.size() < body_at + n) return closed ? std::optional(a) : std::nullopt;
    a.body = in.substr(body_at, n);
    return a;
  }
  if (!closed) return std::nullopt;
  a.body = in.substr(body_at);
  return a;
}

HttpAnswer no_answer(std::string why) {
  HttpAnswer none;
  none.error = std::move(why);
  return none;
}

}  // namespace

std::string HttpAnswer::header(const std::string& name) const {
  for (const auto& [k, v] : headers) {
    if (strcasecmp(k.c_str(), name.c_str()) == 0) return v;
  }
  return "";
}

nlohmann::json HttpAnswer::body_json() const {
  return nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
}

std::string HttpAnswer::code() const {
  const nlohmann::json j = body_json();
  return j.is_object() && j.contains("code") && j["code"].is_string() ? j["code"].get<std::string>()
                                                                      : "";
}

std::string HttpAnswer::describe() const {
  if (status == 0) return "no answer (" + error + ")";
  return std::to_string(status) + " " + body.substr(0, 300);
}

HttpAnswer from_result(const httplib::Result& res) {
  if (!res) return no_answer(httplib::to_string(res.error()));
  HttpAnswer a;
  a.status = res->status;
  for (const auto& [k, v] : res->headers) a.headers.emplace(k, v);
  a.body = res->body;
  return a;
}

RawConnection::RawConnection(int port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0) return;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  timeval tv{15, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

RawConnection::~RawConnection() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawConnection::send_all(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

void RawConnection::close_sending() {
  ::shutdown(fd_, SHUT_WR);
}

bool RawConnection::readable_within(std::chrono::milliseconds limit) {
  pollfd p{fd_, POLLIN, 0};
  return ::poll(&p, 1, static_cast<int>(limit.count())) == 1;
}

HttpAnswer RawConnection::receive() {
  std::string in;
  char buf[65536];
  for (;;) {
    if (auto a = parse_response(in, false)) return *a;
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) break;
    in.append(buf, static_cast<size_t>(n));
  }
  if (auto a = parse_response(in, true)) return *a;
  return no_answer(in.empty() ? "connection closed" : "incomplete answer: " + in.substr(0, 80));
}

HttpAnswer raw_exchange(int port, const std::string& head, const std::string& body,
                        bool then_close) {
  RawConnection c(port);
  if (!c.ok()) return no_answer("cannot connect");
  c.send_all(head);
  if (c.readable_within(std::chrono::seconds(1))) return c.receive();
  c.send_all(body);
  if (then_close) c.close_sending();
  return c.receive();
}

HttpAnswer chunked_flood(int port, const std::string& head, size_t total) {
  RawConnection c(port);
  if (!c.ok()) return no_answer("cannot connect");
  c.send_all(head);
  if (c.readable_within(std::chrono::seconds(2))) return c.receive();
  const std::string chunk = "10000\r\n" + std::string(0x10000, 'x') + "\r\n";
  for (size_t sent = 0; sent < total; sent += 0x10000) {
    if (!c.send_all(chunk)) break;
  }
  c.send_all("0\r\n\r\n");
  return c.receive();
}

}  // namespace att::testing
