// Face/head detectors behind one interface. A Detector instance is used by one thread at a
// time (OpenCV's DNN nets keep per-call state); run several through DetectorPool.
//
// What each one is, and how it measures on ../shared/data/classroom: docs/counting.md,
// "Accuracy".
//   fused        the main counter: YuNet with far-row tiles, and in sparse rooms a face
//                counts only when confirmed by the LFFD head detector or very confident
//   yunet-tiled  YuNet at native size plus the far rows upscaled
//   yunet        YuNet 2022mar at native size (cv::FaceDetectorYN)
//   lffd-head    LFFD head detector (converted, experimental)
//   yolox-person YOLOX-nano COCO people, each reported as the head box it implies
//   rfb          Ultra-Light RFB-640 faces on native-size 640x480 tiles
//   fused+yolox, fused+rfb
//                fused, and in a room where it counts few people a detection counts only
//                when YOLOX sees a person under it / RFB a face on it
//                (these four for attendance-eval only: eval_only_detector_names())
//   haar, hog    the tutorial baselines, for comparison only
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "common/box.h"
#include "common/error.h"

namespace att {

struct DetectorConfig {
  std::string name = "fused";  // one of detector_names(): fused (main), yunet-tiled, yunet, ...
  // Searched first for the model file; then $ATTENDANCE_MODEL_DIR, ../shared/models beside
  // the source tree, and models/ in the source tree (where scripts/models.sh downloads).
  std::filesystem::path model_dir;
  // false: look only in model_dir (an installation that must not pick up stray files).
  bool search_default_dirs = true;
  std::filesystem::path haar_cascade =
      "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml";
  // Per-frame score for yunet, yunet-tiled and lffd-head; 0 = the measured default of each
  // (0.5). fused uses its own measured thresholds (FusedOptions).
  double score_threshold = 0;
  double nms_threshold = 0.3;      // IoU
  double far_rows_fraction = 0.5;  // top part of the frame also run upscaled (tiled detectors)
  double far_rows_scale = 2.0;
  // fused+yolox, fused+rfb: the confirmer runs when fused counts at most this many (0 = the
  // default of ConfirmOptions), and sees people or faces at this score (0 = its default).
  int confirm_max_count = 0;
  double confirm_score = 0;
  int workers = 0;  // detectors run in parallel; 0 = one per core
};

class Detector {
 public:
  virtual ~Detector() = default;
  virtual std::string name() const = 0;
  // Detections on a BGR frame, in the frame's own pixels.
  virtual Result<std::vector<Box>> detect(const cv::Mat& bgr) = 0;
};

// Every name the service and the node accept (detector.name), main one first.
const std::vector<std::string>& detector_names();

// Detectors measured and kept for attendance-eval only, which choose_detector() also builds:
// each counts worse than fused on the classroom set (docs/counting.md, "Accuracy").
const std::vector<std::string>& eval_only_detector_names();

struct YuNetOptions {
  float score = 0.5f;
  float nms = 0.3f;
  // The top `far_rows_fraction` of the frame is also run upscaled by `far_rows_scale`, where
  // faces in the back rows are 10-20 px; 0 turns tiling off.
  float far_rows_fraction = 0;
  float far_rows_scale = 2;
};

// YuNet 2022mar through cv::FaceDetectorYN at the frame's native size (small faces in the
// back rows are what get lost when downscaling), with optional far-row tiles merged by NMS.
Result<std::unique_ptr<Detector>> make_yunet_detector(const std::filesystem::path& model,
                                                      const YuNetOptions& options);

// LFFD v1 head detector (Brainwash-trained, converted to ONNX; see MODELS.md): sees heads
// bent over desks that a face detector cannot, but is slow and fires on desks.
Result<std::unique_ptr<Detector>> make_lffd_head_detector(const std::filesystem::path& model,
                                                          float score, float nms);

struct FusedOptions {
  int crowd_min_faces = 15;  // this many faces at crowd_face_score make a room "crowded"
  float crowd_face_score = 0.5f;
  float crowd_score = 0.35f;   // crowded: every face at or above this counts
  float sparse_score = 0.3f;   // sparse: a face at or above this counts if a head confirms it
  float sparse_strong = 0.7f;  // sparse: a face at or above this counts alone
  float head_score = 0.3f;     // LFFD head score that can confirm a face
};

// The main counter. `faces` must report scores down to options.sparse_score; `heads` runs
// only in sparse rooms, where false faces on chair backs cost most.
std::unique_ptr<Detector> make_fused_detector(std::unique_ptr<Detector> faces,
                                              std::unique_ptr<Detector> heads,
                                              const FusedOptions& options = {});

struct YoloxOptions {
  float score = 0.3f;  // objectness x person probability
  float nms = 0.45f;   // IoU
  // The frame is letterboxed to this long side (rounded to a multiple of 32, the short side
  // too); 0 = the frame's own long side.
  int input_long_side = 0;
  // true: each person is reported as the head box it implies (top centre of the body), to be
  // scored against head truth; false: the person boxes themselves (for confirmation).
  bool heads = true;
};

// YOLOX-nano (COCO, class 0 person; see MODELS.md for the raw [1,N,85] output it decodes).
// Sees people whose face is turned away, but misses most of a seated crowd.
Result<std::unique_ptr<Detector>> make_yolox_person_detector(const std::filesystem::path& model,
                                                             const YoloxOptions& options);

// Ultra-Light RFB-640 faces. The model takes exactly 640x480, so a larger frame is covered
// by overlapping 640x480 tiles at its native size (resizing the whole frame to 640x480 loses
// the small faces of the back rows: on the classroom set it found a third as many), the
// tiles' faces merged by NMS; a smaller one is resized up.
Result<std::unique_ptr<Detector>> make_rfb_face_detector(const std::filesystem::path& model,
                                                         float score, float nms);

enum class ConfirmBy {
  kPerson,  // a person box whose top part holds the detection's centre
  kFace,    // a face box on the detection: IoU >= 0.3, or either centre inside the other
};

// The detections of `found` (faces or heads) that one of `confirmers` backs, in their order.
std::vector<Box> keep_confirmed(const std::vector<Box>& found, const std::vector<Box>& confirmers,
                                ConfirmBy by);

struct ConfirmOptions {
  ConfirmBy by = ConfirmBy::kPerson;
  int max_count = 5;  // the confirmer runs only when `base` finds at most this many
};

// `base`, and when it finds at most options.max_count people, only those `confirmer` backs
// (keep_confirmed). The name is "<base>+<suffix>".
std::unique_ptr<Detector> make_confirmed_detector(std::unique_ptr<Detector> base,
                                                  std::unique_ptr<Detector> confirmer,
                                                  const ConfirmOptions& options,
                                                  const std::string& suffix);

// OpenCV's Haar frontal-face cascade (opencv-data): the fallback when no model can be had,
// and the baseline a tutorial would pick.
Result<std::unique_ptr<Detector>> make_haar_detector(const std::filesystem::path& cascade);

// OpenCV's HOG + linear SVM people detector (the other tutorial baseline). Each person box
// is reported as the head box it implies (top centre of the body), so that it can be
// scored against head ground truth.
std::unique_ptr<Detector> make_hog_people_detector();

using DetectorFactory = std::function<Result<std::unique_ptr<Detector>>()>;

// What the service counts with, and whether it is the real thing.
struct DetectorChoice {
  std::string name;        // one of detector_names()
  std::string model_path;  // files in use
  bool degraded = false;   // true when counting without YuNet
  std::string message;     // why degraded or reduced, for the log and the dashboard
  DetectorFactory make;    // builds one more detector (one per worker)
  // The sha256 of each model file in use (verified when found); none for the baselines,
  // whose files are not models a service accepts a node's counts from.
  std::vector<std::string> model_sha256 = {};
};

// The configured detector with its model files found by sha256 in `model_dirs` (see
// model_search_dirs()). "fused" without the LFFD model becomes "yunet-tiled" (logged);
// anything without YuNet becomes the Haar cascade, marked degraded with the reason. Fails
// only when not even that can be loaded.
Result<DetectorChoice> choose_detector(const DetectorConfig& config,
                                       const std::vector<std::filesystem::path>& model_dirs);

}  // namespace att
