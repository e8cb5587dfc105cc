// Feeds the input, as an uploaded frame's bytes, to probe_jpeg and to decode_jpeg with a
// small pixel limit (counting/jpeg.h). Checks, beyond "does not crash":
//   - decode_jpeg succeeds only where probe_jpeg does, and a probe failure is its failure;
//   - a frame over the limit is refused before decoding, with "image too large";
//   - a decoded frame is BGR, has the probed size (or its transpose: OpenCV applies an EXIF
//     orientation) and never more pixels than the limit (no decompression bomb gets past
//     the probe by hiding the real frame header from it).
// `fuzz_jpeg -write_seeds=DIR` writes small JPEGs made by OpenCV as seeds, then exits.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <opencv2/imgproc.hpp>
#include <span>
#include <string>

#include "common/files.h"
#include "counting/jpeg.h"
#include "fuzz/fuzz_support.h"

namespace {

constexpr std::int64_t kMaxPixels = 64 * 64;

void check(bool ok, const char* what) {
  att::fuzz::check(ok, "fuzz_jpeg", what);
}

void write_seeds(const std::string& dir) {
  const auto save = [&](const std::string& name, int w, int h, int quality) {
    cv::Mat img(h, w, CV_8UC3, cv::Scalar(40, 90, 160));
    cv::circle(img, {w / 2, h / 2}, std::max(2, h / 4), {255, 255, 255}, cv::FILLED);
    const auto bytes = att::encode_jpeg(img, quality);
    if (!att::write_file_atomically(std::string(dir) + "/" + name,
                                    std::string(bytes.begin(), bytes.end()), false)) {
      std::exit(1);
    }
  };
  save("small-16x12.jpg", 16, 12, 50);
  save("over-limit-80x64.jpg", 80, 64, 30);  // refused by size, never decoded
  std::exit(0);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  for (int i = 1; i < *argc; ++i) {
    if (std::strncmp((*argv)[i], "-write_seeds=", 13) == 0) write_seeds((*argv)[i] + 13);
  }
  cv::setNumThreads(1);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
  const std::span<const unsigned char> bytes(data, size);
  const auto probed = att::probe_jpeg(bytes);
  const auto decoded = att::decode_jpeg(bytes, kMaxPixels);
  if (!probed) {
    check(!decoded, "decode_jpeg accepted what probe_jpeg refused");
    check(decoded.error().message == probed.error().message, "decode_jpeg gave another reason");
    return 0;
  }
  check(probed->width > 0 && probed->height > 0, "probe_jpeg gave a zero size");
  const std::int64_t pixels = std::int64_t{probed->width} * probed->height;
  if (pixels > kMaxPixels) {
    check(!decoded && decoded.error().message.starts_with("image too large"),
          "a frame over the limit was not refused as too large");
    return 0;
  }
  if (!decoded) return 0;  // the decoder may still refuse corrupt data
  const cv::Mat& frame = *decoded;
  check(frame.type() == CV_8UC3, "decoded frame is not BGR");
  check(std::int64_t{frame.cols} * frame.rows <= kMaxPixels, "more pixels decoded than the limit");
  const bool same = frame.cols == probed->width && frame.rows == probed->height;
  const bool turned = frame.cols == probed->height && frame.rows == probed->width;
  check(same || turned, "decoded size differs from the probed size");
  return 0;
}
