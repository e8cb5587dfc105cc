#include "counting/detector.h"

#include <algorithm>
#include <cassert>
#include <cmath>
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

int round_up_32(int v) {
  return (v + 31) / 32 * 32;
}

class YoloxPersonDetector final : public Detector {
 public:
  YoloxPersonDetector(cv::dnn::Net net, const YoloxOptions& o) : net_(std::move(net)), o_(o) {}
  std::string name() const override { return "yolox-person"; }

  Result<std::vector<Box>> detect(const cv::Mat& bgr) override {
    if (auto ok = check_input(bgr); !ok) return std::unexpected(ok.error());
    static constexpr int kStrides[] = {8, 16, 32};
    try {
      // Letterbox (MODELS.md): aspect kept, top left of a canvas of 114 whose sides are
      // multiples of 32; BGR 0..255, no normalisation.
      const int frame_long = std::max(bgr.cols, bgr.rows);
      const int target = round_up_32(o_.input_long_side > 0 ? o_.input_long_side : frame_long);
      const double ratio = double(target) / frame_long;
      const cv::Size resized(std::max(1, int(std::lround(bgr.cols * ratio))),
                             std::max(1, int(std::lround(bgr.rows * ratio))));
      canvas_.create(round_up_32(resized.height), round_up_32(resized.width), CV_8UC3);
      canvas_.setTo(cv::Scalar(114, 114, 114));
      cv::resize(bgr, canvas_(cv::Rect({0, 0}, resized)), resized, 0, 0, cv::INTER_LINEAR);
      net_.setInput(cv::dnn::blobFromImage(canvas_));
      const cv::Mat out = net_.forward();  // [1, N, 85]: dx dy dw dh obj, 80 class probabilities
      size_t rows = 0;
      for (int s : kStrides) rows += size_t(canvas_.cols / s) * size_t(canvas_.rows / s);
      if (out.dims != 3 || size_t(out.size[1]) != rows || out.size[2] != 85) {
        return fail("YOLOX output is not [1, " + std::to_string(rows) + ", 85]");
      }
      std::vector<Box> boxes;
      const float* row = out.ptr<float>();
      for (int s : kStrides) {
        for (int gy = 0; gy < canvas_.rows / s; ++gy) {
          for (int gx = 0; gx < canvas_.cols / s; ++gx, row += 85) {
            const float score = row[4] * row[5];  // objectness x person
            if (score < o_.score) continue;
            const float cx = (row[0] + gx) * s, cy = (row[1] + gy) * s;
            const float w = std::exp(row[2]) * s, h = std::exp(row[3]) * s;
            const auto r = static_cast<float>(ratio);
            boxes.push_back(Box{(cx - w / 2) / r, (cy - h / 2) / r, w / r, h / r, score});
          }
        }
      }
      boxes = suppress(boxes, o_.nms);
      if (o_.heads) {
        for (Box& b : boxes) b = head_of(b);
      }
      return boxes;
    } catch (const cv::Exception& e) {
      return fail(std::string("YOLOX failed: ") + e.what());
    }
  }

 private:
  // The head a person box implies: top centre, about 0.4 of the shoulders' width (a seated
  // person is often only head and shoulders above the desk, so never over half the height).
  static Box head_of(const Box& person) {
    const float side = std::min(person.w * 0.4f, person.h * 0.5f);
    return Box{person.x + (person.w - side) / 2, person.y, side, side, person.score};
  }

  cv::dnn::Net net_;
  YoloxOptions o_;
  cv::Mat canvas_;
};

class RfbFaceDetector final : public Detector {
 public:
  RfbFaceDetector(cv::dnn::Net net, float score, float nms)
      : net_(std::move(net)), score_(score), nms_(nms) {}
  std::string name() const override { return "rfb"; }

  Result<std::vector<Box>> detect(const cv::Mat& bgr) override {
    if (auto ok = check_input(bgr); !ok) return std::unexpected(ok.error());
    try {
      // Native-size tiles of 640x480 (fewer pixels where the frame is smaller), overlapping
      // by at least a tenth, each resized to the model's fixed input; merged by NMS.
      const int tw = std::min(bgr.cols, kWidth), th = std::min(bgr.rows, kHeight);
      const int nx = tiles(bgr.cols, tw), ny = tiles(bgr.rows, th);
      std::vector<Box> boxes;
      for (int iy = 0; iy < ny; ++iy) {
        for (int ix = 0; ix < nx; ++ix) {
          const int x = nx > 1 ? ix * (bgr.cols - tw) / (nx - 1) : 0;
          const int y = ny > 1 ? iy * (bgr.rows - th) / (ny - 1) : 0;
          if (auto ok = detect_tile(bgr(cv::Rect(x, y, tw, th)), x, y, boxes); !ok)
            return std::unexpected(ok.error());
        }
      }
      return suppress(boxes, nms_);
    } catch (const cv::Exception& e) {
      return fail(std::string("RFB failed: ") + e.what());
    }
  }

