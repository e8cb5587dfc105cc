// attendance-eval: how well the counting path counts (README, "Accuracy").
//   attendance-eval --images DIR [--detector NAME] [--json] [--save-annotated DIR]
//       every NAME.jpg with a NAME.txt of its people (head boxes and points), each image alone
//   attendance-eval --video FILE [--every SECONDS] [--window SECONDS] [--json]
//       the whole counting path (detector + occupancy window) on a clip: the count timeline
//   attendance-eval --cost IMAGE [--repeat N] [--json]
//       detector cost per frame at 640x480, 1280x720 and 1920x1080
#include <CLI/CLI.hpp>
#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "capture/camera.h"
#include "common/log.h"
#include "counting/detector.h"
#include "counting/eval.h"
#include "counting/jpeg.h"
#include "counting/models.h"
#include "counting/occupancy.h"

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

int usage_error(const std::string& message) {
  std::cerr << "attendance-eval: " << message << "\n";
  return 2;
}

// White text with a black outline, top left: readable on any picture.
void put_label(cv::Mat& canvas, const std::string& label) {
  cv::putText(canvas, label, {10, 30}, cv::FONT_HERSHEY_SIMPLEX, 0.8, {0, 0, 0}, 4);
  cv::putText(canvas, label, {10, 30}, cv::FONT_HERSHEY_SIMPLEX, 0.8, {255, 255, 255}, 2);
}

void save_annotated(const std::filesystem::path& out_dir, const att::EvalImage& im,
                    const cv::Mat& frame) {
  cv::Mat canvas = frame.clone();
  for (const auto& t : im.truth) {  // truth in blue (boxes, and points as dots), detections green
    if (t.is_point()) {
      cv::circle(canvas, cv::Point2f(t.box.x, t.box.y), 4, cv::Scalar(255, 80, 0), cv::FILLED);
    } else {
      cv::rectangle(canvas, cv::Rect2f(t.box.x, t.box.y, t.box.w, t.box.h), cv::Scalar(255, 80, 0),
                    1);
    }
  }
  for (const auto& b : im.predicted) {
    cv::rectangle(canvas, cv::Rect2f(b.x, b.y, b.w, b.h), cv::Scalar(0, 220, 0), 2);
  }
  const std::string label = "truth " + std::to_string(im.truth.size()) + "  predicted " +
                            std::to_string(im.predicted.size());
  put_label(canvas, label);
  cv::imwrite((out_dir / (im.name + ".jpg")).string(), canvas);
}

int eval_images(att::Detector& detector, const std::string& dir, const std::string& annotated_dir,
                bool as_json) {
  if (!annotated_dir.empty()) std::filesystem::create_directories(annotated_dir);
  auto evaluated =
      att::evaluate_images(detector, dir, [&](const att::EvalImage& im, const cv::Mat& frame) {
        if (!as_json) {
          std::printf("%-16s truth %3zu  predicted %3zu  %6.1f ms\n", im.name.c_str(),
                      im.truth.size(), im.predicted.size(), im.ms);
        }
        if (!annotated_dir.empty()) save_annotated(annotated_dir, im, frame);
      });
  if (!evaluated) return usage_error(evaluated.error().message);
  const std::vector<att::EvalImage>& results = *evaluated;

  const att::EvalSummary s = att::summarize(results);
  const auto bands = att::summarize_by_room_size(results);
  if (as_json) {
    nlohmann::json by_size = nlohmann::json::array();
    for (const auto& b : bands) {
      by_size.push_back({{"truth", b.label},
                         {"images", b.summary.images},
                         {"truth_total", b.summary.truth_total},
                         {"pred_total", b.summary.pred_total},
                         {"mae", b.summary.mae},
                         {"count_accuracy", b.summary.count_accuracy},
                         {"precision", b.summary.precision},
                         {"recall", b.summary.recall},
                         {"ms_median", b.summary.ms_median}});
    }
    nlohmann::json j = {{"images", s.images},
                        {"truth_total", s.truth_total},
                        {"pred_total", s.pred_total},
                        {"mae", s.mae},
                        {"count_accuracy", s.count_accuracy},
                        {"within_10pct", s.within_10pct},
                        {"precision", s.precision},
                        {"recall", s.recall},
                        {"ms_median", s.ms_median},
                        {"by_room_size", by_size},
                        {"detector", detector.name()}};
    std::cout << j.dump() << std::endl;
  } else {
    std::printf(
        "\ndetector %s: %d images, truth %ld, predicted %ld, MAE %.2f, count accuracy %.3f, "
        "within 10%% %.3f, precision %.3f, recall %.3f, median %.1f ms/image\n",
        detector.name().c_str(), s.images, s.truth_total, s.pred_total, s.mae, s.count_accuracy,
        s.within_10pct, s.precision, s.recall, s.ms_median);
    for (const auto& b : bands) {
      if (b.summary.images == 0) continue;
      std::printf(
          "  rooms of %-5s heads: %3d images, count accuracy %.3f, MAE %.2f, precision %.3f, "
          "recall %.3f, median %.1f ms/image\n",
          b.label.c_str(), b.summary.images, b.summary.count_accuracy, b.summary.mae,
          b.summary.precision, b.summary.recall, b.summary.ms_median);
    }
  }
  return 0;
}

