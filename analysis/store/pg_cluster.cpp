#include "analysis/store/pg_cluster.h"

#include <poll.h>

#include <chrono>

#include "analysis/store/pg_db.h"
#include "common/log.h"

namespace att {
namespace {

// The advisory lock of each role: "att" and a number (the store's migration lock is 1).
std::int64_t lock_key(ClusterRole role) {
  return 0x617474'0100 + static_cast<std::int64_t>(role);
}

}  // namespace

const char* to_string(ClusterRole role) {
  switch (role) {
    case ClusterRole::kRollBook:
      return "roll_book";
    case ClusterRole::kRetention:
      return "retention";
  }
  return "?";
}

struct PgCluster::Links {
  std::mutex control_mu;
  pg::Conn control;                     // roles and sends; guarded by control_mu
  std::map<ClusterRole, bool> leading;  // guarded by control_mu
  pg::Conn listen;                      // the listening thread's
};

Result<std::unique_ptr<PgCluster>> PgCluster::open(const std::string& conninfo) {
  auto control = pg::connect(conninfo);
  if (!control) return std::unexpected(control.error());
  auto listen = pg::connect(conninfo);
  if (!listen) return std::unexpected(listen.error());
  std::unique_ptr<PgCluster> cluster(new PgCluster());
  cluster->conninfo_ = conninfo;
  cluster->links_ = std::make_unique<Links>();
  cluster->links_->control = std::move(*control);
  cluster->links_->listen = std::move(*listen);
  return cluster;
}

PgCluster::~PgCluster() {
  stopping_ = true;
  if (listener_.joinable()) listener_.join();
}

void PgCluster::on(const std::string& channel, Handler handler) {
  handlers_[channel] = std::move(handler);
}

void PgCluster::on_resumed(std::function<void()> handler) {
  resumed_ = std::move(handler);
}

namespace {

Status listen_to(PGconn* db, const std::map<std::string, PgCluster::Handler>& handlers) {
  for (const auto& [channel, handler] : handlers) {
    // Channel names are the service's own words ([a-z_]), quoted as identifiers all the same.
    if (auto s = pg::exec(db, "LISTEN \"" + channel + "\"", "listen to " + channel); !s) return s;
  }
  return {};
}

}  // namespace

Status PgCluster::start() {
  if (auto s = listen_to(links_->listen.get(), handlers_); !s) return s;
  listener_ = std::thread([this] { listen_loop(); });
  return {};
}

void PgCluster::listen_loop() {
  auto log = log::get("cluster");
  PGconn* db = links_->listen.get();
  while (!stopping_) {
    if (pg::broken(db)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      PQreset(db);
      if (pg::broken(db) || !listen_to(db, handlers_)) continue;
      ++reconnects_;
      log->warn("listening again after the database connection was lost");
      if (resumed_) resumed_();
      continue;
    }
    pollfd waiting{PQsocket(db), POLLIN, 0};
    if (::poll(&waiting, 1, 200) < 0 && errno != EINTR) continue;
    if (PQconsumeInput(db) == 0) {
      log->warn("the listening connection was lost: {}", PQerrorMessage(db));
      continue;  // broken: reset above
    }
    while (PGnotify* n = PQnotifies(db)) {
      const std::string channel = n->relname, payload = n->extra;
      PQfreemem(n);
      ++received_;
      auto it = handlers_.find(channel);
      if (it != handlers_.end()) it->second(payload);
    }
  }
}

bool PgCluster::lead(ClusterRole role) {
  std::lock_guard lock(links_->control_mu);
  PGconn* db = links_->control.get();
  bool& leading = links_->leading[role];
  // A live connection is asked; a lost one ends every role (the server ended them too).
  auto alive = pg::query(db, "SELECT 1", "check the connection");
  if (!alive) {
    if (!pg::broken(db)) return leading;  // an answer in error, but the session stands
    for (auto& [r, held] : links_->leading) held = false;
    log::get("cluster")->warn("the roles' connection was lost: {}; connecting again",
                              alive.error().message);
    PQreset(db);
    if (pg::broken(db)) return false;
  }
  if (leading) return true;
  auto taken = pg::query(db, "SELECT pg_try_advisory_lock($1)", "take a role", lock_key(role));
  leading = taken && taken->text(0, 0) == "t";
  if (leading) log::get("cluster")->info("this process now holds the {} role", to_string(role));
  return leading;
}

void PgCluster::resign(ClusterRole role) {
  std::lock_guard lock(links_->control_mu);
  bool& leading = links_->leading[role];
  if (!leading) return;
  (void)pg::query(links_->control.get(), "SELECT pg_advisory_unlock($1)", "give a role up",
                  lock_key(role));
  leading = false;
}

Status PgCluster::send(const std::string& channel, const std::string& payload) {
  if (payload.size() > kMaxPayload) {
    ++send_failed_;
    return fail(ErrorCode::kTooLarge, "a message on " + channel + " of " +
                                          std::to_string(payload.size()) + " bytes (at most " +
                                          std::to_string(kMaxPayload) + ")");
  }
  std::lock_guard lock(links_->control_mu);
  PGconn* db = links_->control.get();
  auto sent = pg::query(db, "SELECT pg_notify($1, $2)", "send on " + channel, channel, payload);
  if (!sent && pg::broken(db)) {  // once more on a new connection (its roles are lost)
    for (auto& [r, held] : links_->leading) held = false;
    PQreset(db);
    sent = pg::query(db, "SELECT pg_notify($1, $2)", "send on " + channel, channel, payload);
  }
  if (!sent) {
    ++send_failed_;
    return std::unexpected(sent.error());
  }
  ++sent_;
  return {};
}

ClusterStats PgCluster::stats() const {
  ClusterStats s{sent_, send_failed_, received_, reconnects_, {}};
  std::lock_guard lock(links_->control_mu);
  for (const auto& [role, held] : links_->leading) s.leading[to_string(role)] = held;
  return s;
}

}  // namespace att
