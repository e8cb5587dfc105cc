// Model files are data, never committed. This finds them and checks they are the bytes
// we measured (sha256), so a truncated download or a different model is never used quietly.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace att {

struct ModelSpec {
  std::string file;    // file name looked for in each directory
  std::string sha256;  // lowercase hex
  std::string url;     // public source, used by scripts/models.sh
};

// YuNet 2022mar (MIT), the main face detector; see ../shared/models/MODELS.md.
const ModelSpec& yunet_2022mar();

// LFFD v1 head detector, converted to ONNX by whoever set up ../shared/models (MIT weights).
// It has no public download: without it "fused" counts with yunet-tiled.
const ModelSpec& lffd_head_v1();

// YOLOX-nano COCO (Apache-2.0), a person detector measured as a confirmer for sparse rooms.
const ModelSpec& yolox_nano();

// Ultra-Light RFB-640 (MIT), a face detector measured as a confirmer for sparse rooms.
const ModelSpec& rfb_640();

// Where to look, in order: `configured` (config key detector.model_dir), then, when
// `defaults`, $ATTENDANCE_MODEL_DIR, <source>/../shared/models and <source>/models (where
// scripts/models.sh downloads). Empty entries are left out.
std::vector<std::filesystem::path> model_search_dirs(const std::filesystem::path& configured,
                                                     bool defaults = true);

struct ModelSearch {
  std::optional<std::filesystem::path> path;  // the first file with the right sha256
  std::vector<std::string> notes;             // what was wrong elsewhere, for the log
};

ModelSearch find_model(const ModelSpec& spec, const std::vector<std::filesystem::path>& dirs);

}  // namespace att