// The frame with this frame's counted detections (green) and the window's places: occupied
// (yellow), seen but not (yet) occupied (grey), still like furniture (red).
void save_annotated_frame(const std::filesystem::path& out_dir, int index, const cv::Mat& frame,
                          const att::OccupancyResult& r, const att::OccupancyWindow& window) {
  cv::Mat canvas = frame.clone();
  for (const auto& b : r.counted) {
    cv::rectangle(canvas, cv::Rect2f(b.x, b.y, b.w, b.h), cv::Scalar(0, 220, 0), 1);
  }
  for (const auto& p : window.places()) {
    const cv::Scalar colour = p.still      ? cv::Scalar(0, 0, 255)
                              : p.occupied ? cv::Scalar(0, 220, 255)
                                           : cv::Scalar(160, 160, 160);
    cv::circle(canvas, p.centre, std::max(3, static_cast<int>(p.size * 0.6f)), colour, 2);
  }
  const std::string label =
      "frame " + std::to_string(r.frame_count) + "  window " + std::to_string(r.window_count);
  put_label(canvas, label);
  char name[32];
  std::snprintf(name, sizeof name, "frame_%04d.jpg", index);
  cv::imwrite((out_dir / name).string(), canvas);
}

// Reads the clip through the capture node's own camera pipeline (capture/camera.h: the same
// decoder, the same sampling, counting/sampler.h, the same JPEG), as fast as it is counted,
// and runs the node's counting path on each sampled frame: a node counting the same clip
// counts the same frames and ends on the same count.
constexpr double kSettleMs = 5000;  // window_min and window_max are taken after this

