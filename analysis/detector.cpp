#include "analysis/detector.h"

#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>

#include "analysis/models.h"
#include "common/log.h"

namespace att {
namespace {

class YuNetDetector final : public Detector {
 public:
  explicit YuNetDetector(cv::Ptr<cv::FaceDetectorYN> net) : net_(std::move(net)) {}
  std::string name() const override { return "yunet"; }

  Result<std::vector<Box>> detect(const cv::Mat& bgr) override {
    if (bgr.empty() || bgr.type() != CV_8UC3) return fail("detector input must be a BGR image");
    try {
      if (bgr.size() != input_size_) {  // re-generates the priors; only on a size change
        net_->setInputSize(bgr.size());
        input_size_ = bgr.size();
      }
      cv::Mat faces;
      net_->detect(bgr, faces);
      std::vector<Box> boxes;
      boxes.reserve(static_cast<size_t>(faces.rows));
      for (int r = 0; r < faces.rows; ++r) {
        const float* f = faces.ptr<float>(r);  // x, y, w, h, 5 landmarks (10), score
        boxes.push_back(Box{f[0], f[1], f[2], f[3], f[14]});
      }
      return boxes;
    } catch (const cv::Exception& e) {
      return fail(std::string("YuNet failed: ") + e.what());
    }
  }

 private:
  cv::Ptr<cv::FaceDetectorYN> net_;
  cv::Size input_size_;
};

class HaarDetector final : public Detector {
 public:
  explicit HaarDetector(cv::CascadeClassifier cascade) : cascade_(std::move(cascade)) {}
  std::string name() const override { return "haar"; }

  Result<std::vector<Box>> detect(const cv::Mat& bgr) override {
    if (bgr.empty() || bgr.type() != CV_8UC3) return fail("detector input must be a BGR image");
    cv::Mat gray;
    cv::cvtColor(bgr, gray, cv::COLOR_BGR2GRAY);
    cv::equalizeHist(gray, gray);
    std::vector<cv::Rect> faces;
    // The usual tutorial settings.
    cascade_.detectMultiScale(gray, faces, 1.1, 3, 0, cv::Size(12, 12));
    std::vector<Box> boxes;
    for (const auto& r : faces) {
      boxes.push_back(Box{float(r.x), float(r.y), float(r.width), float(r.height), 1.0f});
    }
    return boxes;
  }

 private:
  cv::CascadeClassifier cascade_;
};

}  // namespace

Result<std::unique_ptr<Detector>> make_yunet_detector(const std::filesystem::path& model,
                                                      float score_threshold, float nms_threshold) {
  try {
    auto net = cv::FaceDetectorYN::create(model.string(), "", cv::Size(320, 320), score_threshold,
                                          nms_threshold, 5000);
    if (!net) return fail("cannot load YuNet from " + model.string());
    return std::make_unique<YuNetDetector>(std::move(net));
  } catch (const cv::Exception& e) {
    return fail("cannot load YuNet from " + model.string() + ": " + e.what());
  }
}

Result<std::unique_ptr<Detector>> make_haar_detector(const std::filesystem::path& cascade) {
  cv::CascadeClassifier classifier;
  try {
    if (!classifier.load(cascade.string())) {
      return fail("cannot load the Haar cascade " + cascade.string() +
                  " (Debian package opencv-data)");
    }
  } catch (const cv::Exception& e) {
    return fail("cannot load the Haar cascade " + cascade.string() + ": " + e.what());
  }
  return std::make_unique<HaarDetector>(std::move(classifier));
}

Result<DetectorChoice> choose_detector(const DetectorConfig& config,
                                       const std::vector<std::filesystem::path>& model_dirs) {
  auto log = log::get("detector");
  DetectorChoice choice;
  std::string why;
  if (config.name == "yunet") {
    const auto search = find_model(yunet_2022mar(), model_dirs);
    if (search.path) {
      const auto model = *search.path;
      const auto score = static_cast<float>(config.score_threshold);
      const auto nms = static_cast<float>(config.nms_threshold);
      auto probe = make_yunet_detector(model, score, nms);
      if (probe) {
        choice.name = "yunet";
        choice.model_path = model.string();
        choice.make = [model, score, nms] { return make_yunet_detector(model, score, nms); };
        log->info("counting with YuNet 2022mar from {} (score >= {}, sha256 verified)",
                  model.string(), score);
        return choice;
      }
      why = probe.error().message;
    } else {
      why = "YuNet model " + yunet_2022mar().file + " not found with the right sha256 (";
      for (size_t i = 0; i < search.notes.size(); ++i) why += (i ? "; " : "") + search.notes[i];
      why += "); run scripts/models.sh or set ATTENDANCE_MODEL_DIR";
    }
  } else {
    why = "configured to use the Haar baseline (detector.name: haar)";
  }

  auto probe = make_haar_detector(config.haar_cascade);
  if (!probe) return fail(why + "; and the fallback failed too: " + probe.error().message);
  choice.name = "haar";
  choice.model_path = config.haar_cascade.string();
  choice.degraded = true;
  choice.message = why + ". Counting with the Haar cascade: COUNTS ARE DEGRADED.";
  choice.make = [cascade = config.haar_cascade] { return make_haar_detector(cascade); };
  log->error("{}", choice.message);
  return choice;
}

}  // namespace att
