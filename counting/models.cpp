#include "counting/models.h"

#include <cstdlib>

#include "common/sha256.h"

namespace att {

const ModelSpec& yunet_2022mar() {
  static const ModelSpec spec{
      "face_detection_yunet_2022mar.onnx",
      "50ef07f702a31741ca46a4c0d947773b64143b9362780237bf0d427d6c79bab7",
      "https://github.com/opencv/opencv_zoo/raw/main/models/face_detection_yunet/"
      "face_detection_yunet_2022mar.onnx"};
  return spec;
}

const ModelSpec& lffd_head_v1() {
  static const ModelSpec spec{
      "lffd_head_v1.onnx", "37923d329c432c9fd4136ee9e558ce6fcb9ab867cb60c866ccc9eb8d6599d51f", ""};
  return spec;
}

const ModelSpec& yolox_nano() {
  static const ModelSpec spec{"yolox_nano.onnx",
                              "695e750a5d5754bb5a8d5325643b59282191a7e7a564e435a415fd3c578eab14",
                              "https://github.com/Kazuhito00/YOLOX-ONNX-TFLite-Sample/raw/"
                              "0f785c070ce8da070aeaeef46c0da7904ff7012e/model/yolox_nano.onnx"};
  return spec;
}

const ModelSpec& rfb_640() {
  static const ModelSpec spec{
      "version-RFB-640.onnx", "8f4c659275977e7a3bfbfa339a9c769ad793df50f9c0baa8c14b11baa1646430",
      "https://github.com/Linzaer/Ultra-Light-Fast-Generic-Face-Detector-1MB/raw/"
      "dffdddda9794a50607cba8f318507a28c1c27cab/models/onnx/version-RFB-640.onnx"};
  return spec;
}

std::vector<std::filesystem::path> model_search_dirs(const std::filesystem::path& configured,
                                                     bool defaults) {
  std::vector<std::filesystem::path> dirs;
  if (!configured.empty()) dirs.push_back(configured);
  if (!defaults) return dirs;
  if (const char* env = std::getenv("ATTENDANCE_MODEL_DIR"); env && *env) dirs.emplace_back(env);
  const std::filesystem::path source(ATTENDANCE_SOURCE_DIR);
  dirs.push_back((source / ".." / "shared" / "models").lexically_normal());
  dirs.push_back(source / "models");
  return dirs;
}

ModelSearch find_model(const ModelSpec& spec, const std::vector<std::filesystem::path>& dirs) {
  ModelSearch result;
  for (const auto& dir : dirs) {
    const auto candidate = dir / spec.file;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(candidate, ec)) {
      result.notes.push_back("not in " + dir.string());
      continue;
    }
    auto digest = sha256_file_hex(candidate);
    if (!digest) {
      result.notes.push_back(digest.error().message);
    } else if (*digest != spec.sha256) {
      result.notes.push_back(candidate.string() + " has sha256 " + *digest + ", expected " +
                             spec.sha256 + " (ignored)");
    } else {
      result.path = candidate;
      return result;
    }
  }
  return result;
}

}  // namespace att
