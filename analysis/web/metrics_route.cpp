// HttpApi's /metrics: the service's counters and gauges in Prometheus text format.
#include <fmt/format.h>
#include <httplib.h>

#include <string>

#include "analysis/web/api_service.h"
#include "analysis/web/http_util.h"
#include "protocol/node_report.h"

namespace att {

// Prometheus text format: the ingest counters, the queue, and per site the age of its latest
// frame and heartbeat and its node's spool drops (as the node last reported them).
void ApiService::get_metrics(const httplib::Request&, httplib::Response& res) {
  std::string out = ingest.metrics().render();
  const IngestQueueStats q = ingest.queue_stats();
  const IngestQueueLimits& limits = ingest.queue_limits();
  out += "# HELP attendance_queue_frames Frames in hand for detection, by state.\n";
  out += "# TYPE attendance_queue_frames gauge\n";
  out += fmt::format("attendance_queue_frames{{state=\"waiting\"}} {}\n", q.waiting);
  out += fmt::format("attendance_queue_frames{{state=\"detecting\"}} {}\n", q.running);
  out += "# HELP attendance_queue_capacity Frames the queue holds before answering 503.\n";
  out += "# TYPE attendance_queue_capacity gauge\n";
  out += fmt::format("attendance_queue_capacity {}\n", limits.capacity);
  out += "# HELP attendance_detectors Detectors working in parallel.\n";
  out += "# TYPE attendance_detectors gauge\n";
  out += fmt::format("attendance_detectors {}\n", limits.workers);
  out += live.render_metrics();
  const WriteStats w = store.write_stats();
  out += "# HELP attendance_store_write_queue Writes waiting for the database's writer thread.\n";
  out += "# TYPE attendance_store_write_queue gauge\n";
  out += fmt::format("attendance_store_write_queue {}\n", w.queued);
  out += "# HELP attendance_store_writes_total Writes committed, and failed (rolled back).\n";
  out += "# TYPE attendance_store_writes_total counter\n";
  out += fmt::format("attendance_store_writes_total{{result=\"committed\"}} {}\n", w.writes);
  out += fmt::format("attendance_store_writes_total{{result=\"failed\"}} {}\n", w.failed);
  out += "# HELP attendance_store_transactions_total Transactions committed (group commit).\n";
  out += "# TYPE attendance_store_transactions_total counter\n";
  out += fmt::format("attendance_store_transactions_total {}\n", w.transactions);
  out += "# HELP attendance_store_commit_seconds_total Time spent committing (disk flushes).\n";
  out += "# TYPE attendance_store_commit_seconds_total counter\n";
  out += fmt::format("attendance_store_commit_seconds_total {:.3f}\n", w.commit_seconds);
  if (options.extra_metrics) out += options.extra_metrics();
  out += auth.render_metrics();
  const ConnectionCounters& c = server->counters();
  out += "# HELP attendance_http_connections_open Connections being served now.\n";
  out += "# TYPE attendance_http_connections_open gauge\n";
  out += fmt::format("attendance_http_connections_open {}\n", c.open.load());
  out +=
      "# HELP attendance_http_connections_total Connections accepted, and those cut off by a "
      "limit (by reason) or ended after a refusal of an unread body.\n";
  out += "# TYPE attendance_http_connections_total counter\n";
  out += fmt::format("attendance_http_connections_total{{event=\"accepted\"}} {}\n",
                     c.accepted.load());
  out += fmt::format("attendance_http_connections_total{{event=\"request_timeout\"}} {}\n",
                     c.timed_out.load());
  out += fmt::format("attendance_http_connections_total{{event=\"headers_too_large\"}} {}\n",
                     c.headers_too_large.load());
  out += fmt::format("attendance_http_connections_total{{event=\"tls_failed\"}} {}\n",
                     c.tls_failed.load());
  out += fmt::format("attendance_http_connections_total{{event=\"closed_after_refusal\"}} {}\n",
                     c.closed_by_handler.load());

  const std::int64_t now = clock();
  auto latest = store.latest_per_site();
  auto heartbeats = store.latest_heartbeat_per_site();
  if (!latest || !heartbeats) {
    log->error("metrics: {}", (!latest ? latest.error() : heartbeats.error()).message);
    return send_error(res, 503, "storage_failed", "cannot read observations");
  }
  out += "# HELP attendance_site_frame_age_seconds Since the site's latest frame was received.\n";
  out += "# TYPE attendance_site_frame_age_seconds gauge\n";
  for (const Observation& o : *latest) {
    out += fmt::format("attendance_site_frame_age_seconds{{site=\"{}\"}} {:.1f}\n", o.site_id,
                       (now - o.received_at_ms) / 1000.0);
  }
  out += "# HELP attendance_site_heartbeat_age_seconds Since the site's node last reported.\n";
  out += "# TYPE attendance_site_heartbeat_age_seconds gauge\n";
  for (const Heartbeat& h : *heartbeats) {
    out += fmt::format("attendance_site_heartbeat_age_seconds{{site=\"{}\"}} {:.1f}\n", h.site_id,
                       (now - h.received_at_ms) / 1000.0);
  }
  out +=
      "# HELP attendance_node_dropped Items a node dropped (its spool full, its camera "
      "queue behind), as it last reported them.\n";
  out += "# TYPE attendance_node_dropped gauge\n";
  for (const Heartbeat& h : *heartbeats) {
    const auto r = parse_node_report(h.report);
    if (!r) continue;
    const NodeCounters c = r->counters.value_or(NodeCounters{});
    out += fmt::format("attendance_node_dropped{{site=\"{}\",reason=\"spool_full\"}} {}\n",
                       h.site_id, r->spool ? r->spool->dropped : 0);
    out += fmt::format("attendance_node_dropped{{site=\"{}\",reason=\"queue\"}} {}\n", h.site_id,
                       c.queue_dropped);
    out += fmt::format("attendance_node_dropped{{site=\"{}\",reason=\"disk\"}} {}\n", h.site_id,
                       c.spool_failed);
  }
  res.set_header("Cache-Control", "no-store");
  res.set_content(out, "text/plain; version=0.0.4; charset=utf-8");
}

}  // namespace att
