// Audit at the centre: the rule by which the service's own count of a node's evidence picture
// is set against the node's count of that same picture. Like is compared with like: the
// node's single-frame count (Observation::frame_count, after the site's zones) against the
// service's detector on the same JPEG with the same zones, never a windowed count against a
// single frame. The roll book (attendance.h) turns disagreements into `count_disputed`
// alerts; the auditor (analysis/ingest/auditor.h) does the counting within its CPU share.
#pragma once

namespace att {

// server.yaml "audit:".
struct AuditConfig {
  // The share of the service's detector workers the audit may keep busy (at least one
  // worker). Evidence pictures of roll calls are always audited; others as this allows.
  double max_cpu_share = 0.5;
  // Two counts of one picture agree while they differ by at most the larger of these: a
  // number of people, and a share of the node's count.
  int tolerance = 3;
  double tolerance_share = 0.2;
  // A dispute is raised after this many audited pictures in a row disagree.
  int consecutive = 2;
};

// Whether the node's count of a picture and the audit's count of it disagree under `config`.
bool counts_disagree(int node_count, int audit_count, const AuditConfig& config);

}  // namespace att
