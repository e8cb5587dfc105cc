// attendance-sim: N capture nodes in one process, for the demo, load tests and benchmarks.
// Each simulated site sends, signed with its own key, in its own phase:
//   --mode central  real JPEG frames (from a folder of pictures or a clip) at the interval,
//                   for the service to count;
//   --mode edge     as a node that counts: a count (protocol/node_count.h) at the interval,
//                   and an evidence picture with its count every --evidence-interval and
//                   at its first capture from a second before each roll call the service
//                   announces in its answers, as a node does, and a heartbeat (its report,
//                   protocol/node_report.h) every --heartbeat-interval. Every picture is
//                   counted once at the start, with the service's detector and the site's
//                   zones, and its camera health judged (capture/health.h), so that each
//                   count is its picture's and the service's audit agrees; a site shows the
//                   pictures whose count is nearest 88-100 % of its expected attendees, and
//                   none whose camera health raises a flag.
// --event SITE:KIND:FROM-TO scripts what happens at a site between two moments (seconds from
// the start; TO may be left out: until the end), edge mode: `offline` (the site sends
// nothing, and keeps what it samples, as a node whose link is down), `covered` (the lens is
// covered: a picture of one colour, counted 0, health `covered`), `people=SHARE` (the room
// holds SHARE of the expected attendees: a late start, an early leave).
// When the service answers 503 a site keeps the item (a small in-memory spool per site,
// bounded, drops counted) and retries after Retry-After, as a real node does; a failed
// connection is retried after 1 s. With --drain
// it goes on delivering what the sites hold after sampling stops. At the end it prints what
// was sent, stored, pushed back and dropped, and the time from capture to acknowledgement
// (the service answers after the observation is committed, so that is when the count is
// visible through the API).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <csignal>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>
#include <optional>
#include <queue>
#include <random>
#include <set>
#include <thread>

#include "analysis/app/server_config.h"
#include "analysis/domain/site_keys.h"
#include "capture/health.h"
#include "common/files.h"
#include "common/sha256.h"
#include "common/time_util.h"
#include "counting/counting.h"
#include "counting/detector_pool.h"
#include "counting/models.h"
#include "protocol/node_count.h"
#include "protocol/node_report.h"
#include "protocol/upload_client.h"
#include "protocol/wire.h"

namespace {

using Clock = std::chrono::steady_clock;
std::atomic<bool> g_stop{false};
extern "C" void on_signal(int) {
  g_stop = true;
}

// A picture the sim sends, and what a node that counts would say of it.
struct Picture {
  std::string jpeg;
  cv::Size size;
  std::vector<att::Box> boxes;  // the detector's, before a site's zones
  att::HealthScores health;     // judged alone (capture/health.h)
  bool healthy = true;          // no health flag raised
};

// Pictures to send, JPEG-encoded once at the chosen size.
std::vector<Picture> load_pictures(const std::string& images, const std::string& clip, int width,
                                   int height, int limit) {
  std::vector<cv::Mat> frames;
  if (!images.empty()) {
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(images)) {
      const auto ext = e.path().extension().string();
      if (ext == ".jpg" || ext == ".jpeg" || ext == ".png") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      if (static_cast<int>(frames.size()) >= limit) break;
      cv::Mat m = cv::imread(f.string(), cv::IMREAD_COLOR);
      if (!m.empty()) frames.push_back(m);
    }
  } else {
    cv::VideoCapture cap(clip, cv::CAP_FFMPEG);
    cv::Mat m;
    for (int i = 0; cap.read(m) && static_cast<int>(frames.size()) < limit; ++i) {
      if (i % 10 == 0) frames.push_back(m.clone());
    }
  }
  std::vector<Picture> pictures;
  for (const cv::Mat& m : frames) {
    cv::Mat sized;
    cv::resize(m, sized, cv::Size(width, height), 0, 0, cv::INTER_AREA);
    std::vector<unsigned char> bytes;
    cv::imencode(".jpg", sized, bytes, {cv::IMWRITE_JPEG_QUALITY, 85});
    pictures.push_back({std::string(bytes.begin(), bytes.end()), sized.size(), {}, {}, true});
  }
  return pictures;
}

