// Feeds the input, as a capture node's request, to Ingest::handle_frame or
// Ingest::handle_heartbeat (analysis/ingest/ingest.h) on a real Ingest over a real SqliteStore in a
// scratch directory; detection is a stand-in that finds no one (the detector is not a
// parser). Input: a flag byte, then the fields split by the byte 0x1F (unit separator):
//   site id, sequence, capture time, signature, extra header, content type, body (the rest).
// Flag bit 0: replace the signature with the valid HMAC of the fuzzed fields (protocol/signing.h)
// under the site's key, so that half the inputs reach the body, health JSON and JPEG checks
// behind the signature. Bit 1: a heartbeat rather than a frame.
// Checks, beyond "does not crash":
//   - every answer has a known status and a JSON object body; an error carries a known
//     "code" and an "error" sentence, a 503 from the queue a Retry-After, a success
//     "status" and "interval_s";
//   - a refused upload stores nothing: the site's observation and heartbeat counts, and the
//     files in its frames directory (checked on every signed input), are as before;
//   - an accepted one is found in the store afterwards with the frame's digest.
// `fuzz_ingest -write_seeds=DIR` writes seeds (a valid frame, a heartbeat, a few refusals).
#include <cstdint>
#include <cstring>
#include <opencv2/imgproc.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/ingest/ingest.h"
#include "analysis/store/sqlite_store.h"
#include "common/files.h"
#include "common/log.h"
#include "common/sha256.h"
#include "counting/counting.h"
#include "counting/detector.h"
#include "counting/detector_pool.h"
#include "counting/jpeg.h"
#include "fuzz/fuzz_support.h"
#include "protocol/signing.h"
#include "protocol/wire.h"

