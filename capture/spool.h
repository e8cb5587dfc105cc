// The node's spool: every sampled frame (and health report) is written here before it is
// sent, and removed only when the service has acknowledged it, so that a link down for hours
// or a power cut loses nothing that was sampled. SQLite in WAL mode with synchronous=FULL:
// a put() that returned survives kill -9 and power loss.
//
// Bounded in bytes, and by the disk: a put() that would leave less than keep_free() bytes
// free on the spool's disk counts as over the bound too, so that a spool growing through a
// long outage never fills the disk (SQLite needs room even to delete, and a full disk would
// leave the node unable to remove what the service has acknowledged). When a put() would
// exceed the bound, the oldest items that are not roll calls are dropped first (roll-call
// frames are the evidence of the record); the number dropped is kept in the spool too, so
// that it can be reported to the service even after a restart. A spool file that SQLite cannot read
// is moved aside (its name says when) and a fresh one started, with the reason logged.
//
// Not thread-safe: one owner thread per node (the uploader's); others post to it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"

namespace att {

struct SpoolItem {
  std::int64_t sequence = 0;         // the upload sequence; unique, increasing
  std::int64_t capture_time_ms = 0;  // ms since epoch UTC
  std::string kind = "frame";        // "frame", "health", "count" or "evidence"
  bool roll_call = false;            // dropped last when the spool is full
  std::string body;                  // JPEG bytes, or a report's or a count's JSON
  std::string meta;                  // JSON sent beside the body (health scores, count)
  // Taken only for a live view (beyond the node's normal samples): dropped first when the
  // spool is full, and all at once by drop_live() when nobody watches any more.
  bool live = false;
};

struct SpoolStats {
  std::int64_t items = 0;
  std::int64_t bytes = 0;    // bodies and metadata of the items held
  std::int64_t dropped = 0;  // items dropped to keep the bound, since the spool was created
  std::int64_t dropped_unreported = 0;  // of those, not yet reported to the service
};

class Spool {
 public:
  // Opens (or creates) the spool at `path`. A file that is not a readable spool is renamed
  // to "<path>.corrupt-<ms since epoch>" and a fresh spool is created; `recovered` then says
  // why. Fails only when no spool can be made at all (unwritable directory, full disk).
  static Result<std::unique_ptr<Spool>> open(const std::filesystem::path& path,
                                             std::int64_t max_bytes,
                                             std::string* recovered = nullptr);
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  // The free space the spool leaves on its disk (0, the default: no floor). The room a put()
  // may use is the disk's free space plus the spool's own free pages, less this.
  void keep_free(std::int64_t bytes);

  // Durably adds an item, first dropping the oldest non-roll-call items (then, if need be,
  // the oldest roll calls) until it fits. An item larger than the bound by itself is refused
  // and changes nothing. A sequence already in the spool is refused too.
  Status put(const SpoolItem& item);

  // The oldest items, in sequence order, at most `limit`.
  Result<std::vector<SpoolItem>> oldest(int limit);

  // The item now being uploaded (-1: none). put() drops it only when nothing else can go,
  // so that a frame is never counted as dropped and then arrive.
  void set_sending(std::int64_t sequence);

  // The service acknowledged `sequence` (stored, or already stored): remove it. Removing
  // a sequence that is not there is not an error (a retry's second acknowledgement).
  Status acknowledge(std::int64_t sequence);

  // The live view has ended: removes every item taken only for it (SpoolItem::live) but the
  // one being sent, and returns how many. Not counted in `dropped` (nothing the service keeps
  // is lost); the caller counts them.
  Result<std::int64_t> drop_live();

  // The service has been told of `count` dropped items: subtract them from the unreported.
  Status dropped_reported(std::int64_t count);

  Result<SpoolStats> stats();

 private:
  struct Impl;
  explicit Spool(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace att
