// JPEG checks on bytes that arrive from outside: each kind of broken upload (empty, not a
// JPEG, truncated, corrupt segment, no frame header, a decompression bomb) is built from a
// real encoded frame and its exact message asserted.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <span>
#include <string>
#include <vector>

#include "counting/jpeg.h"
#include "tests/support/test_support.h"

namespace {

using ::testing::HasSubstr;
using Bytes = std::vector<unsigned char>;

Bytes to_bytes(const std::string& s) {
  return Bytes(s.begin(), s.end());
}

Bytes synthetic(int w, int h) {
  return to_bytes(att::testing::synthetic_jpeg(w, h));
}

std::string probe_error(const Bytes& b) {
  auto r = att::probe_jpeg(b);
  return r ? "OK " + std::to_string(r->width) + "x" + std::to_string(r->height) : r.error().message;
}

// Offset of the first marker 0xFF `code` that starts a segment (walking the segment chain).
size_t find_segment(const Bytes& b, unsigned char code) {
  size_t i = 2;
  while (i + 4 <= b.size() && b[i] == 0xFF) {
    if (b[i + 1] == code) return i;
    i += 2 + ((size_t{b[i + 2]} << 8) | b[i + 3]);
  }
  ADD_FAILURE() << "no segment FF " << std::hex << int(code);
  return 0;
}

TEST(ProbeJpeg, SyntheticFrameSize) {
  const Bytes b = synthetic(320, 240);
  auto size = att::probe_jpeg(b);
  ASSERT_TRUE(size) << size.error().message;
  EXPECT_EQ(size->width, 320);
  EXPECT_EQ(size->height, 240);

  auto odd = att::probe_jpeg(synthetic(97, 31));
  ASSERT_TRUE(odd) << odd.error().message;
  EXPECT_EQ(odd->width, 97);
  EXPECT_EQ(odd->height, 31);
}

TEST(ProbeJpeg, ProgressiveJpegSize) {
  cv::Mat img(120, 200, CV_8UC3, cv::Scalar(10, 100, 200));
  Bytes b;
  ASSERT_TRUE(cv::imencode(".jpg", img, b, {cv::IMWRITE_JPEG_PROGRESSIVE, 1}));
  find_segment(b, 0xC2);  // really progressive (SOF2)
  EXPECT_EQ(probe_error(b), "OK 200x120");
}

TEST(DecodeJpeg, GivesBgrMatOfTheProbedSize) {
  const Bytes b = synthetic(320, 240);
  auto m = att::decode_jpeg(b, 3840LL * 2160);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->cols, 320);
  EXPECT_EQ(m->rows, 240);
  EXPECT_EQ(m->type(), CV_8UC3);
  // The big red rectangle of the synthetic picture (BGR 20,20,200) survives compression.
  const cv::Vec3b px = m->at<cv::Vec3b>(240 / 4 + 40, 320 / 2 + 40);
  EXPECT_NEAR(px[0], 20, 12);
  EXPECT_NEAR(px[1], 20, 12);
  EXPECT_NEAR(px[2], 200, 12);
}

TEST(DecodeJpeg, PixelLimitIsInclusive) {
  const Bytes b = synthetic(64, 48);
  EXPECT_TRUE(att::decode_jpeg(b, 64 * 48));
  auto over = att::decode_jpeg(b, 64 * 48 - 1);
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().message, "image too large (64x48, limit 3071 pixels)");
  EXPECT_EQ(over.error().code, att::ErrorCode::kTooLarge);  // the service answers 413 on it
}

TEST(ProbeJpeg, Empty) {
  EXPECT_EQ(probe_error({}), "empty body");
  auto d = att::decode_jpeg(std::span<const unsigned char>(), 1 << 20);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().message, "empty body");
  EXPECT_EQ(d.error().code, att::ErrorCode::kInvalid);
}

TEST(ProbeJpeg, NotAJpeg) {
  EXPECT_EQ(probe_error(to_bytes("hello")), "not a JPEG (no SOI marker)");
  EXPECT_EQ(probe_error(to_bytes(std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16))),
            "not a JPEG (no SOI marker)");
  EXPECT_EQ(probe_error({0xFF, 0xD8}), "not a JPEG (no SOI marker)");
  EXPECT_EQ(probe_error({0xFF, 0xD8, 0xFF}), "not a JPEG (no SOI marker)");
  EXPECT_EQ(probe_error(to_bytes("GIF89a......")), "not a JPEG (no SOI marker)");
  auto d = att::decode_jpeg(to_bytes("hello"), 1 << 20);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().message, "not a JPEG (no SOI marker)");
  EXPECT_EQ(d.error().code, att::ErrorCode::kCorrupt);
}

