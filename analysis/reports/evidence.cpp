#include "analysis/reports/evidence.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <opencv2/imgproc.hpp>
#include <span>

#include "common/encoding.h"
#include "common/files.h"
#include "common/sha256.h"
#include "counting/jpeg.h"

namespace att {

namespace {

constexpr std::int64_t kMaxEvidencePixels = 40'000'000;

}  // namespace

Result<std::string> thumbnail_jpeg(std::string_view jpeg, int max_width, int quality,
                                   const std::vector<Box>& boxes) {
  const std::span<const unsigned char> bytes(reinterpret_cast<const unsigned char*>(jpeg.data()),
                                             jpeg.size());
  auto image = decode_jpeg(bytes, kMaxEvidencePixels);
  if (!image) return std::unexpected(image.error());
  cv::Mat small = *image;
  max_width = std::max(1, max_width);
  if (image->cols > max_width) {
    const int height = std::max(1, static_cast<int>(std::lround(static_cast<double>(image->rows) *
                                                                max_width / image->cols)));
    cv::resize(*image, small, cv::Size(max_width, height), 0, 0, cv::INTER_AREA);
  }
  const float scale = static_cast<float>(small.cols) / static_cast<float>(image->cols);
  std::vector<Box> scaled = boxes;
  for (Box& b : scaled) b = {b.x * scale, b.y * scale, b.w * scale, b.h * scale, b.score};
  const auto encoded = encode_jpeg(scaled.empty() ? small : draw_boxes(small, scaled), quality);
  if (encoded.empty()) return fail("cannot encode the thumbnail");
  return std::string(encoded.begin(), encoded.end());
}

EvidenceThumbnail evidence_thumbnail(const std::filesystem::path& data_dir,
                                     const std::string& relative, const std::string& sha256,
                                     int max_width, int quality, const std::vector<Box>& boxes) {
  EvidenceThumbnail ev;
  if (relative.empty()) {
    ev.problem = "Không có ảnh minh chứng";
    return ev;
  }
  const std::filesystem::path rel(relative);
  bool unsafe = rel.is_absolute();
  for (const auto& part : rel) unsafe = unsafe || part == "..";
  if (unsafe) {
    ev.problem = "Đường dẫn ảnh minh chứng không hợp lệ";
    return ev;
  }
  auto bytes = read_file(data_dir / rel);
  if (!bytes) {
    ev.problem = "Không tìm thấy tệp ảnh minh chứng";
    return ev;
  }
  if (sha256_hex(*bytes) != sha256) {
    ev.mismatch = true;
    ev.problem = "Ảnh không khớp mã SHA-256 đã ghi trong sổ: tệp đã bị thay đổi";
  }
  auto thumb = thumbnail_jpeg(*bytes, max_width, quality, boxes);
  if (!thumb) {
    ev.problem = ev.mismatch ? ev.problem : "Tệp ảnh minh chứng bị hỏng";
    return ev;
  }
  ev.data_uri = "data:image/jpeg;base64," + base64(*thumb);
  return ev;
}

}  // namespace att