// What a camera shows with its lens covered: one colour, a little sensor noise.
std::string covered_jpeg(int width, int height) {
  cv::Mat picture(height, width, CV_8UC3, cv::Scalar(58, 55, 52));
  cv::Mat noise(height, width, CV_8UC3);
  cv::randn(noise, cv::Scalar::all(0), cv::Scalar::all(2));
  picture += noise;
  std::vector<unsigned char> bytes;
  cv::imencode(".jpg", picture, bytes, {cv::IMWRITE_JPEG_QUALITY, 85});
  return {bytes.begin(), bytes.end()};
}

// The detections of pictures counted before (--count-cache): JSON {"detector": name,
// "pictures": {sha256 of the JPEG: [[x, y, w, h, score], ...]}}.
using CountCache = std::map<std::string, std::vector<att::Box>>;

CountCache read_count_cache(const std::filesystem::path& path, const std::string& detector) {
  CountCache cache;
  std::ifstream in(path);
  if (!in) return cache;
  try {
    const auto j = nlohmann::json::parse(in);
    if (j.at("detector") != detector) return cache;
    for (const auto& [sha, boxes] : j.at("pictures").items()) {
      auto& list = cache[sha];
      for (const auto& b : boxes) list.push_back({b.at(0), b.at(1), b.at(2), b.at(3), b.at(4)});
    }
  } catch (const std::exception& e) {
    std::cerr << "attendance-sim: " << path << " is not a count cache (" << e.what()
              << "): counting again\n";
    cache.clear();
  }
  return cache;
}

att::Status write_count_cache(const std::filesystem::path& path, const std::string& detector,
                              const std::vector<Picture>& pictures) {
  nlohmann::json list = nlohmann::json::object();
  for (const Picture& p : pictures) {
    auto& boxes = list[att::sha256_hex(p.jpeg)] = nlohmann::json::array();
    for (const att::Box& b : p.boxes) boxes.push_back({b.x, b.y, b.w, b.h, b.score});
  }
  return att::write_file_atomically(
      path, nlohmann::json{{"detector", detector}, {"pictures", list}}.dump(), false);
}

// Counts every picture (as sent: decoded from its JPEG) with `detectors`, on a few threads,
// unless `cache` has it, and judges its camera health. The detector's median milliseconds a
// picture (0 when every picture was in the cache), or an error.
att::Result<double> count_pictures(std::vector<Picture>& pictures, att::DetectorPool& detectors,
                                   const CountCache& cache) {
  std::vector<double> ms;
  std::atomic<size_t> next{0};
  std::mutex mu;
  std::string error;
  auto work = [&] {
    for (size_t i = next++; i < pictures.size(); i = next++) {
      Picture& p = pictures[i];
      const std::vector<unsigned char> bytes(p.jpeg.begin(), p.jpeg.end());
      const cv::Mat frame = cv::imdecode(bytes, cv::IMREAD_COLOR);
      p.size = frame.size();
      const att::HealthReport health = att::HealthMonitor().assess(frame);
      p.health = health.scores();
      p.healthy = health.ok();
      if (auto known = cache.find(att::sha256_hex(p.jpeg)); known != cache.end()) {
        p.boxes = known->second;
        continue;
      }
      const auto started = Clock::now();
      auto boxes = detectors.detect(frame);
      std::lock_guard lock(mu);
      ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - started).count());
      if (!boxes) {
        error = boxes.error().message;
        return;
      }
      p.boxes = std::move(*boxes);
    }
  };
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < std::max(1u, std::thread::hardware_concurrency()); ++i)
    threads.emplace_back(work);
  for (auto& t : threads) t.join();
  if (!error.empty()) return att::fail("counting the pictures: " + error);
  std::sort(ms.begin(), ms.end());
  return ms.empty() ? 0 : ms[ms.size() / 2];
}

// A scripted happening at one site (--event).
struct SimEvent {
  enum class Kind { kOffline, kCovered, kPeople };
  std::string site;
  Kind kind = Kind::kOffline;
  double share = 1;  // kPeople: of the expected attendees
  double from_s = 0, to_s = 1e18;
};

