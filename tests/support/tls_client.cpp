#include "tests/support/tls_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

namespace att::testing {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

std::string Answer::header(const std::string& name) const {
  std::string lower_head = head, key = "\r\n" + name + ":";
  std::ranges::transform(lower_head, lower_head.begin(), ::tolower);
  std::ranges::transform(key, key.begin(), ::tolower);
  const size_t at = lower_head.find(key);
  if (at == std::string::npos) return "";
  const size_t start = at + key.size(), end = head.find("\r\n", start);
  std::string v = head.substr(start, end - start);
  while (!v.empty() && v.front() == ' ') v.erase(0, 1);
  return v;
}

std::string Answer::code() const {
  const nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  return j.is_object() && j.contains("code") && j["code"].is_string() ? j["code"].get<std::string>()
                                                                      : "";
}

Client::Client(const std::string& source, int port, const TlsOptions* tls) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in from{}, to{};
  from.sin_family = to.sin_family = AF_INET;
  inet_pton(AF_INET, source.c_str(), &from.sin_addr);
  inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  to.sin_port = htons(static_cast<uint16_t>(port));
  timeval limit{15, 0};
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0 ||
      ::connect(fd_, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
    ::close(fd_);
    fd_ = -1;
    return;
  }
  if (!tls) return;
  ctx_ = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_min_proto_version(ctx_, tls->min_version);
  SSL_CTX_set_max_proto_version(ctx_, tls->max_version);
  SSL_CTX_set_security_level(ctx_, 0);  // let old protocols be offered: the server decides
  if (!tls->ciphers.empty()) SSL_CTX_set_cipher_list(ctx_, tls->ciphers.c_str());
  ssl_ = SSL_new(ctx_);
  SSL_set_fd(ssl_, fd_);
  SSL_set_tlsext_host_name(ssl_, "localhost");
  handshake_ok_ = SSL_connect(ssl_) == 1;
  ERR_clear_error();
}

Client::~Client() {
  if (ssl_) SSL_free(ssl_);
  if (ctx_) SSL_CTX_free(ctx_);
  if (fd_ >= 0) ::close(fd_);
}

std::string Client::cipher() const {
  return ssl_ ? SSL_get_cipher_name(ssl_) : "";
}

std::string Client::protocol() const {
  return ssl_ ? SSL_get_version(ssl_) : "";
}

bool Client::send(const std::string& bytes) {
  if (fd_ < 0 || (ssl_ && !handshake_ok_)) return false;
  size_t sent = 0;
  while (sent < bytes.size()) {
    const int n =
        ssl_
            ? SSL_write(ssl_, bytes.data() + sent, static_cast<int>(bytes.size() - sent))
            : static_cast<int>(::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL));
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

std::string Client::read_some(std::chrono::milliseconds limit) {
  if (fd_ < 0) return "";
  if (!(ssl_ && SSL_pending(ssl_) > 0)) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(limit.count())) <= 0) return "";
  }
  char buf[16384];
  const int n =
      ssl_ ? SSL_read(ssl_, buf, sizeof buf) : static_cast<int>(::recv(fd_, buf, sizeof buf, 0));
  if (n <= 0) ended_ = true;
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

bool Client::closed_within(std::chrono::milliseconds limit) {
  const auto until = Clock::now() + limit;
  while (!ended_ && Clock::now() < until) {
    read_some(std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()));
  }
  return ended_;
}

Answer Client::receive(std::chrono::milliseconds limit) {
  Answer a;
  const auto until = Clock::now() + limit;
  size_t head_end = std::string::npos;
  while (Clock::now() < until && !ended_) {
    buffer_ += read_some(100ms);
    head_end = buffer_.find("\r\n\r\n");
    if (head_end == std::string::npos) continue;
    a.head = buffer_.substr(0, head_end + 2);
    const std::string length = a.header("Content-Length");
    if (!length.empty() && buffer_.size() >= head_end + 4 + std::stoul(length)) break;
  }
  if (head_end == std::string::npos) head_end = buffer_.find("\r\n\r\n");
  if (head_end == std::string::npos) return a;
  a.head = buffer_.substr(0, head_end + 2);
  if (a.head.starts_with("HTTP/1.")) a.status = std::atoi(a.head.c_str() + 9);
  const std::string length = a.header("Content-Length");
  const size_t n = length.empty()
                       ? buffer_.size() - head_end - 4
                       : std::min<size_t>(std::stoul(length), buffer_.size() - head_end - 4);
  a.body = buffer_.substr(head_end + 4, n);
  buffer_.erase(0, head_end + 4 + n);
  return a;
}

std::string get_request(const std::string& target, const std::string& extra) {
  return "GET " + target + " HTTP/1.1\r\nHost: localhost\r\n" + extra + "\r\n";
}

}  // namespace att::testing
