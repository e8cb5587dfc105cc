// A client of a test's own: a TCP connection from a chosen loopback address (all of 127/8 is
// this machine, so a server sees different clients), optionally TLS with a chosen protocol
// range and suites, that writes bytes as the test says (a byte at a time, a request hidden
// in a body) and reads answers. For the front-door tests and benchmark.
#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <string>

namespace att::testing {

struct Answer {
  int status = 0;  // 0: no answer
  std::string head, body;
  std::string header(const std::string& name) const;  // "" when absent; any case
  std::string code() const;                           // the JSON "code", or ""
};

struct TlsOptions {
  int min_version = TLS1_2_VERSION, max_version = TLS1_3_VERSION;
  std::string ciphers;  // TLS 1.2 suites offered; empty: OpenSSL's defaults
};

class Client {
 public:
  // Connects from `source` to 127.0.0.1:`port`; with `tls`, shakes hands too.
  Client(const std::string& source, int port, const TlsOptions* tls = nullptr);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return fd_ >= 0; }
  bool handshake_ok() const { return ssl_ && handshake_ok_; }
  std::string cipher() const;
  std::string protocol() const;

  bool send(const std::string& bytes);
  // Bytes as they come, until `limit` passes or the connection ends ("" then).
  std::string read_some(std::chrono::milliseconds limit);
  // Whether the peer has closed the connection within `limit` (what it sends meanwhile is
  // read and dropped).
  bool closed_within(std::chrono::milliseconds limit);
  // One whole answer (by Content-Length, else until the connection ends).
  Answer receive(std::chrono::milliseconds limit = std::chrono::seconds(15));

 private:
  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  bool handshake_ok_ = false, ended_ = false;
  std::string buffer_;
};

// "GET <target> HTTP/1.1", Host: localhost, `extra` header lines, and the empty line.
std::string get_request(const std::string& target, const std::string& extra = "");

}  // namespace att::testing