 private:
  static constexpr int kWidth = 640, kHeight = 480;

  // Tiles of `tile` pixels that cover `length` with overlaps of at least a tenth of a tile.
  static int tiles(int length, int tile) {
    if (length <= tile) return 1;
    const int step = tile - tile / 10;
    return 1 + (length - tile + step - 1) / step;
  }

  // Faces of one tile at (x, y), appended to `out` in frame pixels.
  Status detect_tile(const cv::Mat& tile, int x, int y, std::vector<Box>& out) {
    // Fixed 640x480, RGB, (x - 127) / 128 (MODELS.md).
    net_.setInput(cv::dnn::blobFromImage(tile, 1 / 128.0, cv::Size(kWidth, kHeight),
                                         cv::Scalar(127, 127, 127), true, false));
    std::vector<cv::Mat> outputs;
    net_.forward(outputs, net_.getUnconnectedOutLayersNames());
    // scores [1, N, 2] (background, face) and boxes [1, N, 4] (x1 y1 x2 y2 in 0..1).
    const cv::Mat* scores = nullptr;
    const cv::Mat* corners = nullptr;
    for (const auto& m : outputs) {
      if (m.dims == 3 && m.size[2] == 2) scores = &m;
      if (m.dims == 3 && m.size[2] == 4) corners = &m;
    }
    if (!scores || !corners || scores->size[1] != corners->size[1]) {
      return fail("RFB outputs are not scores [1,N,2] and boxes [1,N,4]");
    }
    const float* s = scores->ptr<float>();
    const float* b = corners->ptr<float>();
    const auto w = static_cast<float>(tile.cols), h = static_cast<float>(tile.rows);
    for (int i = 0; i < scores->size[1]; ++i, s += 2, b += 4) {
      if (s[1] < score_) continue;
      const float x1 = b[0] * w, y1 = b[1] * h, x2 = b[2] * w, y2 = b[3] * h;
      if (x2 > x1 && y2 > y1) out.push_back(Box{x + x1, y + y1, x2 - x1, y2 - y1, s[1]});
    }
    return {};
  }

 private:
  cv::dnn::Net net_;
  float score_, nms_;
};

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

class ConfirmedDetector final : public Detector {
 public:
  ConfirmedDetector(std::unique_ptr<Detector> base, std::unique_ptr<Detector> confirmer,
                    const ConfirmOptions& o, std::string suffix)
      : base_(std::move(base)),
        confirmer_(std::move(confirmer)),
        o_(o),
        name_(base_->name() + "+" + suffix) {}
  std::string name() const override { return name_; }

  Result<std::vector<Box>> detect(const cv::Mat& bgr) override {
    auto found = base_->detect(bgr);
    if (!found || found->empty() || std::ssize(*found) > o_.max_count) return found;
    auto confirmers = confirmer_->detect(bgr);
    if (!confirmers) return confirmers;
    return keep_confirmed(*found, *confirmers, o_.by);
  }

