#include "counting/jpeg.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <optional>

namespace att {

Result<JpegSize> probe_jpeg(std::span<const unsigned char> bytes) {
  const size_t n = bytes.size();
  if (n == 0) return fail("empty body");
  if (n < 4 || bytes[0] != 0xFF || bytes[1] != 0xD8 || bytes[2] != 0xFF) {
    return fail(ErrorCode::kCorrupt, "not a JPEG (no SOI marker)");
  }
  // A JPEG ends with EOI; some encoders pad after it, so allow a little trailing zero fill.
  size_t end = n;
  while (end > 2 && n - end < 64 && bytes[end - 1] == 0x00) --end;
  if (end < 4 || bytes[end - 2] != 0xFF || bytes[end - 1] != 0xD9) {
    return fail(ErrorCode::kCorrupt, "truncated JPEG (no EOI marker at the end)");
  }
  std::optional<JpegSize> size;
  int scans = 0;
  size_t i = 2;
  while (i + 4 <= n) {
    const unsigned char marker = bytes[i + 1];
    // FF 00 is a stuffed zero, valid only inside scan data. libjpeg skips it as garbage and
    // reads on for the next marker; taking it for a segment with a length would let a frame
    // header hidden from this probe reach the decoder, past the pixel limit.
    if (bytes[i] != 0xFF || marker == 0x00)
      return fail(ErrorCode::kCorrupt,
                  "corrupt JPEG (bad marker at byte " + std::to_string(i) + ")");
    if (marker == 0xFF) {  // fill byte
      ++i;
      continue;
    }
    if (marker == 0xD9) break;                                   // end of image
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {  // no length field
      i += 2;
      continue;
    }
    const size_t len = (size_t{bytes[i + 2]} << 8) | bytes[i + 3];
    if (len < 2 || i + 2 + len > n)
      return fail(ErrorCode::kCorrupt, "corrupt JPEG (segment runs past the end)");
    const bool sof =
        marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (sof && !size) {
      if (len < 8) return fail(ErrorCode::kCorrupt, "corrupt JPEG (short frame header)");
      JpegSize s;
      s.height = (bytes[i + 5] << 8) | bytes[i + 6];
      s.width = (bytes[i + 7] << 8) | bytes[i + 8];
      if (s.width == 0 || s.height == 0)
        return fail(ErrorCode::kCorrupt, "corrupt JPEG (zero frame size)");
      size = s;
    }
    i += 2 + len;
    if (marker != 0xDA) continue;
    // A scan: before any frame header it is corrupt; each one is a pass over the whole
    // picture for the decoder, so their number bounds the cost of a decode.
    if (!size) break;
    if (++scans > kMaxJpegScans) {
      return fail(ErrorCode::kTooLarge,
                  "JPEG with more than " + std::to_string(kMaxJpegScans) +
                      " scans (each is a pass over the whole picture; nodes send baseline "
                      "JPEGs, of one scan)");
    }
    // The entropy-coded data runs to the next marker that is not a stuffed zero or a restart.
    while (i + 1 < n && !(bytes[i] == 0xFF && bytes[i + 1] != 0x00 &&
                          !(bytes[i + 1] >= 0xD0 && bytes[i + 1] <= 0xD7))) {
      ++i;
    }
  }
  if (!size) return fail(ErrorCode::kCorrupt, "corrupt JPEG (no frame header)");
  if (scans == 0) return fail(ErrorCode::kCorrupt, "corrupt JPEG (no scan)");
  return *size;
}

Result<cv::Mat> decode_jpeg(std::span<const unsigned char> bytes, std::int64_t max_pixels) {
  auto size = probe_jpeg(bytes);
  if (!size) return std::unexpected(size.error());
  if (std::int64_t{size->width} * size->height > max_pixels) {
    return fail(ErrorCode::kTooLarge, "image too large (" + std::to_string(size->width) + "x" +
                                          std::to_string(size->height) + ", limit " +
                                          std::to_string(max_pixels) + " pixels)");
  }
  const cv::Mat raw(1, static_cast<int>(bytes.size()), CV_8UC1,
                    const_cast<unsigned char*>(bytes.data()));
  cv::Mat frame = cv::imdecode(raw, cv::IMREAD_COLOR);
  if (frame.empty()) return fail(ErrorCode::kCorrupt, "corrupt JPEG (decoder rejected it)");
  return frame;
}

std::vector<unsigned char> encode_jpeg(const cv::Mat& bgr, int quality) {
  std::vector<unsigned char> out;
  cv::imencode(".jpg", bgr, out, {cv::IMWRITE_JPEG_QUALITY, quality});
  return out;
}

cv::Mat draw_boxes(const cv::Mat& bgr, const std::vector<Box>& boxes) {
  cv::Mat out = bgr.clone();
  const int thickness = std::max(1, out.cols / 640);
  for (const Box& b : boxes) {
    cv::rectangle(
        out, cv::Rect(cv::Point(cvRound(b.x), cvRound(b.y)), cv::Size(cvRound(b.w), cvRound(b.h))),
        cv::Scalar(0, 220, 0), thickness);
  }
  return out;
}

cv::Mat annotate(const cv::Mat& bgr, const std::vector<Box>& boxes, std::string label) {
  cv::Mat out = draw_boxes(bgr, boxes);
  if (label.empty()) label = std::to_string(boxes.size());
  const double scale = std::max(0.6, out.cols / 900.0);
  int baseline = 0;
  const cv::Size text = cv::getTextSize(label, cv::FONT_HERSHEY_SIMPLEX, scale, 2, &baseline);
  cv::rectangle(out, cv::Rect(0, 0, text.width + 16, text.height + baseline + 12),
                cv::Scalar(0, 0, 0), cv::FILLED);
  cv::putText(out, label, cv::Point(8, text.height + 6), cv::FONT_HERSHEY_SIMPLEX, scale,
              cv::Scalar(255, 255, 255), 2, cv::LINE_AA);
  return out;
}

Result<std::string> draw_counted_frame(std::string_view jpeg, const std::vector<Box>& boxes) {
  // The bytes were checked (size included) when they were received.
  auto bgr =
      decode_jpeg(std::span(reinterpret_cast<const unsigned char*>(jpeg.data()), jpeg.size()),
                  std::int64_t{1} << 40);
  if (!bgr) return std::unexpected(bgr.error());
  const auto out = encode_jpeg(draw_boxes(*bgr, boxes), 85);
  return std::string(out.begin(), out.end());
}

}  // namespace att
