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
