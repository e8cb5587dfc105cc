// attendance-sim: N capture nodes in one process, for the demo, load tests and benchmarks.
// Each simulated site sends, signed with its own key, in its own phase:
//   --mode central  real JPEG frames (from a folder of pictures or a clip) at the interval,
//                   for the service to count;
//   --mode edge     as a node that counts: a count (protocol/node_count.h) at the interval,
//                   and an evidence picture with its count every --evidence-interval and
//                   at its first capture from a second before each roll call the service
//                   announces in its answers, as a node does; the counts follow the site's
//                   expected attendees (85-100 %).
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
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>
#include <queue>
#include <random>
#include <set>
#include <thread>

#include "analysis/app/server_config.h"
#include "analysis/domain/site_keys.h"
#include "common/time_util.h"
#include "counting/models.h"
#include "protocol/node_count.h"
#include "protocol/upload_client.h"
#include "protocol/wire.h"

namespace {

using Clock = std::chrono::steady_clock;
std::atomic<bool> g_stop{false};
extern "C" void on_signal(int) {
  g_stop = true;
}

// Frames to send, JPEG-encoded once at the chosen size.
std::vector<std::string> load_frames(const std::string& images, const std::string& clip, int width,
                                     int height, int limit) {
  std::vector<cv::Mat> pictures;
  if (!images.empty()) {
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(images)) {
      const auto ext = e.path().extension().string();
      if (ext == ".jpg" || ext == ".jpeg" || ext == ".png") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      if (static_cast<int>(pictures.size()) >= limit) break;
      cv::Mat m = cv::imread(f.string(), cv::IMREAD_COLOR);
      if (!m.empty()) pictures.push_back(m);
    }
  } else {
    cv::VideoCapture cap(clip, cv::CAP_FFMPEG);
    cv::Mat m;
    for (int i = 0; cap.read(m) && static_cast<int>(pictures.size()) < limit; ++i) {
      if (i % 10 == 0) pictures.push_back(m.clone());
    }
  }
  std::vector<std::string> jpegs;
  for (const cv::Mat& m : pictures) {
    cv::Mat sized;
    cv::resize(m, sized, cv::Size(width, height), 0, 0, cv::INTER_AREA);
    std::vector<unsigned char> bytes;
    cv::imencode(".jpg", sized, bytes, {cv::IMWRITE_JPEG_QUALITY, 85});
    jpegs.emplace_back(bytes.begin(), bytes.end());
  }
  return jpegs;
}

struct Pending {
  std::int64_t sequence;
  std::int64_t capture_ms;
  att::NodeUpload::Kind kind;
  const std::string* jpeg;  // a frame or evidence picture
  std::string count;        // a count's body, or an evidence picture's X-Count
};

struct SimSite {
  std::string id, secret;
  int expected = 0;  // attendees, for the counts an edge site sends
  Clock::time_point next_evidence;
  std::deque<Pending> spool;  // frames not yet acknowledged, oldest first
  std::int64_t next_sequence = 0;
  Clock::time_point next_capture, next_send;
  std::set<std::int64_t> roll_calls;  // announced by the service, not yet served (ms UTC)
  std::int64_t served_up_to = 0;      // capture time of the last roll call's picture
};

struct Totals {
  std::mutex mu;
  std::int64_t sampled = 0, stored = 0, duplicates = 0, busy = 0, refused = 0, failed = 0,
               dropped = 0, roll_call_pictures = 0;
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
  int sites = 164, threads = 0, width = 1280, height = 720, spool_frames = 20, frame_limit = 60;
  double interval = 5, duration = 60, drain = 0, evidence_interval = 60;
  std::string acked_path, mode = "central";
  app.add_option("-c,--config", config_path, "the service's settings: sites and their keys")
      ->capture_default_str();
  app.add_option("--server", server, "the service")->capture_default_str();
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
  app.add_option("--duration", duration, "seconds to sample and send")->capture_default_str();
  app.add_option("--drain", drain,
                 "then at most this many seconds more to deliver what the sites still hold")
      ->capture_default_str();
  app.add_option("--acked", acked_path,
                 "append 'site sequence' to this file for every frame the service acknowledged");
  app.add_option("--images", images, "a folder of pictures to send");
  app.add_option("--clip", clip, "a video to take pictures from (one in 10 frames)");
  app.add_option("--width", width, "frame size sent")->capture_default_str();
  app.add_option("--height", height, "frame size sent")->capture_default_str();
  app.add_option("--threads", threads,
                 "concurrent uploads (default: one per site up to 256, as each node has its own)");
  app.add_option("--spool", spool_frames, "frames a site keeps while pushed back")
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
  const auto frames = load_frames(images, clip, width, height, frame_limit);
  if (frames.empty()) return std::cerr << "attendance-sim: no frames could be read\n", 2;

