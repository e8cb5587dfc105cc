// attendance-eval: how well a detector counts, on a folder of frames with ground truth.
//   attendance-eval --images DIR [--detector yunet|haar] [--score T] [--json]
//                   [--save-annotated DIR]
#include <CLI/CLI.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>

#include "analysis/detector.h"
#include "analysis/eval.h"
#include "analysis/models.h"
#include "common/files.h"
#include "common/log.h"

namespace {

void save_annotated(const std::filesystem::path& out_dir, const att::EvalImage& im,
                    const cv::Mat& frame) {
  cv::Mat canvas = frame.clone();
  for (const auto& b : im.truth) {  // truth in blue, detections in green
    cv::rectangle(canvas, cv::Rect2f(b.x, b.y, b.w, b.h), cv::Scalar(255, 80, 0), 1);
  }
  for (const auto& b : im.predicted) {
    cv::rectangle(canvas, cv::Rect2f(b.x, b.y, b.w, b.h), cv::Scalar(0, 220, 0), 2);
  }
  const std::string label = "truth " + std::to_string(im.truth.size()) + "  predicted " +
                            std::to_string(im.predicted.size());
  cv::putText(canvas, label, {10, 30}, cv::FONT_HERSHEY_SIMPLEX, 0.9, {0, 0, 0}, 4);
  cv::putText(canvas, label, {10, 30}, cv::FONT_HERSHEY_SIMPLEX, 0.9, {255, 255, 255}, 2);
  cv::imwrite((out_dir / (im.name + ".jpg")).string(), canvas);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"attendance-eval: detector accuracy against ground-truth head boxes"};
  std::string images_dir, detector_name = "yunet", annotated_dir, model_dir;
  double score = 0.5;
  bool as_json = false;
  app.add_option("--images", images_dir, "folder of NAME.jpg with NAME.txt (x1 y1 x2 y2 per line)")
      ->required();
  app.add_option("--detector", detector_name, "yunet or haar")
      ->check(CLI::IsMember({"yunet", "haar"}))
      ->capture_default_str();
  app.add_option("--score", score, "YuNet score threshold")->capture_default_str();
  app.add_option("--model-dir", model_dir, "searched first for the model file");
  app.add_option("--save-annotated", annotated_dir, "write each image with truth and detections");
  app.add_flag("--json", as_json, "print one JSON object with the figures as the last line");
  CLI11_PARSE(app, argc, argv);
  att::log::setup("warn");

  std::unique_ptr<att::Detector> detector;
  if (detector_name == "yunet") {
    const auto search = att::find_model(att::yunet_2022mar(), att::model_search_dirs(model_dir));
    if (!search.path) {
      std::cerr << "attendance-eval: YuNet model not found (run scripts/models.sh):\n";
      for (const auto& note : search.notes) std::cerr << "  " << note << "\n";
      return 2;
    }
    auto d = att::make_yunet_detector(*search.path, static_cast<float>(score), 0.3f);
    if (!d) return std::cerr << "attendance-eval: " << d.error().message << "\n", 2;
    detector = std::move(*d);
  } else {
    auto d = att::make_haar_detector(att::DetectorConfig{}.haar_cascade);
    if (!d) return std::cerr << "attendance-eval: " << d.error().message << "\n", 2;
    detector = std::move(*d);
  }
  if (!annotated_dir.empty()) std::filesystem::create_directories(annotated_dir);

  const auto names = att::eval_image_names(images_dir);
  if (names.empty()) {
    std::cerr << "attendance-eval: no NAME.jpg with NAME.txt in " << images_dir << "\n";
    return 2;
  }
  std::vector<att::EvalImage> results;
  for (const auto& name : names) {
    const auto base = std::filesystem::path(images_dir) / name;
    auto text = att::read_file(base.string() + ".txt");
    auto truth = text ? att::parse_truth_boxes(*text) : std::unexpected(text.error());
    if (!truth) {
      std::cerr << "attendance-eval: " << base.string() << ".txt: " << truth.error().message << "\n";
      return 2;
    }
    const cv::Mat frame = cv::imread(base.string() + ".jpg", cv::IMREAD_COLOR);
    if (frame.empty()) return std::cerr << "attendance-eval: cannot read " << name << ".jpg\n", 2;
    const auto t0 = std::chrono::steady_clock::now();
    auto boxes = detector->detect(frame);
    const auto t1 = std::chrono::steady_clock::now();
    if (!boxes) return std::cerr << "attendance-eval: " << boxes.error().message << "\n", 2;
    att::EvalImage im{name, std::move(*truth), std::move(*boxes),
                      std::chrono::duration<double, std::milli>(t1 - t0).count()};
    if (!as_json) {
      std::printf("%-16s truth %3zu  predicted %3zu  %6.1f ms\n", name.c_str(), im.truth.size(),
                  im.predicted.size(), im.ms);
    }
    if (!annotated_dir.empty()) save_annotated(annotated_dir, im, frame);
    results.push_back(std::move(im));
  }

  const att::EvalSummary s = att::summarize(results);
  if (as_json) {
    nlohmann::json j = {{"images", s.images},           {"truth_total", s.truth_total},
                        {"pred_total", s.pred_total},   {"mae", s.mae},
                        {"count_accuracy", s.count_accuracy}, {"within_10pct", s.within_10pct},
                        {"precision", s.precision},     {"recall", s.recall},
                        {"ms_median", s.ms_median},     {"detector", detector->name()}};
    std::cout << j.dump() << std::endl;
  } else {
    std::printf(
        "\ndetector %s: %d images, truth %ld, predicted %ld, MAE %.2f, count accuracy %.3f, "
        "within 10%% %.3f, precision %.3f, recall %.3f, median %.1f ms/image\n",
        detector->name().c_str(), s.images, s.truth_total, s.pred_total, s.mae, s.count_accuracy,
        s.within_10pct, s.precision, s.recall, s.ms_median);
  }
  return 0;
}