 private:
  std::unique_ptr<Detector> base_, confirmer_;
  ConfirmOptions o_;
  std::string name_;
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

const std::vector<std::string>& eval_only_detector_names() {
  static const std::vector<std::string> names = {"yolox-person", "rfb", "fused+yolox", "fused+rfb"};
  return names;
}

std::vector<Box> keep_confirmed(const std::vector<Box>& found, const std::vector<Box>& confirmers,
                                ConfirmBy by) {
  const auto backs = [by](const Box& c, const Box& f) {
    if (by == ConfirmBy::kPerson) {
      // The head (or face) is in the top half of the person box, widened by a tenth, and no
      // wider than the person.
      const float cx = f.x + f.w / 2, cy = f.y + f.h / 2;
      return f.w <= c.w && cx >= c.x - 0.1f * c.w && cx <= c.x + 1.1f * c.w &&
             cy >= c.y - 0.1f * c.h && cy <= c.y + 0.5f * c.h;
    }
    const float ix = std::max(0.0f, std::min(c.x + c.w, f.x + f.w) - std::max(c.x, f.x));
    const float iy = std::max(0.0f, std::min(c.y + c.h, f.y + f.h) - std::max(c.y, f.y));
    const float inter = ix * iy, uni = c.w * c.h + f.w * f.h - inter;
    return (uni > 0 && inter / uni >= 0.3f) || centre_inside(f, c, 0) || centre_inside(c, f, 0);
  };
  std::vector<Box> kept;
  for (const Box& f : found) {
    if (std::ranges::any_of(confirmers, [&](const Box& c) { return backs(c, f); }))
      kept.push_back(f);
  }
  return kept;
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

Result<std::unique_ptr<Detector>> make_yolox_person_detector(const std::filesystem::path& model,
                                                             const YoloxOptions& options) {
  try {
    auto net = cv::dnn::readNet(model.string());
    if (net.empty()) return fail("cannot load YOLOX from " + model.string());
    return std::make_unique<YoloxPersonDetector>(std::move(net), options);
  } catch (const cv::Exception& e) {
    return fail("cannot load YOLOX from " + model.string() + ": " + e.what());
  }
}

Result<std::unique_ptr<Detector>> make_rfb_face_detector(const std::filesystem::path& model,
                                                         float score, float nms) {
  try {
    auto net = cv::dnn::readNet(model.string());
    if (net.empty()) return fail("cannot load RFB from " + model.string());
    return std::make_unique<RfbFaceDetector>(std::move(net), score, nms);
  } catch (const cv::Exception& e) {
    return fail("cannot load RFB from " + model.string() + ": " + e.what());
  }
}

std::unique_ptr<Detector> make_confirmed_detector(std::unique_ptr<Detector> base,
                                                  std::unique_ptr<Detector> confirmer,
                                                  const ConfirmOptions& options,
                                                  const std::string& suffix) {
  return std::make_unique<ConfirmedDetector>(std::move(base), std::move(confirmer), options,
                                             suffix);
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

// The person or face confirmer of fused+yolox and fused+rfb, and the standalone detectors of
// one model (lffd-head, yolox-person, rfb): the spec of its model and how to build it.
struct OneModel {
  const ModelSpec* spec;
  std::function<Result<std::unique_ptr<Detector>>(const std::filesystem::path&)> make;
};

std::optional<OneModel> one_model(const std::string& name, float score, float nms) {
  if (name == "lffd-head") {
    return OneModel{&lffd_head_v1(), [=](const std::filesystem::path& model) {
                      return make_lffd_head_detector(model, score, nms);
                    }};
  }
  if (name == "yolox-person" || name == "yolox") {
    YoloxOptions options;
    options.score = score;
    options.heads = name == "yolox-person";  // the confirmer weighs whole people
    return OneModel{&yolox_nano(), [=](const std::filesystem::path& model) {
                      return make_yolox_person_detector(model, options);
                    }};
  }
  if (name == "rfb") {
    return OneModel{&rfb_640(), [=](const std::filesystem::path& model) {
                      return make_rfb_face_detector(model, score, nms);
                    }};
  }
  return std::nullopt;
}

// The measured default score of each one-model detector, alone and as a confirmer.
double default_score(const std::string& name) {
  if (name == "yolox-person" || name == "yolox") return 0.3;
  if (name == "rfb") return 0.6;
  return 0.5;
}

Result<DetectorChoice> one_model_choice(const DetectorConfig& config,
                                        const std::vector<std::filesystem::path>& model_dirs) {
  const auto one = one_model(config.name, score_or(config, default_score(config.name)),
                             static_cast<float>(config.nms_threshold));
  assert(one);
  const auto search = find_model(*one->spec, model_dirs);
  if (!search.path) return fail(config.name + ": " + not_found(*one->spec, search));
  const auto model = *search.path;
  DetectorChoice choice{config.name,
                        model.string(),
                        false,
                        "",
                        [make = one->make, model] { return make(model); },
                        {one->spec->sha256}};
  if (auto probe = choice.make(); !probe) return std::unexpected(probe.error());
  return choice;
}

// fused+yolox and fused+rfb: fused with all its models, and the confirmer's. No fallback:
// these are measured, never counted with under another name.
Result<DetectorChoice> confirmed_choice(const DetectorConfig& config,
                                        const std::vector<std::filesystem::path>& model_dirs) {
  const std::string suffix = config.name.substr(config.name.find('+') + 1);
  const double score = config.confirm_score > 0 ? config.confirm_score : default_score(suffix);
  const auto one = one_model(suffix, static_cast<float>(score), 0.3f);
  assert(one);
  const auto search = find_model(*one->spec, model_dirs);
  if (!search.path) return fail(config.name + ": " + not_found(*one->spec, search));
  DetectorConfig base_config = config;
  base_config.name = "fused";
  auto base = yunet_family(base_config, model_dirs);
  if (!base) return base;
  if (base->name != "fused") return fail(config.name + ": " + base->message);
  ConfirmOptions options;
  options.by = suffix == "rfb" ? ConfirmBy::kFace : ConfirmBy::kPerson;
  if (config.confirm_max_count > 0) options.max_count = config.confirm_max_count;
  DetectorChoice choice = std::move(*base);
  choice.name = config.name;
  choice.model_path += ", " + search.path->string();
  choice.model_sha256.push_back(one->spec->sha256);
  choice.make = [make_base = choice.make, make = one->make, model = *search.path, options,
                 suffix]() -> Result<std::unique_ptr<Detector>> {
    auto fused = make_base();
    if (!fused) return fused;
    auto confirmer = make(model);
    if (!confirmer) return confirmer;
    return make_confirmed_detector(std::move(*fused), std::move(*confirmer), options, suffix);
  };
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
  if (config.name == "lffd-head" || config.name == "yolox-person" || config.name == "rfb")
    return one_model_choice(config, model_dirs);
  if (config.name.starts_with("fused+")) return confirmed_choice(config, model_dirs);

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