  std::vector<SimSite> all(static_cast<size_t>(sites));
  std::mt19937 rng(42);
  const auto start = Clock::now();
  const std::int64_t start_wall_ms = att::now_ms();
  const auto interval_d =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(interval));
  for (int i = 0; i < sites; ++i) {
    SimSite& s = all[static_cast<size_t>(i)];
    s.id = config->sites[static_cast<size_t>(i)].id;
    auto key = config->site_keys.find(s.id);
    if (key == config->site_keys.end()) {
      std::cerr << "attendance-sim: site " << s.id << " has no key (attendance-server keys)\n";
      return 2;
    }
    s.secret = key->second;
    s.expected = config->sites[static_cast<size_t>(i)].expected_attendees;
    s.next_sequence = att::now_ms() * 1000;  // above any earlier run's numbers
    // Sites start spread over one interval, as real cameras are not in step.
    s.next_capture = start + std::chrono::duration_cast<Clock::duration>(
                                 interval_d * std::uniform_real_distribution<>(0, 1)(rng));
    s.next_send = s.next_capture;
  }
  const bool edge = mode == "edge";
  const auto evidence_d =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(evidence_interval));
  // Evidence pictures spread over one evidence interval too, as nodes started at different
  // times send theirs at different moments.
  for (SimSite& s : all) {
    s.next_evidence =
        s.next_capture + std::chrono::duration_cast<Clock::duration>(
                             evidence_d * std::uniform_real_distribution<>(0, 1)(rng));
  }
  // An edge site's count at a moment: 85-100 % of its expected attendees, drifting slowly.
  const auto count_of = [&](const SimSite& s, std::int64_t captured, int width_px, int height_px) {
    att::NodeCount c;
    const double share = 0.925 + 0.075 * std::sin(static_cast<double>(captured) / 600'000.0 +
                                                  static_cast<double>(s.expected));
    c.count = static_cast<int>(std::lround(s.expected * share));
    c.frame_count = c.count;
    c.width = width_px;
    c.height = height_px;
    c.model = "yunet";
    c.model_sha256 = {att::yunet_2022mar().sha256};
    c.detector_ms = 74;
    c.frames_counted = static_cast<std::int64_t>(interval);
    c.rate_hz = 1;
    return c.to_json();
  };

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  const auto seconds_d = [](double s) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
  };
  const auto end = start + seconds_d(duration);  // sampling stops
  const auto stop_at = end + seconds_d(drain);   // sending stops
  std::ofstream acked;
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
    if (s.spool.empty()) {
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
        const auto k = (static_cast<size_t>(s.next_sequence) + index * 7) % frames.size();
        const std::int64_t captured =
            start_wall_ms +
            std::chrono::duration_cast<std::chrono::milliseconds>(s.next_capture - start).count();
        if (!edge) {
          s.spool.push_back(
              {s.next_sequence++, captured, att::NodeUpload::Kind::kFrame, &frames[k], ""});
        } else if (const bool roll_call =
                       !s.roll_calls.empty() &&
                       *s.roll_calls.begin() - att::wire::kRollCallLeadMs <= captured;
                   roll_call || s.next_capture >= s.next_evidence) {
          while (!s.roll_calls.empty() &&
                 *s.roll_calls.begin() - att::wire::kRollCallLeadMs <= captured) {
            s.roll_calls.erase(s.roll_calls.begin());
          }
          if (roll_call) {
            s.served_up_to = captured;
            std::lock_guard t(totals.mu);
            ++totals.roll_call_pictures;
          }
          s.spool.push_back({s.next_sequence++, captured, att::NodeUpload::Kind::kEvidence,
                             &frames[k], count_of(s, captured, width, height)});
          if (s.next_capture >= s.next_evidence) s.next_evidence += evidence_d;
        } else {
          s.spool.push_back({s.next_sequence++, captured, att::NodeUpload::Kind::kCount, nullptr,
                             count_of(s, captured, width, height)});
        }
        s.next_capture += interval_d;
        std::lock_guard t(totals.mu);
        ++totals.sampled;
        if (static_cast<int>(s.spool.size()) > spool_frames) {
          s.spool.pop_front();
          ++totals.dropped;
        }
      }
      if (s.spool.empty() || s.next_send > now) {
        push_due(s, index);
        continue;
      }
      const Pending item = s.spool.front();
      const bool more = s.spool.size() > 1;  // as a node: the connection kept for a backlog only
      lock.unlock();  // the upload runs without the lock; this site is out of `due` meanwhile
      att::NodeUpload upload;
      upload.kind = item.kind;
      upload.site_id = s.id;
      upload.sequence = item.sequence;
      upload.capture_time_ms = item.capture_ms;
      upload.body = item.kind == att::NodeUpload::Kind::kCount ? item.count : *item.jpeg;
      if (item.kind == att::NodeUpload::Kind::kEvidence) upload.extra = item.count;
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
        if (res.http_status == 201 || res.http_status == 200) {
          (res.http_status == 201 ? totals.stored : totals.duplicates)++;
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
      if (retry_after == 0) {
        if (!s.spool.empty() && s.spool.front().sequence == item.sequence) s.spool.pop_front();
      } else {
        s.next_send = Clock::now() + std::chrono::seconds(retry_after);
      }
      push_due(s, index);
      wake.notify_one();
    }
  };
  if (threads <= 0) threads = std::min(sites, 256);
  // One client (one kept-alive connection) per worker, all made before any starts.
  std::vector<std::unique_ptr<att::UploadClient>> clients;
  for (int i = 0; i < threads; ++i) {
    auto made =
        att::UploadClient::create({server, std::chrono::seconds(60), std::chrono::seconds(10), {}});
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
  const nlohmann::json out = {{"sites", sites},
                              {"mode", mode},
                              {"interval_s", interval},
                              {"seconds", seconds},
                              {"frame_bytes", frames.front().size()},
                              {"offered_fps", sites / interval},
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
                              {"latency_p50_ms", percentile(totals.latency_ms, 0.5)},
                              {"latency_p99_ms", percentile(totals.latency_ms, 0.99)}};
  std::cout << out.dump() << "\n";
  return totals.refused > 0 ? 3 : 0;
}