TEST(ProbeJpeg, TruncatedUpload) {
  const Bytes full = synthetic(320, 240);
  const Bytes half(full.begin(), full.begin() + static_cast<long>(full.size() / 2));
  EXPECT_EQ(probe_error(half), "truncated JPEG (no EOI marker at the end)");
  const Bytes minus_one(full.begin(), full.end() - 1);
  EXPECT_EQ(probe_error(minus_one), "truncated JPEG (no EOI marker at the end)");
  auto d = att::decode_jpeg(half, 1 << 20);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().message, "truncated JPEG (no EOI marker at the end)");
  EXPECT_EQ(d.error().code, att::ErrorCode::kCorrupt);
}

TEST(ProbeJpeg, SegmentLengthRunningPastTheEnd) {
  Bytes b = synthetic(64, 48);
  ASSERT_LT(b.size(), 0xFFFFu);
  ASSERT_EQ(b[2], 0xFF);
  ASSERT_EQ(b[3], 0xE0);  // APP0 (JFIF) first, as OpenCV writes it
  b[4] = 0xFF;
  b[5] = 0xF0;
  EXPECT_EQ(probe_error(b), "corrupt JPEG (segment runs past the end)");

  Bytes sof = synthetic(64, 48);
  const size_t at = find_segment(sof, 0xC0);
  sof[at + 2] = 0xFF;
  sof[at + 3] = 0xFF;
  EXPECT_EQ(probe_error(sof), "corrupt JPEG (segment runs past the end)");
}

TEST(ProbeJpeg, SegmentLengthBelowTwo) {
  Bytes b = synthetic(64, 48);
  b[4] = 0x00;
  b[5] = 0x01;
  EXPECT_EQ(probe_error(b), "corrupt JPEG (segment runs past the end)");
}

TEST(ProbeJpeg, SoiAndEoiOnly) {
  EXPECT_EQ(probe_error({0xFF, 0xD8, 0xFF, 0xD9}), "corrupt JPEG (no frame header)");
}

TEST(ProbeJpeg, ScanBeforeFrameHeader) {
  EXPECT_EQ(probe_error({0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02, 0x12, 0x34, 0xFF, 0xD9}),
            "corrupt JPEG (no frame header)");
}

TEST(ProbeJpeg, BadMarkerNamesItsOffset) {
  // SOI, APP0 with 2 bytes of data, then a byte that is no marker.
  EXPECT_EQ(probe_error({0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x00, 0x00, 0x12, 0x34, 0xFF, 0xD9}),
            "corrupt JPEG (bad marker at byte 8)");
}

// A hand-made picture: SOI, optional extra segments, SOF`code` of w x h, one scan (SOS and
// two bytes of data), EOI.
Bytes handmade(unsigned char sof_code, int w, int h, const Bytes& before = {}) {
  Bytes b = {0xFF, 0xD8};
  b.insert(b.end(), before.begin(), before.end());
  const Bytes sof = {0xFF,
                     sof_code,
                     0x00,
                     0x0B,
                     0x08,
                     static_cast<unsigned char>(h >> 8),
                     static_cast<unsigned char>(h & 0xFF),
                     static_cast<unsigned char>(w >> 8),
                     static_cast<unsigned char>(w & 0xFF),
                     0x01,
                     0x01,
                     0x11,
                     0x00};
  b.insert(b.end(), sof.begin(), sof.end());
  const Bytes scan = {0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00, 0x12, 0x34};
  b.insert(b.end(), scan.begin(), scan.end());
  b.push_back(0xFF);
  b.push_back(0xD9);
  return b;
}

Bytes with_scans(int scans) {
  return to_bytes(att::testing::jpeg_with_scans(scans));
}

TEST(ProbeJpeg, ScansBeyondTheLimitAreRefusedBeforeAnyDecoding) {
  // Each scan is a pass over the whole picture: their number bounds a decode's cost.
  EXPECT_EQ(probe_error(with_scans(att::kMaxJpegScans)), "OK 200x120");
  auto many = att::probe_jpeg(with_scans(att::kMaxJpegScans + 1));
  ASSERT_FALSE(many);
  EXPECT_EQ(many.error().code, att::ErrorCode::kTooLarge);
  EXPECT_THAT(many.error().message, HasSubstr("more than 16 scans"));
  auto thousands = att::decode_jpeg(with_scans(3000), std::int64_t{1} << 30);
  ASSERT_FALSE(thousands);
  EXPECT_EQ(thousands.error().code, att::ErrorCode::kTooLarge);
}

TEST(ProbeJpeg, AFrameHeaderWithoutAScan) {
  const Bytes sof = handmade(0xC0, 32, 16);
  Bytes no_scan(sof.begin(), sof.begin() + 15);  // SOI and SOF
  no_scan.push_back(0xFF);
  no_scan.push_back(0xD9);
  EXPECT_EQ(probe_error(no_scan), "corrupt JPEG (no scan)");
}