// SITE:KIND:FROM-TO (TO may be empty); an error that says what is wrong.
att::Result<SimEvent> parse_event(const std::string& text) {
  const auto bad = [&](const std::string& why) {
    return att::fail("--event " + text + ": " + why +
                     " (SITE:offline|covered|people=SHARE:FROM-TO, seconds from the start)");
  };
  const auto c1 = text.find(':'), c2 = text.rfind(':');
  if (c1 == std::string::npos || c1 == c2) return bad("three parts separated by ':' expected");
  SimEvent e;
  e.site = text.substr(0, c1);
  const std::string kind = text.substr(c1 + 1, c2 - c1 - 1), when = text.substr(c2 + 1);
  try {
    if (kind == "offline") {
      e.kind = SimEvent::Kind::kOffline;
    } else if (kind == "covered") {
      e.kind = SimEvent::Kind::kCovered;
    } else if (kind.starts_with("people=")) {
      e.kind = SimEvent::Kind::kPeople;
      size_t used = 0;
      e.share = std::stod(kind.substr(7), &used);
      if (used != kind.size() - 7 || e.share < 0 || e.share > 2)
        return bad("the share must be a number from 0 to 2");
    } else {
      return bad("unknown kind '" + kind + "'");
    }
    const auto dash = when.find('-');
    if (dash == std::string::npos) return bad("FROM-TO expected");
    size_t used = 0;
    e.from_s = std::stod(when.substr(0, dash), &used);
    if (used != dash) return bad("FROM must be a number");
    if (dash + 1 < when.size()) {
      e.to_s = std::stod(when.substr(dash + 1), &used);
      if (used != when.size() - dash - 1) return bad("TO must be a number");
    }
  } catch (const std::exception&) {
    return bad("numbers expected");
  }
  if (e.from_s < 0 || e.to_s <= e.from_s) return bad("FROM must be >= 0 and TO after it");
  return e;
}

struct Pending {
  std::int64_t sequence;
  std::int64_t capture_ms;
  att::NodeUpload::Kind kind;
  const std::string* jpeg;  // a frame or evidence picture
  std::string text;         // a count's or a heartbeat's body, or an evidence picture's X-Count
};

struct SimSite {
  std::string id, secret;
  int expected = 0;  // attendees, for the counts an edge site sends
  Clock::time_point next_evidence;
  std::deque<Pending> spool;  // frames not yet acknowledged, oldest first
  std::int64_t next_sequence = 0;
  Clock::time_point next_capture, next_send;
  std::set<std::int64_t> roll_calls;    // announced by the service, not yet served (ms UTC)
  std::int64_t served_up_to = 0;        // capture time of the last roll call's picture
  std::vector<int> counts;              // edge: each picture's count with the site's zones
  std::vector<const SimEvent*> events;  // scripted at this site (--event)
  Clock::time_point next_heartbeat;
  std::int64_t stored = 0, duplicates = 0, dropped = 0;  // for its reports
  std::optional<Pending> heartbeat;  // edge: the newest report, not yet acknowledged
};

