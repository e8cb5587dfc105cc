// HttpServer: each connection read and written through a stream of our own (deadlines, the
// header limit, TLS through OpenSSL directly), its requests handed to cpp-httplib one by one.
#include "analysis/web/http_server.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <netdb.h>
#include <openssl/err.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>

namespace att {
namespace {

using Clock = std::chrono::steady_clock;

thread_local bool t_close_after_answer = false;

std::string ssl_errors() {
  std::string out;
  while (const unsigned long e = ERR_get_error()) {
    std::array<char, 256> text{};
    ERR_error_string_n(e, text.data(), text.size());
    if (!out.empty()) out += "; ";
    out += text.data();
  }
  return out.empty() ? "no detail from OpenSSL" : out;
}

void address_of(int fd, bool peer, std::string& ip, int& port) {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  auto* sa = reinterpret_cast<sockaddr*>(&addr);
  if ((peer ? getpeername(fd, sa, &len) : getsockname(fd, sa, &len)) != 0) return;
  std::array<char, NI_MAXHOST> host{};
  std::array<char, NI_MAXSERV> serv{};
  if (getnameinfo(sa, len, host.data(), host.size(), serv.data(), serv.size(),
                  NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
    ip = host.data();
    port = std::atoi(serv.data());
  }
}

// One connection: a socket (non-blocking), and TLS on it when the server has a context.
class Connection final : public httplib::Stream {
 public:
  Connection(int fd, const ConnectionLimits& limits, ConnectionCounters& counters,
             const std::atomic<socket_t>& listening)
      : fd_(fd), limits_(limits), counters_(counters), listening_(listening) {
    fcntl(fd_, F_SETFL, fcntl(fd_, F_GETFL) | O_NONBLOCK);
  }
  ~Connection() override {
    if (ssl_) SSL_free(ssl_);
  }

  bool handshake(SSL_CTX* ctx) {
    ssl_ = SSL_new(ctx);
    if (!ssl_ || SSL_set_fd(ssl_, fd_) != 1) return false;
    deadline_ = Clock::now() + std::chrono::seconds(limits_.request_s);
    for (;;) {
      ERR_clear_error();
      const int r = SSL_accept(ssl_);
      if (r == 1) return true;
      const int err = SSL_get_error(ssl_, r);
      if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
        if (wait(err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline_)) continue;
      }
      ERR_clear_error();
      return false;
    }
  }

  // Whether a request's first byte comes within `seconds`.
  bool wait_for_request(int seconds) {
    if (pending() > 0) return true;
    return wait(POLLIN, Clock::now() + std::chrono::seconds(seconds));
  }

  void begin_request() {
    deadline_ = Clock::now() + std::chrono::seconds(limits_.request_s);
    in_headers_ = true;
    header_bytes_ = 0;
    line_length_ = 0;
    failed_ = false;
    written_ = false;
  }
  bool failed() const { return failed_; }

  // Shuts our side, reads and drops what the client still sends for a moment (a client that
  // sent more than we read would otherwise get a reset, and could lose our answer), closes.
  void linger_close() {
    if (ssl_) SSL_shutdown(ssl_);  // close_notify, without waiting for the client's
    ::shutdown(fd_, SHUT_WR);
    const auto until = Clock::now() + std::chrono::milliseconds(500);
    std::array<char, 4096> sink{};
    for (size_t dropped = 0; dropped < 65536 && wait(POLLIN, until);) {
      const ssize_t n = ::recv(fd_, sink.data(), sink.size(), 0);
      if (n <= 0) break;
      dropped += static_cast<size_t>(n);
    }
    ::close(fd_);
  }

  // httplib::Stream
  bool is_readable() const override { return pending() > 0 || wait(POLLIN, deadline_); }
  bool is_writable() const override {
    return wait(POLLOUT, Clock::now() + std::chrono::seconds(limits_.write_s));
  }

  ssize_t read(char* out, size_t size) override {
    if (failed_) return -1;
    if (begin_ == end_) {
      const ssize_t n = fill();
      if (n <= 0) return n;
    }
    size = std::min(size, end_ - begin_);
    if (in_headers_ && !count_header_bytes(size)) {
      ++counters_.headers_too_large;
      refuse(
          431, "Request Header Fields Too Large", "headers_too_large",
          "the request line and headers exceed " + std::to_string(limits_.header_bytes) + " bytes");
      return -1;
    }
    std::memcpy(out, buffer_.data() + begin_, size);
    begin_ += size;
    return static_cast<ssize_t>(size);
  }

  ssize_t write(const char* data, size_t size) override {
    if (refused_) return static_cast<ssize_t>(size);  // our refusal went instead
    const ssize_t n = send(data, size);
    if (n > 0) written_ = true;
    return n;
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    address_of(fd_, /*peer=*/true, ip, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    address_of(fd_, /*peer=*/false, ip, port);
  }
  socket_t socket() const override { return fd_; }

  // Answers the request being read with an error of ours (unless its answer has begun) and
  // ends the connection: what cpp-httplib would still write for it is dropped.
  void refuse(int status, const char* reason, const char* code, const std::string& message);

 private:
  ssize_t send(const char* data, size_t size) {
    const auto until = Clock::now() + std::chrono::seconds(limits_.write_s);
    for (;;) {
      if (ssl_) {
        ERR_clear_error();
        const int n = SSL_write(ssl_, data, static_cast<int>(std::min<size_t>(size, 1 << 30)));
        if (n > 0) return n;
        const int err = SSL_get_error(ssl_, n);
        if ((err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ) &&
            wait(err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, until))
          continue;
        ERR_clear_error();
        return -1;
      }
      const ssize_t n = ::send(fd_, data, size, MSG_NOSIGNAL);
      if (n >= 0) return n;
      if ((errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) && wait(POLLOUT, until))
        continue;
      return -1;
    }
  }

  size_t pending() const {
    return (end_ - begin_) + (ssl_ ? static_cast<size_t>(std::max(0, SSL_pending(ssl_))) : 0);
  }

  // Waits until the socket is ready for `events`, in slices, so that a server being stopped
  // is noticed. False at the deadline, on an error, or when the server stops.
  bool wait(short events, Clock::time_point until) const {
    for (;;) {
      if (listening_ == INVALID_SOCKET) return false;
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(until - Clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, events, 0};
      const int r = ::poll(&p, 1, static_cast<int>(std::min<std::int64_t>(left.count(), 200)));
      if (r > 0) return (p.revents & (events | POLLHUP)) != 0;  // HUP: the read says 0
      if (r < 0 && errno != EINTR) return false;
    }
  }

  // Reads what the socket has into the buffer, waiting until the request's deadline.
  ssize_t fill() {
    begin_ = end_ = 0;
    for (;;) {
      ssize_t n = 0;
      int want = POLLIN;
      if (ssl_) {
        ERR_clear_error();
        const int r = SSL_read(ssl_, buffer_.data(), static_cast<int>(buffer_.size()));
        if (r > 0) {
          n = r;
        } else {
          const int err = SSL_get_error(ssl_, r);
          if (err == SSL_ERROR_ZERO_RETURN) return 0;
          if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
            ERR_clear_error();
            return -1;
          }
          want = err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
          n = -1;
          errno = EAGAIN;
        }
      } else {
        n = ::recv(fd_, buffer_.data(), buffer_.size(), 0);
      }
      if (n >= 0) {
        end_ = static_cast<size_t>(n);
        return n;
      }
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return -1;
      if (!wait(static_cast<short>(want), deadline_)) {
        if (Clock::now() >= deadline_) {
          ++counters_.timed_out;
          refuse(408, "Request Timeout", "request_timeout",
                 "the request did not arrive whole within " + std::to_string(limits_.request_s) +
                     " s");
        }
        return -1;
      }
    }
  }

  // Counts the next `size` bytes of the request line and headers, up to the empty line that
  // ends them; false past the limit.
  bool count_header_bytes(size_t size) {
    for (size_t i = 0; i < size && in_headers_; ++i) {
      const char c = buffer_[begin_ + i];
      ++header_bytes_;
      if (c == '\n') {
        if (line_length_ == 0) in_headers_ = false;  // the empty line
        line_length_ = 0;
      } else if (c != '\r') {
        ++line_length_;
      }
    }
    return header_bytes_ <= static_cast<std::int64_t>(limits_.header_bytes);
  }

  const int fd_;
  const ConnectionLimits& limits_;
  ConnectionCounters& counters_;
  const std::atomic<socket_t>& listening_;
  SSL* ssl_ = nullptr;
  std::array<char, 16384> buffer_{};
  size_t begin_ = 0, end_ = 0;  // the buffered bytes not yet read
  Clock::time_point deadline_ = Clock::now();
  bool in_headers_ = true;
  std::int64_t header_bytes_ = 0, line_length_ = 0;
  bool failed_ = false;
  bool written_ = false;  // this request's answer has begun
  bool refused_ = false;  // our own refusal was written instead (refuse())
};

void Connection::refuse(int status, const char* reason, const char* code,
                        const std::string& message) {
  failed_ = true;
  if (written_ || refused_) return;
  const std::string body = nlohmann::json{{"error", message}, {"code", code}}.dump();
  const std::string answer = fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: application/json; charset=utf-8\r\n"
      "Content-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n{}",
      status, reason, body.size(), body);
  for (size_t sent = 0; sent < answer.size();) {
    const ssize_t n = send(answer.data() + sent, answer.size() - sent);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  refused_ = true;
}

}  // namespace

Result<TlsContext> make_tls_context(const std::filesystem::path& cert,
                                    const std::filesystem::path& key) {
  TlsContext ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) return fail("cannot create a TLS context: " + ssl_errors());
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  SSL_CTX_set_options(
      ctx.get(), SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  if (SSL_CTX_set_cipher_list(ctx.get(), kTlsCiphers) != 1)
    return fail("the TLS 1.2 suites are refused: " + ssl_errors());
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), cert.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx.get(), key.c_str(), SSL_FILETYPE_PEM) != 1 ||
      // OpenSSL itself only compares a key with a certificate of the same type: an EC key
      // beside an RSA certificate would load, and every handshake would then fail.
      SSL_CTX_check_private_key(ctx.get()) != 1) {
    return fail("cannot use the TLS certificate " + cert.string() + " and key " + key.string() +
                " (unreadable, not PEM, or not a pair): " + ssl_errors());
  }
  return ctx;
}