TEST(ProbeJpeg, HuffmanTableIsNotAFrameHeader) {
  // DHT (FFC4) lies in the SOF range of marker codes but is not one.
  EXPECT_EQ(probe_error(handmade(0xC0, 32, 16, {0xFF, 0xC4, 0x00, 0x04, 0xAA, 0xBB})), "OK 32x16");
  EXPECT_EQ(probe_error(handmade(0xC1, 7, 9)), "OK 7x9");
}

TEST(ProbeJpeg, FillBytesBeforeAMarker) {
  EXPECT_EQ(probe_error(handmade(0xC0, 32, 16, {0xFF, 0xFF})), "OK 32x16");
}

TEST(ProbeJpeg, ZeroFrameSize) {
  EXPECT_EQ(probe_error(handmade(0xC0, 0, 16)), "corrupt JPEG (zero frame size)");
  EXPECT_EQ(probe_error(handmade(0xC0, 16, 0)), "corrupt JPEG (zero frame size)");
}

TEST(ProbeJpeg, ShortFrameHeader) {
  const Bytes b = {0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x05, 0x08, 0x00, 0x10, 0xFF, 0xD9};
  EXPECT_EQ(probe_error(b), "corrupt JPEG (short frame header)");
}

TEST(DecodeJpeg, DecompressionBombRefusedBeforeDecoding) {
  Bytes b = synthetic(64, 48);
  const size_t at = find_segment(b, 0xC0);
  // Height then width, big-endian, after the length and precision bytes: 20000 = 0x4E20.
  b[at + 5] = 0x4E;
  b[at + 6] = 0x20;
  b[at + 7] = 0x4E;
  b[at + 8] = 0x20;
  EXPECT_EQ(probe_error(b), "OK 20000x20000");
  auto d = att::decode_jpeg(b, 3840LL * 2160);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().message, "image too large (20000x20000, limit 8294400 pixels)");
}

// Found by fuzz/fuzz_jpeg: libjpeg skips a stuffed zero (FF 00) before a marker as garbage,
// where the probe read it as a segment with a length. A header built on that difference
// showed the probe a 16x16 frame header while the decoder read the real one behind it,
// decoding a frame of any size past the pixel limit.
TEST(DecodeJpeg, StuffedZeroCannotHideTheRealFrameHeader) {
  const Bytes big = synthetic(160, 120);
  // clang-format off
  Bytes b = {0xFF, 0xD8,
             0xFF, 0x00, 0x00, 0x0A,  // probe: a segment to byte 14; libjpeg: skipped
             0xFF, 0xE1, 0x00, 0x19,  // libjpeg: APP1 over the small header, to byte 33
             'F',  'U',  'Z',  'Z',
             // byte 14, what the probe took for the frame header: 16x16, 3 components
             0xFF, 0xC0, 0x00, 0x11, 0x08, 0x00, 0x10, 0x00, 0x10, 0x03, 0x01, 0x22, 0x00,
             0x02, 0x11, 0x01, 0x03, 0x11, 0x01};
  // clang-format on
  ASSERT_EQ(b.size(), 33u);
  b.insert(b.end(), big.begin() + 2, big.end());  // the 160x120 JPEG after its SOI
  EXPECT_EQ(probe_error(b), "corrupt JPEG (bad marker at byte 2)");
  auto d = att::decode_jpeg(b, 64 * 64);
  ASSERT_FALSE(d) << "decoded " << d->cols << "x" << d->rows << " past a limit of 4096 pixels";
  EXPECT_EQ(d.error().message, "corrupt JPEG (bad marker at byte 2)");
}

TEST(DecodeJpeg, DecoderRejectionIsReported) {
  // Headers that pass the probe, with the scan data replaced by garbage markers.
  const Bytes b = handmade(0xC0, 32, 16);
  auto d = att::decode_jpeg(b, 1 << 20);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().message, "corrupt JPEG (decoder rejected it)");
}

TEST(ProbeJpeg, TrailingZeroPaddingAfterEoiIsAccepted) {
  Bytes b = synthetic(160, 120);
  b.insert(b.end(), 16, 0x00);
  EXPECT_EQ(probe_error(b), "OK 160x120");
  auto d = att::decode_jpeg(b, 1 << 20);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->cols, 160);
  EXPECT_EQ(d->rows, 120);
}

TEST(ProbeJpeg, TrailingGarbageAfterEoiIsTruncation) {
  Bytes b = synthetic(160, 120);
  b.push_back(0x42);
  EXPECT_EQ(probe_error(b), "truncated JPEG (no EOI marker at the end)");
}

