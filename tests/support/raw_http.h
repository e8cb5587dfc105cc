// HTTP/1.1 on a raw loopback TCP socket, for the requests cpp-httplib's client will not send
// (a lying Content-Length, an oversized header, a chunked flood, a body sent late or never),
// and one answer type for what comes back either way.
#pragma once

#include <httplib.h>

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace att::testing {

// One HTTP answer, or why there is none.
struct HttpAnswer {
  int status = 0;  // 0: the connection ended without an answer
  std::multimap<std::string, std::string> headers;
  std::string body;
  std::string error;  // why there is no answer

  // The first header of that name, whatever its case; "" when there is none.
  std::string header(const std::string& name) const;
  // The body as JSON; discarded (is_discarded()) when it is not JSON.
  nlohmann::json body_json() const;
  // The "code" of a JSON error answer, "" for anything else.
  std::string code() const;
  // The status and the start of the body, or why there is no answer: for failure messages.
  std::string describe() const;
};

// What cpp-httplib's client got, as an HttpAnswer.
HttpAnswer from_result(const httplib::Result& res);

// A connection to 127.0.0.1:`port`, closed on destruction. Reads and writes time out after
// 15 s (the service's own read timeout is 30 s: it answers first).
class RawConnection {
 public:
  explicit RawConnection(int port);
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool ok() const { return fd_ >= 0; }  // false: the connect failed
  // False once the peer has closed its side (the service may refuse before reading all).
  bool send_all(std::string_view bytes);
  // Shuts our sending side: the peer sees the end of the stream.
  void close_sending();
  bool readable_within(std::chrono::milliseconds limit);
  // The first answer, read until it is complete (by Content-Length, else until the peer
  // closes the connection).
  HttpAnswer receive();

 private:
  int fd_ = -1;
};

// Sends `head` (a request's line and headers), then, unless the service has answered within a
// second (a refusal on the headers alone), `body`; `then_close`: shuts our sending side after
// it. Returns the first answer.
HttpAnswer raw_exchange(int port, const std::string& head, const std::string& body = "",
                        bool then_close = false);

// Sends `head`, then a chunked body of `total` bytes in 64 KiB chunks for as long as the
// service reads it, then the last chunk. An answer that comes within 2 s of the head is
// returned at once (a refusal on the headers alone).
HttpAnswer chunked_flood(int port, const std::string& head, size_t total);

}  // namespace att::testing