namespace {

void check(bool ok, const char* what) {
  att::fuzz::check(ok, "fuzz_ingest", what);
}

constexpr char kSeparator = '\x1f';
constexpr std::int64_t kNowMs = 1'783'830'000'000;  // the fixed server clock (2026-07-12)
const std::string kKey = "6f1c2b3a4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8";

class NoOne final : public att::Detector {
 public:
  std::string name() const override { return "none"; }
  att::Result<std::vector<att::Box>> detect(const cv::Mat&) override {
    return std::vector<att::Box>{};
  }
};

struct World {  // made once; never destroyed (the process exits with it)
  std::vector<att::Site> sites;
  std::unique_ptr<att::SqliteStore> store;
  std::unique_ptr<att::DetectorPool> detectors;
  std::unique_ptr<att::Counting> counting;
  std::unique_ptr<att::Ingest> ingest;
};
World* world = nullptr;

const std::set<int> kStatuses = {200, 201, 400, 401, 403, 409, 413, 415, 422, 500, 503, 507};
const std::set<std::string> kCodes = {"missing_site",
                                      "bad_signature",
                                      "bad_sequence",
                                      "bad_capture_time",
                                      "capture_time_in_future",
                                      "capture_time_too_old",
                                      "unsupported_media_type",
                                      "empty_body",
                                      "body_too_large",
                                      "bad_health",
                                      "bad_report",
                                      "bad_dropped",
                                      "bad_jpeg",
                                      "image_too_large",
                                      "sequence_conflict",
                                      "queue_full",
                                      "site_busy",
                                      "detector_failed",
                                      "storage_failed"};

std::vector<std::string_view> split(std::string_view text, size_t fields) {
  std::vector<std::string_view> out;
  while (out.size() + 1 < fields) {
    const size_t at = text.find(kSeparator);
    if (at == std::string_view::npos) break;
    out.push_back(text.substr(0, at));
    text.remove_prefix(at + 1);
  }
  out.push_back(text);
  out.resize(fields);
  return out;
}

std::int64_t files_in(const std::filesystem::path& dir) {
  std::error_code ec;
  std::int64_t n = 0;
  for (auto it = std::filesystem::directory_iterator(dir, ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++n;
  }
  return n;
}

struct Stored {
  std::int64_t observations = 0, heartbeats = 0, files = 0;
  bool operator==(const Stored&) const = default;
};

// The site's rows, and with `files` its frame files (a directory listing: signed inputs only).
Stored stored(const std::string& site, bool files) {
  auto o = world->store->observation_count(site);
  auto h = world->store->heartbeat_count(site);
  check(o && h, "the store could not count");
  return {*o, *h, files ? files_in(att::fuzz::scratch_dir() / "frames" / site) : 0};
}

std::string seed(char flags, const std::vector<std::string>& fields) {
  std::string out(1, flags);
  for (size_t i = 0; i < fields.size(); ++i)
    out += (i ? std::string(1, kSeparator) : "") + fields[i];
  return out;
}

void write_seeds(const std::string& dir) {
  cv::Mat img(12, 16, CV_8UC3, cv::Scalar(40, 90, 160));
  cv::circle(img, {8, 6}, 3, {255, 255, 255}, cv::FILLED);
  const auto bytes = att::encode_jpeg(img, 50);
  const std::string jpeg(bytes.begin(), bytes.end());
  const std::string t = std::to_string(kNowMs - 60'000);
  const auto save = [&](const std::string& name, const std::string& content) {
    if (!att::write_file_atomically(dir + "/" + name, content, false)) std::exit(1);
  };
  const std::string health = R"({"brightness":112.5,"sharpness":48.1,"dark":false})";
  save("frame-signed", seed(1, {"td-01", "1", t, "", health, "image/jpeg", jpeg}));
  save("heartbeat-signed", seed(3, {"td-02", "2", t, "", "0", "application/json",
                                    R"({"camera":"ok","spool_items":0,"uptime_s":3600})"}));
  save("frame-unsigned", seed(0, {"td-01", "3", t, std::string(64, 'a'), "", "image/jpeg", jpeg}));
  save("heartbeat-no-key", seed(3, {"mt-01", "4", t, "", "", "application/json", "{}"}));
  std::exit(0);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  for (int i = 1; i < *argc; ++i) {
    if (std::strncmp((*argv)[i], "-write_seeds=", 13) == 0) write_seeds((*argv)[i] + 13);
  }
  att::log::setup("off");
  cv::setNumThreads(1);
  world = new World;
  world->sites = {
      {"td-01", "Trường THCS Bản Giang", "Tam Đường", att::SchoolLevel::kLowerSecondary, "", 60,
       ""},
      {"td-02", "Trường Tiểu học Bình Lư", "Tam Đường", att::SchoolLevel::kPrimary, "", 45, ""},
      {"mt-01", "Trường Mầm non Bum Nưa", "Mường Tè", att::SchoolLevel::kPreschool, "", 38, ""},
  };
  att::SqliteStoreOptions store_options;
  store_options.readers = 1;
  store_options.full_sync = false;
  auto store = att::SqliteStore::open(att::fuzz::scratch_dir() / "attendance.db", store_options);
  check(bool(store), "cannot open the store");
  world->store = std::move(*store);
  check(bool(world->store->sync_sites(world->sites)), "cannot store the sites");
  auto pool = att::DetectorPool::create(
      [] { return att::Result<std::unique_ptr<att::Detector>>(std::make_unique<NoOne>()); }, 1);
  check(bool(pool), "cannot make the detector pool");
  world->detectors = std::move(*pool);
  world->counting = std::make_unique<att::Counting>(att::OccupancyConfig{});
  att::IngestOptions options;
  options.detector_name = "none";
  options.data_dir = att::fuzz::scratch_dir();
  options.max_body_bytes = 64 * 1024;
  options.max_image_pixels = 64 * 64;
  options.keys = {{"td-01", kKey}, {"td-02", kKey}};  // mt-01 has none
  options.queue = {1, 2, 2};
  world->ingest = std::make_unique<att::Ingest>(
      world->sites, *world->store, *world->detectors, *world->counting,
      std::vector<att::IngestListener*>{}, options, [] { return kNowMs; });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::uint8_t flags = data[0];
  const bool sign = flags & 1, heartbeat = flags & 2;
  const auto f = split(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1), 7);
  att::Upload up{std::string(f[0]), std::string(f[1]), std::string(f[2]), std::string(f[3]),
                 std::string(f[4]), std::string(f[5]), std::string(f[6])};
  const char* path = heartbeat ? att::wire::kHealthPath : att::wire::kFramesPath;
  if (sign) {
    up.signature = att::sign_request(
        kKey, {path, up.site_id, up.sequence, up.capture_time, up.extra, up.body, up.content_type});
  }
  const bool known =
      std::ranges::any_of(world->sites, [&](const att::Site& s) { return s.id == up.site_id; });
  const Stored before = known ? stored(up.site_id, sign) : Stored{};

  const att::IngestReply reply =
      heartbeat ? world->ingest->handle_heartbeat(up) : world->ingest->handle_frame(up);

  check(kStatuses.contains(reply.status), "an unknown status");
  check(reply.body.is_object(), "a body that is not a JSON object");
  if (reply.status >= 400) {
    const auto code = reply.body.find("code");
    check(
        code != reply.body.end() && code->is_string() && kCodes.contains(code->get<std::string>()),
        "an error without a known code");
    check(reply.body.contains("error") && reply.body["error"].is_string(),
          "an error without a sentence");
    const std::string c = code->get<std::string>();
    check((c != "queue_full" && c != "site_busy") || reply.retry_after_s > 0,
          "a 503 from the queue without Retry-After");
    if (known) check(stored(up.site_id, sign) == before, "a refused upload left something stored");
    return 0;
  }
  check(reply.status == 200 || reply.status == 201, "a success that is not 200 or 201");
  check(reply.body.contains("status") && reply.body.contains("interval_s"),
        "a success without status or interval_s");
  check(known && sign, "accepted an upload of an unknown site or without the key's signature");
  const Stored after = stored(up.site_id, sign);
  if (heartbeat) {
    check(after.heartbeats == before.heartbeats + (reply.status == 201),
          "a heartbeat answer that does not match the store");
  } else {
    check(after.observations == before.observations + (reply.status == 201) &&
              after.files == before.files + (reply.status == 201),
          "a frame answer that does not match the store");
    const auto obs = world->store->find_observation(up.site_id, std::stoll(up.sequence));
    check(obs && *obs && (**obs).frame_sha256 == att::sha256_hex(up.body),
          "an accepted frame not found in the store with its digest");
  }
  return 0;
}