TEST(Annotate, DrawsOnACopyAndLeavesTheInputAlone) {
  auto decoded = att::decode_jpeg(synthetic(320, 240), 1 << 20);
  ASSERT_TRUE(decoded) << decoded.error().message;
  const cv::Mat input = *decoded;
  const cv::Mat before = input.clone();

  const att::Box box{100.f, 80.f, 60.f, 60.f, 0.9f};
  const cv::Mat out = att::annotate(input, {box});

  ASSERT_EQ(out.size(), input.size());
  ASSERT_EQ(out.type(), input.type());
  EXPECT_EQ(cv::norm(input, before, cv::NORM_INF), 0.0) << "annotate modified its input";
  EXPECT_NE(out.data, input.data);
  EXPECT_GT(cv::norm(out, input, cv::NORM_INF), 0.0);

  // The box outline is green (BGR 0,220,0) along its edges; its inside is untouched.
  EXPECT_EQ(out.at<cv::Vec3b>(80, 130), cv::Vec3b(0, 220, 0));   // top edge
  EXPECT_EQ(out.at<cv::Vec3b>(110, 100), cv::Vec3b(0, 220, 0));  // left edge
  EXPECT_EQ(out.at<cv::Vec3b>(110, 130), input.at<cv::Vec3b>(110, 130));
  // Far from the box and the count label, nothing changes.
  EXPECT_EQ(out.at<cv::Vec3b>(230, 310), input.at<cv::Vec3b>(230, 310));
  // The count label sits on a black panel in the top-left corner.
  EXPECT_EQ(out.at<cv::Vec3b>(1, 1), cv::Vec3b(0, 0, 0));
}

TEST(Annotate, NoBoxesStillLabelsTheCount) {
  cv::Mat input(120, 160, CV_8UC3, cv::Scalar(200, 200, 200));
  const cv::Mat out = att::annotate(input, {});
  EXPECT_EQ(out.at<cv::Vec3b>(1, 1), cv::Vec3b(0, 0, 0));
  EXPECT_EQ(input.at<cv::Vec3b>(1, 1), cv::Vec3b(200, 200, 200));
  EXPECT_EQ(out.at<cv::Vec3b>(110, 150), cv::Vec3b(200, 200, 200));
}

TEST(Annotate, ALongerLabelTakesAWiderPanel) {
  cv::Mat input(240, 640, CV_8UC3, cv::Scalar(200, 200, 200));
  const cv::Mat shorter = att::annotate(input, {});
  const cv::Mat longer = att::annotate(input, {}, "13 (11 in this frame)");
  const int y = 2;
  auto panel_width = [&](const cv::Mat& m) {
    int x = 0;
    while (x < m.cols && m.at<cv::Vec3b>(y, x) == cv::Vec3b(0, 0, 0)) ++x;
    return x;
  };
  EXPECT_GT(panel_width(longer), 3 * panel_width(shorter));
}

TEST(EncodeJpeg, OutputProbesBackToTheSameSize) {
  cv::Mat img(90, 130, CV_8UC3, cv::Scalar(30, 60, 90));
  const Bytes b = att::encode_jpeg(img);
  ASSERT_FALSE(b.empty());
  EXPECT_EQ(probe_error(b), "OK 130x90");
  auto d = att::decode_jpeg(b, 1 << 20);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->size(), img.size());
}

TEST(EncodeJpeg, QualityChangesTheSize) {
  auto decoded = att::decode_jpeg(synthetic(320, 240), 1 << 20);
  ASSERT_TRUE(decoded);
  cv::Mat noisy = decoded->clone();
  cv::randu(noisy, cv::Scalar::all(0), cv::Scalar::all(255));
  EXPECT_LT(att::encode_jpeg(noisy, 30).size(), att::encode_jpeg(noisy, 95).size());
}

}  // namespace

// What the service shows and keeps carries no words: the boxes only, the corner untouched.
TEST(DrawCountedFrame, DrawsTheBoxesAndNoLabel) {
  cv::Mat input(720, 1280, CV_8UC3, cv::Scalar(200, 200, 200));
  std::vector<unsigned char> jpeg;
  cv::imencode(".jpg", input, jpeg, {cv::IMWRITE_JPEG_QUALITY, 95});
  const att::Box box{400, 300, 100, 100, 0.9f};
  auto drawn = att::draw_counted_frame(std::string(jpeg.begin(), jpeg.end()), {box});
  ASSERT_TRUE(drawn) << drawn.error().message;
  const cv::Mat out =
      cv::imdecode(std::vector<unsigned char>(drawn->begin(), drawn->end()), cv::IMREAD_COLOR);
  ASSERT_FALSE(out.empty());
  const cv::Vec3b corner = out.at<cv::Vec3b>(4, 4);
  for (int c = 0; c < 3; ++c) EXPECT_NEAR(corner[c], 200, 6) << "no label panel";
  const cv::Vec3b edge = out.at<cv::Vec3b>(300, 450);  // the box's top edge: green
  EXPECT_GT(edge[1], edge[0] + 60);
}
