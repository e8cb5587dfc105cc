// Several service processes on one PostgreSQL database (docs/deployment.md), beyond the store:
// - roles: work that must happen once (the roll book's clock and final report, retention) is
//   done by the process that holds the role, a session-level advisory lock on a connection of
//   this object's. A process that dies, or loses that connection, gives its roles up at once
//   (the server ends the session); another takes them at its next lead() call.
// - messages: send() reaches every process listening on the channel, this one too (NOTIFY, on
//   commit, in order from one sender); one thread reads them (LISTEN) and calls the handlers.
//   A message is at most kMaxPayload bytes. Messages sent while a listener's connection is
//   down are lost to it: on reconnecting it calls the `resumed` handler, for the receiver to
//   read what it missed from the store.
// Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/error.h"

namespace att {

enum class ClusterRole {
  kRollBook,   // roll calls, alerts of the clock, period summaries, the final report
  kRetention,  // deleting old pictures and reports
};
const char* to_string(ClusterRole role);  // "roll_book", "retention"

struct ClusterStats {
  std::int64_t sent = 0, send_failed = 0, received = 0, reconnects = 0;
  std::map<std::string, bool> leading;  // by role
};

class PgCluster {
 public:
  static constexpr size_t kMaxPayload = 7900;  // PostgreSQL's NOTIFY takes under 8000 bytes

  // Connects twice (roles and sends; listening). Handlers are added before start().
  static Result<std::unique_ptr<PgCluster>> open(const std::string& conninfo);
  ~PgCluster();  // stops listening; the roles end with the connection
  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;

  using Handler = std::function<void(const std::string& payload)>;
  void on(const std::string& channel, Handler handler);
  // Called on the listening thread after its connection came back (messages may be lost).
  void on_resumed(std::function<void()> handler);
  Status start();

  // Whether this process holds `role` now: taken when free, kept while held. A connection
  // found lost gives up every role and is opened again (the role is tried again then).
  bool lead(ClusterRole role);
  // Gives `role` up (for the next process to take).
  void resign(ClusterRole role);

  Status send(const std::string& channel, const std::string& payload);

  ClusterStats stats() const;

 private:
  PgCluster() = default;
  void listen_loop();
  struct Links;
  std::unique_ptr<Links> links_;
  std::string conninfo_;
  std::map<std::string, Handler> handlers_;  // set before start()
  std::function<void()> resumed_;
  std::atomic<bool> stopping_{false};
  std::thread listener_;
  std::atomic<std::int64_t> sent_{0}, send_failed_{0}, received_{0}, reconnects_{0};
};

}  // namespace att
