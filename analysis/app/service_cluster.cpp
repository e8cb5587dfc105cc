#include "analysis/app/service_cluster.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <random>

#include "common/log.h"
#include "protocol/node_report.h"

namespace att {
namespace {

using nlohmann::json;

// The channels (PostgreSQL LISTEN/NOTIFY).
constexpr char kRollBookChannel[] = "att_roll_book";  // {"kind","site","seq"[,"count"]}
constexpr char kEventsChannel[] = "att_events";       // {"from","type","data"}
constexpr char kSetupsChannel[] = "att_setups";       // {"site"}

std::string random_id() {
  std::random_device random;
  return fmt::format("{:08x}{:08x}", random(), random());
}

}  // namespace

Result<std::unique_ptr<ServiceCluster>> ServiceCluster::open(const std::string& conninfo,
                                                             Store& store, Attendance& roll_book,
                                                             LiveHub& live, SiteSetups& setups) {
  auto cluster = PgCluster::open(conninfo);
  if (!cluster) return std::unexpected(cluster.error());
  std::unique_ptr<ServiceCluster> self(
      new ServiceCluster(std::move(*cluster), store, roll_book, live, setups));
  ServiceCluster* s = self.get();
  s->cluster_->on(kRollBookChannel, [s](const std::string& p) { s->roll_book_message(p); });
  s->cluster_->on(kEventsChannel, [s](const std::string& p) {
    const json m = json::parse(p, nullptr, /*allow_exceptions=*/false);
    if (!m.is_object() || m.value("from", "") == s->process_) return;  // ours: published here
    s->live_.publish_from_peer(m.value("type", ""), m.value("data", json()).dump());
  });
  s->cluster_->on(kSetupsChannel, [s](const std::string& p) {
    const json m = json::parse(p, nullptr, /*allow_exceptions=*/false);
    if (!m.is_object()) return;
    if (auto r = s->setups_.reload(m.value("site", "")); !r) {
      log::get("cluster")->error("site setup: {}", r.error().message);
    }
  });
  s->cluster_->on_resumed([s] {
    // Messages may have been lost meanwhile: the roll book and the sites' setups read what
    // the store holds, and browsers reload what they show.
    auto log = log::get("cluster");
    if (s->keeps_roll_book_) {
      if (auto r = s->roll_book_.restore(); !r) log->error("roll book: {}", r.error().message);
    }
    if (auto r = s->setups_.reload_all(); !r) log->error("site setups: {}", r.error().message);
    s->live_.missed_peer_events();
  });
  live.forward_to([s](const std::string& type, const std::string& data) {
    const json m = {{"from", s->process_},
                    {"type", type},
                    {"data", json::parse(data, nullptr, /*allow_exceptions=*/false)}};
    if (auto sent = s->cluster_->send(kEventsChannel, m.dump()); !sent) {
      ++s->undelivered_;
      log::get("cluster")->warn("a live event not sent to the other processes: {}",
                                sent.error().message);
    }
  });
  setups.on_change([s](const std::string& site_id) {
    if (auto sent = s->cluster_->send(kSetupsChannel, json{{"site", site_id}}.dump()); !sent) {
      ++s->undelivered_;
      log::get("cluster")->error("site {}: the other processes were not told of its new setup: {}",
                                 site_id, sent.error().message);
    }
  });
  if (auto started = s->cluster_->start(); !started) return std::unexpected(started.error());
  return self;
}

ServiceCluster::ServiceCluster(std::unique_ptr<PgCluster> cluster, Store& store,
                               Attendance& roll_book, LiveHub& live, SiteSetups& setups)
    : cluster_(std::move(cluster)),
      store_(store),
      roll_book_(roll_book),
      live_(live),
      setups_(setups),
      process_(random_id()) {}

ServiceCluster::~ServiceCluster() {
  cluster_.reset();  // the listening thread ends before the parts it calls go
}

void ServiceCluster::tell_roll_book(const std::string& message) {
  if (auto sent = cluster_->send(kRollBookChannel, message); !sent) {
    ++undelivered_;
    log::get("cluster")->error("the roll book was not told {}: {}", message, sent.error().message);
  }
}

void ServiceCluster::frame_stored(const Observation& obs, const std::string&) {
  tell_roll_book(json{{"kind", "frame"}, {"site", obs.site_id}, {"seq", obs.sequence}}.dump());
}

void ServiceCluster::heartbeat_stored(const Heartbeat& hb, const NodeReport&) {
  tell_roll_book(json{{"kind", "heartbeat"}, {"site", hb.site_id}, {"seq", hb.sequence}}.dump());
}

Status ServiceCluster::audited(const Observation& evidence, int audit_count) {
  tell_roll_book(json{
      {"kind", "audit"},
      {"site", evidence.site_id},
      {"seq", evidence.sequence},
      {"count",
       audit_count}}.dump());
  return {};
}

void ServiceCluster::roll_book_message(const std::string& payload) {
  if (!keeps_roll_book_) return;
  const json m = json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (!m.is_object()) return;
  const std::string kind = m.value("kind", ""), site = m.value("site", "");
  const std::int64_t seq = m.value("seq", std::int64_t{0});
  const auto failed = [&](const std::string& why) {
    ++undelivered_;
    log::get("cluster")->error("roll book: {} {} of site {}: {}", kind, seq, site, why);
  };
  if (kind == "frame" || kind == "audit") {
    auto obs = store_.find_observation(site, seq);
    if (!obs) return failed(obs.error().message);
    if (!*obs) return failed("not in the store");
    const Status done = kind == "frame" ? roll_book_.observe(**obs)
                                        : roll_book_.audited(**obs, m.value("count", 0));
    if (!done) failed(done.error().message);
  } else if (kind == "heartbeat") {
    auto hb = store_.find_heartbeat(site, seq);
    if (!hb) return failed(hb.error().message);
    if (!*hb) return failed("not in the store");
    auto report = parse_node_report((*hb)->report);
    if (!report) return failed(report.error().message);
    if (auto done = roll_book_.heartbeat(**hb, *report); !done) failed(done.error().message);
  }
}

Status ServiceCluster::tick(std::int64_t now_ms) {
  if (!cluster_->lead(ClusterRole::kRollBook)) {
    keeps_roll_book_ = false;
    return roll_book_.restore();
  }
  if (!keeps_roll_book_) {
    // Taken over (or first): what the ledger holds is not taken again.
    if (auto r = roll_book_.restore(); !r) return r;
    keeps_roll_book_ = true;
    log::get("cluster")->info("this process keeps the roll book from now");
  }
  return roll_book_.tick(now_ms);
}

bool ServiceCluster::runs_retention() {
  return cluster_->lead(ClusterRole::kRetention);
}

std::string ServiceCluster::render_metrics() const {
  const ClusterStats s = cluster_->stats();
  std::string out;
  out += "# HELP attendance_cluster_messages_total Messages to the other service processes.\n";
  out += "# TYPE attendance_cluster_messages_total counter\n";
  out += fmt::format("attendance_cluster_messages_total{{result=\"sent\"}} {}\n", s.sent);
  out += fmt::format("attendance_cluster_messages_total{{result=\"send_failed\"}} {}\n",
                     s.send_failed);
  out += fmt::format("attendance_cluster_messages_total{{result=\"received\"}} {}\n", s.received);
  out += fmt::format("attendance_cluster_messages_total{{result=\"not_delivered\"}} {}\n",
                     undelivered_.load());
  out += "# HELP attendance_cluster_reconnects_total Times the listening connection came back.\n";
  out += "# TYPE attendance_cluster_reconnects_total counter\n";
  out += fmt::format("attendance_cluster_reconnects_total {}\n", s.reconnects);
  out += "# HELP attendance_cluster_role Whether this process holds the role (1) or not (0).\n";
  out += "# TYPE attendance_cluster_role gauge\n";
  for (const auto& [role, held] : s.leading) {
    out += fmt::format("attendance_cluster_role{{role=\"{}\"}} {}\n", role, held ? 1 : 0);
  }
  return out;
}

}  // namespace att
