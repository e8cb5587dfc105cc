#include "counting/detector.h"

#include <algorithm>
#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>
#include <optional>

#include "common/log.h"
#include "counting/models.h"

namespace att {
namespace {

Status check_input(const cv::Mat& bgr) {
  if (bgr.empty() || bgr.type() != CV_8UC3) return fail("detector input must be a BGR image");
  return {};
}

// Greedy non-maximum suppression by IoU, best score first.
std::vector<Box> suppress(const std::vector<Box>& boxes, float iou) {
  std::vector<cv::Rect2d> rects;
  std::vector<float> scores;
  for (const auto& b : boxes) {
    rects.emplace_back(b.x, b.y, b.w, b.h);
    scores.push_back(b.score);
  }
  std::vector<int> keep;
  cv::dnn::NMSBoxes(rects, scores, 0.0f, iou, keep);
  std::vector<Box> out;
  out.reserve(keep.size());
  for (int i : keep) out.push_back(boxes[static_cast<size_t>(i)]);
  return out;
}

// One cv::FaceDetectorYN per input size, so alternating sizes never regenerate priors.
class YuNetNet {
 public:
  YuNetNet(const std::filesystem::path& model, const YuNetOptions& o)
      : net_(cv::FaceDetectorYN::create(model.string(), "", cv::Size(320, 320), o.score, o.nms,
                                        5000)) {}
  explicit operator bool() const { return !net_.empty(); }

  // Faces in `image`, scaled by 1/scale and shifted by `offset` into frame pixels.
  void detect(const cv::Mat& image, float scale, std::vector<Box>& out) {
    if (image.size() != size_) {
      net_->setInputSize(image.size());
      size_ = image.size();
    }
    cv::Mat faces;
    net_->detect(image, faces);
    for (int r = 0; r < faces.rows; ++r) {
      const float* f = faces.ptr<float>(r);  // x, y, w, h, 5 landmarks (10), score
      out.push_back(Box{f[0] / scale, f[1] / scale, f[2] / scale, f[3] / scale, f[14]});
    }
  }

 private:
  cv::Ptr<cv::FaceDetectorYN> net_;
  cv::Size size_;
};

class YuNetDetector final : public Detector {
 public:
  YuNetDetector(const std::filesystem::path& model, const YuNetOptions& o)
      : options_(o), native_(model, o), far_(model, o) {}
  bool loaded() const { return bool(native_) && bool(far_); }
  std::string name() const override {
    return options_.far_rows_fraction > 0 ? "yunet-tiled" : "yunet";
  }

  Result<std::vector<Box>> detect(const cv::Mat& bgr) override {
    if (auto ok = check_input(bgr); !ok) return std::unexpected(ok.error());
    try {
      std::vector<Box> boxes;
      native_.detect(bgr, 1.0f, boxes);
      if (options_.far_rows_fraction <= 0) return boxes;
      // The far rows, upscaled, with a margin so that a face on the edge is seen whole; only
      // faces centred inside the strip proper are kept from it.
      const int edge = static_cast<int>(options_.far_rows_fraction * bgr.rows);
      const int margin = bgr.rows / 20;
      const cv::Mat strip = bgr.rowRange(0, std::min(bgr.rows, edge + margin));
      cv::resize(strip, upscaled_, cv::Size(), options_.far_rows_scale, options_.far_rows_scale,
                 cv::INTER_LINEAR);
      std::vector<Box> far;
      far_.detect(upscaled_, options_.far_rows_scale, far);
      for (const auto& b : far) {
        if (b.y + b.h / 2 < edge) boxes.push_back(b);
      }
      return suppress(boxes, options_.nms);
    } catch (const cv::Exception& e) {
      return fail(std::string("YuNet failed: ") + e.what());
    }
  }

 private:
  YuNetOptions options_;
  YuNetNet native_, far_;
  cv::Mat upscaled_;
};

class LffdHeadDetector final : public Detector {
 public:
  LffdHeadDetector(cv::dnn::Net net, float score, float nms)
      : net_(std::move(net)), score_(score), nms_(nms) {}
  std::string name() const override { return "lffd-head"; }