HttpServer::HttpServer(ConnectionLimits limits, TlsContext tls)
    : limits_(limits), tls_(std::move(tls)) {
  // What cpp-httplib's answers say of keep-alive (the Keep-Alive header): the limits kept here.
  set_keep_alive_timeout(limits_.keep_alive_s);
  set_keep_alive_max_count(static_cast<size_t>(limits_.requests_per_connection));
}

HttpServer::~HttpServer() = default;

void HttpServer::close_after_answer() {
  t_close_after_answer = true;
}

bool HttpServer::process_and_close_socket(socket_t sock) {
  ++counters_.accepted;
  ++counters_.open;
  Connection conn(sock, limits_, counters_, svr_sock_);
  bool ok = true;
  if (tls_ && !conn.handshake(tls_.get())) {
    ++counters_.tls_failed;
    ok = false;
  }
  for (int n = 0; ok && n < limits_.requests_per_connection; ++n) {
    // The first request may take as long as a request; the next ones, the keep-alive.
    if (!conn.wait_for_request(n == 0 ? limits_.request_s : limits_.keep_alive_s)) break;
    conn.begin_request();
    t_close_after_answer = false;
    bool client_closes = false;
    const bool last = n + 1 == limits_.requests_per_connection;
    ok = process_request(conn, last, client_closes, nullptr);
    if (t_close_after_answer) ++counters_.closed_by_handler;
    if (client_closes || t_close_after_answer || conn.failed()) break;
  }
  t_close_after_answer = false;
  conn.linger_close();
  --counters_.open;
  return ok;
}

}  // namespace att
