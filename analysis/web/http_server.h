// The service's HTTP connections: cpp-httplib parses requests and routes them, this class
// owns each connection around them. It reads through its own stream, so that
//   - a request must arrive whole within ConnectionLimits::request_s of its first byte, and
//     its request line and headers within header_bytes (a client sending a byte every few
//     seconds, or a million headers, is cut off instead of holding a thread and memory);
//   - a kept-alive connection waits for its next request with poll(), not a busy loop;
//   - a handler can end the connection after its answer (close_after_answer()): a refusal
//     whose request body was never read must not have that body read as the next request;
//   - TLS is the service's own OpenSSL context (make_tls_context): TLS 1.2 with forward-secret
//     suites in the server's order, and TLS 1.3, the same policy as config/nginx/; a
//     handshake must end within request_s too.
// A connection ends with a lingering close: our side is shut, what the client still sends is
// read and dropped for a moment, so that our last answer is not lost to a reset.
#pragma once

#include <httplib.h>
#include <openssl/ssl.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "analysis/web/api_options.h"
#include "common/error.h"

namespace att {

// TLS 1.2 suites with forward secrecy (ECDHE, AEAD only), in the server's order of
// preference; TLS 1.3's suites are all forward-secret. config/nginx/attendance.conf says the
// same (tests compare them).
inline constexpr char kTlsCiphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

struct SslCtxFree {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
using TlsContext = std::unique_ptr<SSL_CTX, SslCtxFree>;

// A server context for the PEM certificate (chain) and key, under the policy above. Fails on
// an unreadable file, a key that is not the certificate's, or a policy OpenSSL refuses.
Result<TlsContext> make_tls_context(const std::filesystem::path& cert,
                                    const std::filesystem::path& key);

// What the connections have seen, for /metrics.
struct ConnectionCounters {
  std::atomic<std::int64_t> accepted = 0, open = 0;
  std::atomic<std::int64_t> timed_out = 0;          // a request not whole within request_s
  std::atomic<std::int64_t> headers_too_large = 0;  // over header_bytes: cut off
  std::atomic<std::int64_t> tls_failed = 0;         // handshakes that failed or timed out
  std::atomic<std::int64_t> closed_by_handler = 0;  // close_after_answer()
};

class HttpServer : public httplib::Server {
 public:
  // `tls`: serve HTTPS with it; null: HTTP.
  HttpServer(ConnectionLimits limits, TlsContext tls);
  ~HttpServer() override;

  bool is_valid() const override { return true; }
  const ConnectionCounters& counters() const { return counters_; }
  const ConnectionLimits& limits() const { return limits_; }

  // From a handler: the connection ends once the answer to this request is written (the
  // answer should say Connection: close). Has no effect outside a handler.
  static void close_after_answer();

 private:
  bool process_and_close_socket(socket_t sock) override;

  const ConnectionLimits limits_;
  const TlsContext tls_;
  ConnectionCounters counters_;
};

}  // namespace att