  Result<std::vector<Box>> detect(const cv::Mat& bgr) override {
    if (auto ok = check_input(bgr); !ok) return std::unexpected(ok.error());
    // Four branches for heads of 10-20, 20-40, 40-80 and 80-160 px (MODELS.md).
    static constexpr int kStride[] = {4, 8, 16, 32};
    static constexpr int kStart[] = {3, 7, 15, 31};
    static constexpr float kHalfField[] = {10, 20, 40, 80};
    static const std::vector<std::string> kOutputs = {"score_0", "score_1", "score_2", "score_3",
                                                      "bbox_0",  "bbox_1",  "bbox_2",  "bbox_3"};
    try {
      net_.setInput(cv::dnn::blobFromImage(bgr));  // BGR 0..255; the graph normalises
      std::vector<cv::Mat> out;
      net_.forward(out, kOutputs);
      std::vector<Box> boxes;
      for (int i = 0; i < 4; ++i) {
        const cv::Mat& score = out[static_cast<size_t>(i)];
        const cv::Mat& bbox = out[static_cast<size_t>(i) + 4];
        const int rows = score.size[2], cols = score.size[3];
        const float* s = score.ptr<float>();
        const float* b = bbox.ptr<float>();
        const size_t plane = static_cast<size_t>(rows) * static_cast<size_t>(cols);
        for (int y = 0; y < rows; ++y) {
          for (int x = 0; x < cols; ++x) {
            const size_t at =
                static_cast<size_t>(y) * static_cast<size_t>(cols) + static_cast<size_t>(x);
            if (s[at] < score_) continue;
            const float cx = kStart[i] + kStride[i] * x, cy = kStart[i] + kStride[i] * y;
            const float x1 = cx - b[at] * kHalfField[i], y1 = cy - b[plane + at] * kHalfField[i];
            const float x2 = cx - b[2 * plane + at] * kHalfField[i];
            const float y2 = cy - b[3 * plane + at] * kHalfField[i];
            if (x2 > x1 && y2 > y1) boxes.push_back(Box{x1, y1, x2 - x1, y2 - y1, s[at]});
          }
        }
      }
      return suppress(boxes, nms_);
    } catch (const cv::Exception& e) {
      return fail(std::string("LFFD failed: ") + e.what());
    }
  }

 private:
  cv::dnn::Net net_;
  float score_, nms_;
};

bool centre_inside(const Box& inner, const Box& outer, float margin) {
  const float cx = inner.x + inner.w / 2, cy = inner.y + inner.h / 2;
  return cx >= outer.x - margin * outer.w && cx <= outer.x + (1 + margin) * outer.w &&
         cy >= outer.y - margin * outer.h && cy <= outer.y + (1 + margin) * outer.h;
}

class FusedDetector final : public Detector {
 public:
  FusedDetector(std::unique_ptr<Detector> faces, std::unique_ptr<Detector> heads,
                const FusedOptions& o)
      : faces_(std::move(faces)), heads_(std::move(heads)), o_(o) {}
  std::string name() const override { return "fused"; }

  Result<std::vector<Box>> detect(const cv::Mat& bgr) override {
    frame_heads_.reset();
    auto faces = faces_->detect(bgr);
    if (!faces) return faces;
    const auto confident =
        std::ranges::count_if(*faces, [&](const Box& b) { return b.score >= o_.crowd_face_score; });
    std::vector<Box> out;
    if (confident >= o_.crowd_min_faces) {
      // A full room: faces support each other, and a low threshold finds the back rows.
      for (const auto& f : *faces) {
        if (f.score >= o_.crowd_score) out.push_back(f);
      }
      return out;
    }
    // A sparse room: chair backs and posters are most of what fires, so a face needs a head
    // around it, unless it is very confident. (Running the head detector only on patches
    // around doubtful faces was tried: 30 % cheaper at 720p, count accuracy 0.697 instead of
    // 0.722.)
    for (const auto& f : *faces) {
      if (f.score < o_.sparse_score) continue;
      if (f.score >= o_.sparse_strong) {
        out.push_back(f);
        continue;
      }
      auto confirmed = head_in(bgr, f);
      if (!confirmed) return std::unexpected(confirmed.error());
      if (*confirmed) out.push_back(f);
    }
    return out;
  }