int eval_video(att::Detector& detector, const std::string& file, double every_s,
               const att::OccupancyConfig& occupancy, const std::string& annotated_dir,
               bool as_json) {
  if (!annotated_dir.empty()) std::filesystem::create_directories(annotated_dir);
  if (!std::filesystem::is_regular_file(file)) return usage_error("cannot open the video " + file);
  att::FrameQueue queue(2);
  att::Camera camera({{std::filesystem::absolute(file).string(), /*realtime=*/false, every_s,
                       /*width=*/0, /*jpeg_quality=*/85},
                      /*stall_timeout_s=*/20,
                      /*max_backoff_s=*/1,
                      /*exit_on_eos=*/true},
                     queue);
  if (auto started = camera.start(); !started) return usage_error(started.error().message);
  att::OccupancyWindow window(occupancy);
  nlohmann::json timeline = nlohmann::json::array();
  std::vector<double> ms;
  int min_count = -1, max_count = -1, last_count = 0;
  std::int64_t first_ms = -1;
  cv::Mat gray;
  for (;;) {
    auto sampled = queue.pop(std::chrono::milliseconds(200));
    if (!sampled) {
      const att::CameraStatus status = camera.status();
      if (status.finished && queue.empty()) break;
      // A pipeline that failed is rebuilt for a camera; for a clip it is the end.
      if (!status.last_error.empty()) {
        if (timeline.empty()) {
          return usage_error("cannot read the video " + file + ": " + status.last_error);
        }
        std::fprintf(stderr, "attendance-eval: %s ended early: %s\n", file.c_str(),
                     status.last_error.c_str());
        break;
      }
      continue;
    }
    auto decoded =
        att::decode_jpeg(std::span(reinterpret_cast<const unsigned char*>(sampled->jpeg.data()),
                                   sampled->jpeg.size()),
                         7680LL * 4320);
    if (!decoded) return usage_error(decoded.error().message);
    const cv::Mat& frame = *decoded;
    if (first_ms < 0) first_ms = sampled->capture_time_ms;
    const double t = static_cast<double>(sampled->capture_time_ms - first_ms);
    const auto t0 = Clock::now();
    auto boxes = detector.detect(frame);
    if (!boxes) return usage_error(boxes.error().message);
    cv::cvtColor(frame, gray, cv::COLOR_BGR2GRAY);
    const auto r = window.add(sampled->capture_time_ms, frame.size(), *boxes, gray);
    ms.push_back(ms_since(t0));
    if (!annotated_dir.empty()) {
      save_annotated_frame(annotated_dir, static_cast<int>(timeline.size()), frame, r, window);
    }
    last_count = r.window_count;
    // The window is still filling at first: the extremes are taken after the first 5 s.
    if (t >= kSettleMs) {
      min_count = min_count < 0 ? r.window_count : std::min(min_count, r.window_count);
      max_count = std::max(max_count, r.window_count);
    }
    timeline.push_back(
        {{"t_s", t / 1000.0}, {"frame_count", r.frame_count}, {"window_count", r.window_count}});
    if (!as_json) {
      std::printf("t %7.2f s  frame count %3d  windowed count %3d\n", t / 1000.0, r.frame_count,
                  r.window_count);
    }
  }
  if (timeline.empty()) return usage_error("no frames could be read from " + file);
  nlohmann::json j = {{"video", std::filesystem::path(file).filename().string()},
                      {"detector", detector.name()},
                      {"every_s", every_s},
                      {"window_s", occupancy.window_s},
                      {"frames", timeline.size()},
                      {"window_min", min_count},
                      {"window_max", max_count},
                      {"window_final", last_count},
                      {"ms_median", att::median(ms)},
                      {"timeline", timeline}};
  if (as_json) {
    std::cout << j.dump() << std::endl;
  } else {
    std::printf(
        "\n%s, detector %s: %zu frames, windowed count %d..%d after the first 5 s, "
        "final %d, median %.1f ms/frame\n",
        file.c_str(), detector.name().c_str(), timeline.size(), min_count, max_count, last_count,
        att::median(ms));
  }
  return 0;
}