struct Totals {
  std::mutex mu;
  std::int64_t sampled = 0, stored = 0, duplicates = 0, busy = 0, refused = 0, failed = 0,
               dropped = 0, roll_call_pictures = 0, heartbeats = 0, heartbeats_replaced = 0;
  std::vector<double> latency_ms;  // capture to acknowledgement, stored frames
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * (v.size() - 1) + 0.5))];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"attendance-sim: simulated capture nodes pushing real, signed frames"};
  std::string config_path = "config/server.yaml", server = "http://127.0.0.1:8080", images, clip;
  int sites = 164, threads = 0, width = 1280, height = 720, spool_frames = 20, picture_limit = 60;
  double interval = 5, duration = 60, drain = 0, evidence_interval = 60, heartbeat_interval = 30;
  std::string acked_path, acked_reports_path, mode = "central", skip_list, count_cache, ca_file;
  std::vector<std::string> event_texts;
  app.add_option("-c,--config", config_path, "the service's settings: sites and their keys")
      ->capture_default_str();
  app.add_option("--server", server, "the service")->capture_default_str();
  app.add_option("--ca-file", ca_file, "HTTPS: trust this certificate (PEM), as a node does");
  app.add_option("--sites", sites, "simulated sites: the first N of the province's sites.csv")
      ->capture_default_str();
  app.add_option("--mode", mode,
                 "central: frames for the service to count; edge: counts and evidence pictures, "
                 "as nodes that count")
      ->check(CLI::IsMember({"central", "edge"}))
      ->capture_default_str();
  app.add_option("--interval", interval, "seconds between a site's frames (edge: counts)")
      ->capture_default_str();
  app.add_option("--evidence-interval", evidence_interval,
                 "edge: seconds between a site's evidence pictures")
      ->capture_default_str();
  app.add_option("--heartbeat-interval", heartbeat_interval,
                 "edge: seconds between a site's heartbeats")
      ->capture_default_str();
  app.add_option("--skip", skip_list,
                 "site ids (comma-separated) not simulated: real nodes feed them");
  app.add_option("--event", event_texts,
                 "edge: SITE:offline|covered|people=SHARE:FROM-TO, seconds from the start "
                 "(TO empty: to the end); repeatable");
  app.add_option("--count-cache", count_cache,
                 "edge: keep the pictures' detections in this file, to count them once only");
  bool count_only = false;
  app.add_flag("--count-only", count_only,
               "edge: count the pictures (into --count-cache) and exit, sending nothing");
  app.add_option("--pictures", picture_limit, "pictures read at most")->capture_default_str();
  app.add_option("--duration", duration, "seconds to sample and send")->capture_default_str();
  app.add_option("--drain", drain,
                 "then at most this many seconds more to deliver what the sites still hold")
      ->capture_default_str();
  app.add_option("--acked-reports", acked_reports_path,
                 "append 'site sequence' to this file for every node report acknowledged");
  app.add_option("--acked", acked_path,
                 "append 'site sequence' to this file for every frame the service acknowledged");
  app.add_option("--images", images, "a folder of pictures to send");
  app.add_option("--clip", clip, "a video to take pictures from (one in 10 frames)");
  app.add_option("--width", width, "frame size sent")->capture_default_str();
  app.add_option("--height", height, "frame size sent")->capture_default_str();
  app.add_option("--threads", threads,
                 "concurrent uploads (default: one per site up to 256, as each node has its own)");
  app.add_option("--spool", spool_frames, "items a site keeps while pushed back or offline")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (images.empty() == clip.empty()) {
    std::cerr << "attendance-sim: give --images DIR or --clip FILE\n";
    return 2;
  }
  auto config = att::load_server_config(config_path);
  if (!config) return std::cerr << "attendance-sim: " << config.error().message << "\n", 2;
  if (sites < 1 || sites > static_cast<int>(config->sites.size())) {
    std::cerr << "attendance-sim: --sites must be 1.." << config->sites.size() << "\n";
    return 2;
  }
  const bool edge = mode == "edge";
  std::vector<SimEvent> events;
  for (const std::string& text : event_texts) {
    auto e = parse_event(text);
    if (!e) return std::cerr << "attendance-sim: " << e.error().message << "\n", 2;
    if (!edge) return std::cerr << "attendance-sim: --event needs --mode edge\n", 2;
    events.push_back(std::move(*e));
  }
  if (count_only && !edge)
    return std::cerr << "attendance-sim: --count-only needs --mode edge\n", 2;
  std::set<std::string> skipped;
  for (size_t from = 0; from < skip_list.size();) {
    const size_t comma = std::min(skip_list.find(',', from), skip_list.size());
    if (comma > from) skipped.insert(skip_list.substr(from, comma - from));
    from = comma + 1;
  }
  std::vector<Picture> pictures = load_pictures(images, clip, width, height, picture_limit);
  if (pictures.empty()) return std::cerr << "attendance-sim: no pictures could be read\n", 2;

  // Edge: every picture counted as the service would count it, once.
  att::DetectorChoice detector;
  std::unique_ptr<att::Counting> counting;
  double detector_ms = 0;
  const std::string covered = covered_jpeg(width, height);
  att::HealthScores covered_health;
  if (edge) {
    auto chosen = att::choose_detector(
        config->detector,
        att::model_search_dirs(config->detector.model_dir, config->detector.search_default_dirs));
    if (!chosen) return std::cerr << "attendance-sim: " << chosen.error().message << "\n", 2;
    detector = std::move(*chosen);
    auto pool = att::DetectorPool::create(detector.make, 0);
    if (!pool) return std::cerr << "attendance-sim: " << pool.error().message << "\n", 2;
    const auto counted_at = Clock::now();
    const CountCache cache =
        count_cache.empty() ? CountCache{} : read_count_cache(count_cache, detector.name);
    auto ms = count_pictures(pictures, **pool, cache);
    if (!ms) return std::cerr << "attendance-sim: " << ms.error().message << "\n", 2;
    detector_ms = *ms;
    if (!count_cache.empty()) {
      if (auto w = write_count_cache(count_cache, detector.name, pictures); !w)
        std::cerr << "attendance-sim: " << w.error().message << "\n";
    }
    if (count_only) return 0;
    std::cerr << "attendance-sim: " << pictures.size() << " pictures counted with " << detector.name
              << " in " << std::chrono::duration<double>(Clock::now() - counted_at).count()
              << " s\n";
    counting = std::make_unique<att::Counting>(config->counting, config->zones);
    const std::vector<unsigned char> bytes(covered.begin(), covered.end());
    covered_health = att::HealthMonitor().assess(cv::imdecode(bytes, cv::IMREAD_COLOR)).scores();
  }

  std::vector<SimSite> all;
  std::mt19937 rng(42);
  const auto start = Clock::now();
  const std::int64_t start_wall_ms = att::now_ms();
  const auto interval_d =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(interval));
  for (int i = 0; i < sites; ++i) {
    const att::Site& site = config->sites[static_cast<size_t>(i)];
    if (skipped.contains(site.id)) continue;
    SimSite& s = all.emplace_back();
    s.id = site.id;
    auto key = config->site_keys.find(s.id);
    if (key == config->site_keys.end()) {
      std::cerr << "attendance-sim: site " << s.id << " has no key (attendance-server keys)\n";
      return 2;
    }
    s.secret = key->second;
    s.expected = site.expected_attendees;
    s.next_sequence = att::now_ms() * 1000;  // above any earlier run's numbers
    // Sites start spread over one interval, as real cameras are not in step.
    s.next_capture = start + std::chrono::duration_cast<Clock::duration>(
                                 interval_d * std::uniform_real_distribution<>(0, 1)(rng));
    s.next_send = s.next_capture;
    s.next_heartbeat = s.next_capture;
    for (const SimEvent& e : events) {
      if (e.site == s.id) s.events.push_back(&e);
    }
    if (edge) {
      for (const Picture& p : pictures) {
        s.counts.push_back(static_cast<int>(counting->countable(s.id, p.size, p.boxes).size()));
      }
    }
  }
  for (const SimEvent& e : events) {
    if (std::ranges::none_of(all, [&](const SimSite& s) { return s.id == e.site; })) {
      std::cerr << "attendance-sim: --event for " << e.site << ", a site not simulated\n";
      return 2;
    }
  }
  if (all.empty()) return std::cerr << "attendance-sim: every site is skipped\n", 2;
  const auto evidence_d =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(evidence_interval));
  const auto heartbeat_d = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(heartbeat_interval));
  // Evidence pictures spread over one evidence interval too, as nodes started at different
  // times send theirs at different moments.
  for (SimSite& s : all) {
    s.next_evidence =
        s.next_capture + std::chrono::duration_cast<Clock::duration>(
                             evidence_d * std::uniform_real_distribution<>(0, 1)(rng));
  }
  // The scripted events at a site at `t` seconds from the start, of one kind.
  const auto event_at = [](const SimSite& s, double t, SimEvent::Kind kind) -> const SimEvent* {
    for (const SimEvent* e : s.events) {
      if (e->kind == kind && e->from_s <= t && t < e->to_s) return e;
    }
    return nullptr;
  };
  // What an edge site's camera shows at `t`: one of the healthy pictures whose count is
  // nearest the room's share of its expected attendees (88-100 %, drifting slowly, unless
  // scripted), taken in turn among the three nearest; or the covered lens.
  struct Shown {
    const std::string* jpeg;
    std::string count;         // its count, as the node sends it
    att::HealthScores health;  // its camera health, as the count and the heartbeat say
  };
  const auto shown = [&](const SimSite& s, double t, std::int64_t sequence) {
    att::NodeCount c;
    c.width = width;
    c.height = height;
    c.model = detector.name;
    c.model_sha256 = detector.model_sha256;
    c.detector_ms = detector_ms;
    c.frames_counted = static_cast<std::int64_t>(std::max(1.0, interval));
    c.rate_hz = 1;
    if (event_at(s, t, SimEvent::Kind::kCovered)) {
      c.health = covered_health;
      return Shown{&covered, c.to_json(), covered_health};
    }
    double share = 0.94 + 0.06 * std::sin(t / 600.0 + static_cast<double>(s.expected));
    if (const SimEvent* e = event_at(s, t, SimEvent::Kind::kPeople)) share = e->share;
    const double target = share * s.expected;
    std::vector<std::pair<double, size_t>> nearest;  // distance, picture
    for (size_t i = 0; i < pictures.size(); ++i) {
      if (pictures[i].healthy || pictures.size() == 1)
        nearest.push_back({std::abs(s.counts[i] - target), i});
    }
    if (nearest.empty()) {  // every picture raises a health flag: take them as they are
      for (size_t i = 0; i < pictures.size(); ++i)
        nearest.push_back({std::abs(s.counts[i] - target), i});
    }
    const size_t k = std::min<size_t>(3, nearest.size());
    std::partial_sort(nearest.begin(), nearest.begin() + static_cast<std::ptrdiff_t>(k),
                      nearest.end());
    const Picture& p = pictures[nearest[static_cast<size_t>(sequence) % k].second];
    const std::vector<att::Box> counted = counting->countable(s.id, p.size, p.boxes);
    c.count = c.frame_count = static_cast<int>(counted.size());
    c.set_boxes(counted);
    c.health = p.health;
    return Shown{&p.jpeg, c.to_json(), p.health};
  };
  // An edge site's heartbeat at `captured`: its report as a node sends it.
  const auto report_of = [&](const SimSite& s, std::int64_t captured,
                             const att::HealthScores& health) {
    att::NodeReport r;
    r.state = att::NodeState::kOk;
    att::NodeCamera camera;
    camera.playing = true;
    camera.last_frame_ms = captured;
    camera.last_frame_age_s = 0;
    camera.pipeline_starts = 1;
    camera.interval_s = interval;
    r.camera = camera;
    r.health = health;
    att::NodeSpool spool;
    spool.items = static_cast<std::int64_t>(s.spool.size());
    spool.max_bytes = static_cast<std::int64_t>(spool_frames) * 1'000'000;
    spool.dropped = s.dropped;
    r.spool = spool;
    att::NodeCounters counters;
    counters.stored = s.stored;
    counters.duplicates = s.duplicates;
    r.counters = counters;
    att::NodeCounting looks;
    looks.model = detector.name;
    looks.every_s = 1;
    looks.max_cores = 1;
    looks.rate_hz = 1;
    looks.detector_ms = detector_ms;
    r.counting = looks;
    r.version = "attendance-sim";
    r.uptime_s = (captured - start_wall_ms) / 1000;
    return r.to_json();
  };

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  const auto seconds_d = [](double s) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
  };
  const auto end = start + seconds_d(duration);  // sampling stops
  const auto stop_at = end + seconds_d(drain);   // sending stops
  std::ofstream acked, acked_reports;
  if (!acked_reports_path.empty()) {
    acked_reports.open(acked_reports_path, std::ios::app);
    if (!acked_reports)
      return std::cerr << "attendance-sim: cannot write " << acked_reports_path << "\n", 2;
  }
  if (!acked_path.empty()) {
    acked.open(acked_path, std::ios::app);
    if (!acked) return std::cerr << "attendance-sim: cannot write " << acked_path << "\n", 2;
  }
  Totals totals;
  std::mutex mu;  // guards `all` and `due`
  // Sites by when they next need attention (a capture or a send), earliest first.
  using Due = std::pair<Clock::time_point, size_t>;
  std::priority_queue<Due, std::vector<Due>, std::greater<>> due;
  for (size_t i = 0; i < all.size(); ++i) due.push({all[i].next_capture, i});
  std::condition_variable wake;
  // When the site needs attention next; a site with nothing held and nothing more to sample
  // is done.
  auto push_due = [&](const SimSite& s, size_t index) {
    const bool sampling = s.next_capture < end;
    if (s.spool.empty() && !s.heartbeat) {
      if (sampling) due.push({s.next_capture, index});
    } else {
      due.push({sampling ? std::min(s.next_capture, s.next_send) : s.next_send, index});
    }
  };

  auto worker = [&](att::UploadClient& client) {
    std::unique_lock lock(mu);
    while (!g_stop && Clock::now() < stop_at) {  // what is still held then is reported
      if (due.empty()) {
        if (Clock::now() >= end) break;
        wake.wait_for(lock, std::chrono::milliseconds(100));
        continue;
      }
      const auto [when, index] = due.top();
      if (when >= stop_at) break;
      if (Clock::now() < when) {
        wake.wait_until(lock, std::min(when, stop_at));
        continue;
      }
      due.pop();
      SimSite& s = all[index];
      const auto now = Clock::now();
      while (s.next_capture <= now && s.next_capture < end) {  // a new item joins the spool
        // Each site its own picture sequence, so that the mix of full and empty rooms at
        // any moment is the set's, not one picture at every site at once.
        const auto k = (static_cast<size_t>(s.next_sequence) + index * 7) % pictures.size();
        const std::int64_t captured =
            start_wall_ms +
            std::chrono::duration_cast<std::chrono::milliseconds>(s.next_capture - start).count();
        const double t = std::chrono::duration<double>(s.next_capture - start).count();
        if (!edge) {
          s.spool.push_back(
              {s.next_sequence++, captured, att::NodeUpload::Kind::kFrame, &pictures[k].jpeg, ""});
        } else {
          const Shown now_shown = shown(s, t, s.next_sequence);
          const bool roll_call = !s.roll_calls.empty() &&
                                 *s.roll_calls.begin() - att::wire::kRollCallLeadMs <= captured;
          if (roll_call || s.next_capture >= s.next_evidence) {
            while (!s.roll_calls.empty() &&
                   *s.roll_calls.begin() - att::wire::kRollCallLeadMs <= captured) {
              s.roll_calls.erase(s.roll_calls.begin());
            }
            if (roll_call) {
              s.served_up_to = captured;
              std::lock_guard lock_totals(totals.mu);
              ++totals.roll_call_pictures;
            }
            s.spool.push_back({s.next_sequence++, captured, att::NodeUpload::Kind::kEvidence,
                               now_shown.jpeg, now_shown.count});
            if (s.next_capture >= s.next_evidence) s.next_evidence += evidence_d;
          } else {
            s.spool.push_back({s.next_sequence++, captured, att::NodeUpload::Kind::kCount, nullptr,
                               now_shown.count});
          }
          if (s.next_capture >= s.next_heartbeat) {  // the newest report replaces an unsent one
            if (s.heartbeat) {
              std::lock_guard lock_totals(totals.mu);
              ++totals.heartbeats_replaced;
            }
            s.heartbeat = Pending{s.next_sequence++, captured, att::NodeUpload::Kind::kHeartbeat,
                                  nullptr, report_of(s, captured, now_shown.health)};
            s.next_heartbeat += heartbeat_d;
          }
        }
        s.next_capture += interval_d;
        std::lock_guard lock_totals(totals.mu);
        ++totals.sampled;
        if (static_cast<int>(s.spool.size()) > spool_frames) {
          s.spool.pop_front();
          ++totals.dropped;
          ++s.dropped;
        }
      }
      if (const SimEvent* off =
              event_at(s, std::chrono::duration<double>(now - start).count(),
                       SimEvent::Kind::kOffline)) {  // the link is down: nothing goes out
        s.next_send =
            std::max(s.next_send, start + seconds_d(std::min(off->to_s, duration + drain)));
      }
      if ((s.spool.empty() && !s.heartbeat) || s.next_send > now) {
        push_due(s, index);
        continue;
      }
      const bool heartbeat = s.heartbeat.has_value();  // the latest report goes first
      const Pending item = heartbeat ? *s.heartbeat : s.spool.front();
      const bool more = s.spool.size() + (heartbeat ? 1 : 0) >
                        1;  // as a node: the connection kept for a backlog only
      lock.unlock();        // the upload runs without the lock; this site is out of `due` meanwhile
      att::NodeUpload upload;
      upload.kind = item.kind;
      upload.site_id = s.id;
      upload.sequence = item.sequence;
      upload.capture_time_ms = item.capture_ms;
      upload.body = item.jpeg ? *item.jpeg : item.text;
      if (item.kind == att::NodeUpload::Kind::kEvidence) upload.extra = item.text;
      upload.more = more;
      const att::UploadOutcome res = client.send(upload, s.secret);
      const std::int64_t acked_ms = att::now_ms();
      lock.lock();
      if (edge && res.roll_calls_known) {  // served ones stay served: every answer repeats them
        for (std::int64_t t : res.roll_calls_ms) {
          if (t - att::wire::kRollCallLeadMs > s.served_up_to) s.roll_calls.insert(t);
        }
      }
      int retry_after = 0;
      {
        std::lock_guard t(totals.mu);
        if ((res.http_status == 201 || res.http_status == 200) && heartbeat) {
          ++totals.heartbeats;
          if (acked_reports.is_open()) acked_reports << s.id << ' ' << item.sequence << std::endl;
        } else if (res.http_status == 201 || res.http_status == 200) {
          (res.http_status == 201 ? totals.stored : totals.duplicates)++;
          (res.http_status == 201 ? s.stored : s.duplicates)++;
          totals.latency_ms.push_back(static_cast<double>(acked_ms - item.capture_ms));
          if (acked.is_open()) acked << s.id << ' ' << item.sequence << std::endl;
        } else if (res.http_status == 503) {
          ++totals.busy;
          retry_after = std::max(1, res.retry_after_s);
        } else if (res.http_status >= 400 && res.http_status < 500) {
          ++totals.refused;
          if (totals.refused <= 3) std::cerr << "refused: " << res.message << "\n";
        } else {
          ++totals.failed;
          retry_after = 1;
        }
      }
      if (retry_after == 0 && heartbeat) {
        if (s.heartbeat && s.heartbeat->sequence == item.sequence) s.heartbeat.reset();
      } else if (retry_after == 0) {
        if (!s.spool.empty() && s.spool.front().sequence == item.sequence) s.spool.pop_front();
      } else {
        s.next_send = Clock::now() + std::chrono::seconds(retry_after);
      }
      push_due(s, index);
      wake.notify_one();
    }
  };
  if (threads <= 0) threads = std::min(static_cast<int>(all.size()), 256);
  // One client (one kept-alive connection) per worker, all made before any starts.
  std::vector<std::unique_ptr<att::UploadClient>> clients;
  for (int i = 0; i < threads; ++i) {
    auto made = att::UploadClient::create(
        {server, std::chrono::seconds(60), std::chrono::seconds(10), ca_file});
    if (!made) {
      std::cerr << "attendance-sim: " << made.error().message << "\n";
      return 2;
    }
    clients.push_back(std::move(*made));
  }
  std::vector<std::thread> pool;
  for (auto& client : clients) pool.emplace_back(worker, std::ref(*client));
  for (auto& t : pool) t.join();

  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::int64_t backlog = 0;
  for (const auto& s : all) backlog += static_cast<std::int64_t>(s.spool.size());
  const nlohmann::json out = {{"sites", all.size()},
                              {"mode", mode},
                              {"interval_s", interval},
                              {"seconds", seconds},
                              {"frame_bytes", pictures.front().jpeg.size()},
                              {"offered_fps", static_cast<double>(all.size()) / interval},
                              {"sampled", totals.sampled},
                              {"stored", totals.stored},
                              {"duplicates", totals.duplicates},
                              {"stored_fps", totals.stored / seconds},
                              {"busy_503", totals.busy},
                              {"refused", totals.refused},
                              {"failed", totals.failed},
                              {"dropped_in_sim_spools", totals.dropped},
                              {"left_in_sim_spools", backlog},
                              {"roll_call_pictures", totals.roll_call_pictures},
                              {"heartbeats", totals.heartbeats},
                              {"heartbeats_replaced", totals.heartbeats_replaced},
                              {"latency_p50_ms", percentile(totals.latency_ms, 0.5)},
                              {"latency_p99_ms", percentile(totals.latency_ms, 0.99)}};
  std::cout << out.dump() << "\n";
  return totals.refused > 0 ? 3 : 0;
}