 private:
  // Whether a head of this frame (found once per frame, when first needed) is around `face`.
  Result<bool> head_in(const cv::Mat& bgr, const Box& face) {
    if (!frame_heads_) {
      auto heads = heads_->detect(bgr);
      if (!heads) return std::unexpected(heads.error());
      frame_heads_ = std::move(*heads);
    }
    return std::ranges::any_of(*frame_heads_, [&](const Box& h) {
      return h.score >= o_.head_score && centre_inside(face, h, 0.15f);
    });
  }

  std::unique_ptr<Detector> faces_, heads_;
  FusedOptions o_;
  std::optional<std::vector<Box>> frame_heads_;  // this frame's heads, once found
};

class HaarDetector final : public Detector {
 public:
  explicit HaarDetector(cv::CascadeClassifier cascade) : cascade_(std::move(cascade)) {}
  std::string name() const override { return "haar"; }

  Result<std::vector<Box>> detect(const cv::Mat& bgr) override {
    if (auto ok = check_input(bgr); !ok) return std::unexpected(ok.error());
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

class HogPeopleDetector final : public Detector {
 public:
  HogPeopleDetector() { hog_.setSVMDetector(cv::HOGDescriptor::getDefaultPeopleDetector()); }
  std::string name() const override { return "hog"; }

  Result<std::vector<Box>> detect(const cv::Mat& bgr) override {
    if (auto ok = check_input(bgr); !ok) return std::unexpected(ok.error());
    std::vector<cv::Rect> people;
    std::vector<double> weights;
    // The usual tutorial settings.
    hog_.detectMultiScale(bgr, people, weights, 0, cv::Size(8, 8), cv::Size(), 1.05, 2);
    std::vector<Box> boxes;
    for (size_t i = 0; i < people.size(); ++i) {
      const auto& r = people[i];  // the 64x128 window has the head in its top centre
      const float side = r.width * 0.3f;
      const float score = static_cast<float>(std::clamp(weights[i], 0.0, 1.0));
      boxes.push_back(Box{r.x + (r.width - side) / 2, r.y + r.height * 0.08f, side, side, score});
    }
    return boxes;
  }

 private:
  cv::HOGDescriptor hog_;
};

}  // namespace

const std::vector<std::string>& detector_names() {
  static const std::vector<std::string> names = {"fused",     "yunet-tiled", "yunet",
                                                 "lffd-head", "haar",        "hog"};
  return names;
}

Result<std::unique_ptr<Detector>> make_yunet_detector(const std::filesystem::path& model,
                                                      const YuNetOptions& options) {
  try {
    auto d = std::make_unique<YuNetDetector>(model, options);
    if (!d->loaded()) return fail("cannot load YuNet from " + model.string());
    return d;
  } catch (const cv::Exception& e) {
    return fail("cannot load YuNet from " + model.string() + ": " + e.what());
  }
}

Result<std::unique_ptr<Detector>> make_lffd_head_detector(const std::filesystem::path& model,
                                                          float score, float nms) {
  try {
    auto net = cv::dnn::readNet(model.string());
    if (net.empty()) return fail("cannot load LFFD from " + model.string());
    return std::make_unique<LffdHeadDetector>(std::move(net), score, nms);
  } catch (const cv::Exception& e) {
    return fail("cannot load LFFD from " + model.string() + ": " + e.what());
  }
}

std::unique_ptr<Detector> make_fused_detector(std::unique_ptr<Detector> faces,
                                              std::unique_ptr<Detector> heads,
                                              const FusedOptions& options) {
  return std::make_unique<FusedDetector>(std::move(faces), std::move(heads), options);
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

std::unique_ptr<Detector> make_hog_people_detector() {
  return std::make_unique<HogPeopleDetector>();
}

namespace {

std::string not_found(const ModelSpec& spec, const ModelSearch& search) {
  std::string why = "model " + spec.file + " not found with the right sha256 (";
  for (size_t i = 0; i < search.notes.size(); ++i) why += (i ? "; " : "") + search.notes[i];
  return why + ")";
}

float score_or(const DetectorConfig& config, double fallback) {
  return static_cast<float>(config.score_threshold > 0 ? config.score_threshold : fallback);
}

// yunet, yunet-tiled and fused; fused without the LFFD model becomes yunet-tiled, and says so.
// Fails (with the reason) when YuNet cannot be had.
Result<DetectorChoice> yunet_family(const DetectorConfig& config,
                                    const std::vector<std::filesystem::path>& model_dirs) {
  const auto yunet = find_model(yunet_2022mar(), model_dirs);
  if (!yunet.path) {
    return fail("YuNet " + not_found(yunet_2022mar(), yunet) +
                "; run scripts/models.sh or set ATTENDANCE_MODEL_DIR");
  }
  const auto model = *yunet.path;
  const auto heads = find_model(lffd_head_v1(), model_dirs);
  DetectorChoice choice{config.name, model.string(), false, "", {}, {yunet_2022mar().sha256}};
  YuNetOptions options{score_or(config, 0.5), static_cast<float>(config.nms_threshold), 0,
                       static_cast<float>(config.far_rows_scale)};
  if (config.name != "yunet")
    options.far_rows_fraction = static_cast<float>(config.far_rows_fraction);

  if (config.name == "fused" && heads.path) {
    const auto head_model = *heads.path;
    const FusedOptions fused;
    options.score = fused.sparse_score;  // the faces it weighs go down to this score
    choice.model_path += ", " + head_model.string();
    choice.model_sha256.push_back(lffd_head_v1().sha256);
    choice.make = [=]() -> Result<std::unique_ptr<Detector>> {
      auto faces = make_yunet_detector(model, options);
      if (!faces) return faces;
      auto lffd = make_lffd_head_detector(head_model, fused.head_score, 0.3f);
      if (!lffd) return lffd;
      return make_fused_detector(std::move(*faces), std::move(*lffd), fused);
    };
  } else {
    if (config.name == "fused") {
      choice.name = "yunet-tiled";
      choice.message = "fused counting needs the LFFD head model (" +
                       not_found(lffd_head_v1(), heads) + "); counting with yunet-tiled";
      log::get("detector")->warn("{}", choice.message);
    }
    choice.make = [=] { return make_yunet_detector(model, options); };
  }
  if (auto probe = choice.make(); !probe) return std::unexpected(probe.error());
  return choice;
}

Result<DetectorChoice> lffd_choice(const DetectorConfig& config,
                                   const std::vector<std::filesystem::path>& model_dirs) {
  const auto search = find_model(lffd_head_v1(), model_dirs);
  if (!search.path) return fail("lffd-head: " + not_found(lffd_head_v1(), search));
  const auto model = *search.path;
  const float score = score_or(config, 0.5), nms = static_cast<float>(config.nms_threshold);
  DetectorChoice choice{"lffd-head",
                        model.string(),
                        false,
                        "",
                        [=] { return make_lffd_head_detector(model, score, nms); },
                        {lffd_head_v1().sha256}};
  if (auto probe = choice.make(); !probe) return std::unexpected(probe.error());
  return choice;
}

}  // namespace

Result<DetectorChoice> choose_detector(const DetectorConfig& config,
                                       const std::vector<std::filesystem::path>& model_dirs) {
  auto log = log::get("detector");
  if (config.name == "hog") {
    DetectorChoice choice{
        "hog", "", true, "configured to count with the HOG people baseline: COUNTS ARE DEGRADED.",
        []() -> Result<std::unique_ptr<Detector>> { return make_hog_people_detector(); }};
    log->error("{}", choice.message);
    return choice;
  }
  if (config.name == "lffd-head") return lffd_choice(config, model_dirs);

  std::string why = "configured to use the Haar baseline (detector.name: haar)";
  if (config.name != "haar") {
    auto choice = yunet_family(config, model_dirs);
    if (choice) {
      log->info("counting with {} from {} (sha256 verified)", choice->name, choice->model_path);
      return choice;
    }
    why = choice.error().message;
  }

  auto probe = make_haar_detector(config.haar_cascade);
  if (!probe) return fail(why + "; and the fallback failed too: " + probe.error().message);
  DetectorChoice choice{"haar", config.haar_cascade.string(), true,
                        why + ". Counting with the Haar cascade: COUNTS ARE DEGRADED.",
                        [cascade = config.haar_cascade] { return make_haar_detector(cascade); }};
  log->error("{}", choice.message);
  return choice;
}

}  // namespace att