int eval_cost(att::Detector& detector, const std::string& image, int repeat, bool as_json) {
  const cv::Mat source = cv::imread(image, cv::IMREAD_COLOR);
  if (source.empty()) return usage_error("cannot read " + image);
  nlohmann::json sizes = nlohmann::json::array();
  for (const cv::Size size : {cv::Size(640, 480), cv::Size(1280, 720), cv::Size(1920, 1080)}) {
    cv::Mat frame;
    cv::resize(source, frame, size, 0, 0, cv::INTER_LINEAR);
    if (auto warm = detector.detect(frame); !warm) return usage_error(warm.error().message);
    std::vector<double> ms;
    size_t found = 0;
    for (int i = 0; i < repeat; ++i) {
      const auto t0 = Clock::now();
      auto boxes = detector.detect(frame);
      ms.push_back(ms_since(t0));
      found = boxes ? boxes->size() : 0;
    }
    const double median = att::median(ms);
    sizes.push_back({{"width", size.width},
                     {"height", size.height},
                     {"ms_median", median},
                     {"detections", found}});
    if (!as_json) {
      std::printf("%s %4dx%-4d %7.1f ms/frame (median of %d), %zu detections\n",
                  detector.name().c_str(), size.width, size.height, median, repeat, found);
    }
  }
  if (as_json) {
    std::cout
        << nlohmann::json{{"detector", detector.name()}, {"image", image}, {"sizes", sizes}}.dump()
        << std::endl;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"attendance-eval: how well the counting path counts"};
  std::string images_dir, video_file, cost_image, detector_name = "fused", annotated_dir, model_dir;
  double score = 0, every_s = 1, confirm_score = 0;
  int repeat = 5, confirm_max = 0;
  bool as_json = false;
  att::OccupancyConfig occupancy;
  auto* modes = app.add_option_group("mode", "what to evaluate");
  modes->add_option("--images", images_dir,
                    "folder of NAME.jpg with NAME.txt, one person a line: a box 'x1 y1 x2 y2' "
                    "(a detection matches it when its centre is inside) or a point 'x y' (when "
                    "the point is inside the detection), in pixels; e.g. what attendance-server "
                    "export-eval writes");
  modes->add_option("--video", video_file, "a clip, run through detector and occupancy window");
  modes->add_option("--cost", cost_image, "an image, timed at 640x480, 1280x720 and 1920x1080");
  modes->require_option(1);
  auto names = att::detector_names();
  names.insert(names.end(), att::eval_only_detector_names().begin(),
               att::eval_only_detector_names().end());
  std::string listed;
  for (const auto& n : names) listed += (listed.empty() ? "" : ", ") + n;
  app.add_option("--detector", detector_name, "one of " + listed)
      ->check(CLI::IsMember(names))
      ->capture_default_str();
  app.add_option("--score", score,
                 "score threshold (yunet, yunet-tiled, lffd-head, yolox-person, rfb); "
                 "0 = default");
  app.add_option("--confirm-max", confirm_max,
                 "fused+yolox, fused+rfb: confirm when fused counts at most this many; "
                 "0 = default (5)")
      ->check(CLI::Range(0, 10000));
  app.add_option("--confirm-score", confirm_score,
                 "fused+yolox, fused+rfb: the confirmer's score; 0 = default (0.3, 0.6)")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--model-dir", model_dir, "searched first for model files");
  app.add_option("--save-annotated", annotated_dir,
                 "write each image (or sampled video frame) annotated");
  app.add_option("--every", every_s, "video: seconds of stream time between sampled frames")
      ->check(CLI::Range(0.04, 3600.0))
      ->capture_default_str();
  app.add_option("--window", occupancy.window_s, "video: occupancy window, seconds")
      ->check(CLI::Range(1.0, 7200.0))
      ->capture_default_str();
  app.add_option("--match-radius", occupancy.match_radius, "video: place radius, head widths")
      ->capture_default_str();
  app.add_option("--enter", occupancy.enter_fraction, "video: share of frames to become occupied")
      ->capture_default_str();
  app.add_option("--repeat", repeat, "cost: timed runs per size")->check(CLI::Range(1, 1000));
  app.add_flag("--json", as_json, "print one JSON object with the figures as the last line");
  CLI11_PARSE(app, argc, argv);
  att::log::setup("warn");

  att::DetectorConfig config;
  config.name = detector_name;
  config.score_threshold = score;
  config.confirm_max_count = confirm_max;
  config.confirm_score = confirm_score;
  auto choice = att::choose_detector(config, att::model_search_dirs(model_dir));
  if (!choice) return usage_error(choice.error().message);
  if (choice->name != detector_name) {  // never measure a fallback under the wrong name
    return usage_error("cannot run " + detector_name + ": " + choice->message);
  }
  auto detector = choice->make();
  if (!detector) return usage_error(detector.error().message);

  if (!images_dir.empty()) return eval_images(**detector, images_dir, annotated_dir, as_json);
  if (!video_file.empty())
    return eval_video(**detector, video_file, every_s, occupancy, annotated_dir, as_json);
  return eval_cost(**detector, cost_image, repeat, as_json);
}
