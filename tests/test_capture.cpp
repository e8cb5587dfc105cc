// The capture node's parts on real GStreamer pipelines (videotestsrc and a local clip),
// the persisted sequence, and the uploader's signing and reading of the service's answers.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <mutex>
#include <thread>

#include "capture/camera.h"
#include "capture/sequence_file.h"
#include "capture/uploader.h"
#include "counting/jpeg.h"
#include "protocol/signing.h"
#include "protocol/wire.h"
#include "tests/support/test_support.h"

namespace att {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kClip[] = "data/video/classroom_cctv_overhead_640x352.mp4";

// Frames from a camera until `limit`, the camera finishing, or 20 s without a frame.
std::vector<CapturedFrame> take(Camera& camera, FrameQueue& queue, int limit) {
  std::vector<CapturedFrame> frames;
  for (int waited = 0; waited < 100 && static_cast<int>(frames.size()) < limit; ++waited) {
    if (auto f = queue.pop(std::chrono::milliseconds(200))) {
      frames.push_back(std::move(*f));
      waited = 0;
    } else if (camera.status().finished && queue.empty()) {
      break;
    }
  }
  return frames;
}

CameraOptions file_options(const std::filesystem::path& clip, double interval) {
  CameraOptions o;
  o.source.uri = clip.string();
  o.source.sample_interval_s = interval;
  o.source.realtime = false;
  o.exit_on_eos = true;
  return o;
}

TEST(PipelineDescription, FollowsTheSourceUri) {
  SourceOptions o;
  o.sample_interval_s = 5;
  o.uri = "videotestsrc://?pattern=ball";
  EXPECT_THAT(*pipeline_description(o),
              StartsWith("videotestsrc name=src is-live=true pattern=ball ! "));
  EXPECT_THAT(*pipeline_description(o), HasSubstr("! identity name=sampler ! videoconvert"));
  EXPECT_THAT(*pipeline_description(o), HasSubstr("drop=true sync=true"));
  o.uri = "v4l2:///dev/video2";
  EXPECT_THAT(*pipeline_description(o),
              StartsWith("v4l2src name=src device=/dev/video2 ! decodebin"));
  o.uri = "rtsp://user:secret@10.0.0.9/stream";
  EXPECT_THAT(*pipeline_description(o), StartsWith("uridecodebin name=src ! "));
  EXPECT_THAT(*pipeline_description(o), Not(HasSubstr("secret")));  // never in logs
  o.uri = "/srv/clip.mp4";
  o.width = 960;
  o.sample_interval_s = 0.5;
  o.realtime = false;
  EXPECT_THAT(*pipeline_description(o),
              HasSubstr("format=I420,width=960,pixel-aspect-ratio=1/1 ! jpegenc"));
  EXPECT_THAT(*pipeline_description(o), HasSubstr("drop=false sync=false"));
  // The technician's own GStreamer source, for cameras no URI covers.
  o.uri = "gst:filesrc location=/srv/view.jpg ! jpegdec ! imagefreeze";
  EXPECT_THAT(*pipeline_description(o),
              StartsWith("filesrc location=/srv/view.jpg ! jpegdec ! imagefreeze ! identity "
                         "name=src ! identity name=sampler"));
}

TEST(PipelineDescription, RefusesWhatItCannotOpen) {
  SourceOptions o;
  o.uri = "gopher://camera";
  EXPECT_THAT(pipeline_description(o).error().message,
              HasSubstr("unsupported source scheme 'gopher'"));
  o.uri = "videotestsrc://?pattern=ball ! filesink location=/etc/passwd";
  EXPECT_THAT(pipeline_description(o).error().message, HasSubstr("must be name=value"));
  o.uri = "";
  EXPECT_EQ(pipeline_description(o).error().message, "empty source URI");
  o.uri = "gst:";
  EXPECT_THAT(pipeline_description(o).error().message, HasSubstr("gst: needs"));
}

TEST(Camera, SamplesALiveTestSourceAtTheInterval) {
  CameraOptions o;
  o.source.uri = "videotestsrc://?pattern=ball";
  o.source.sample_interval_s = 0.2;
  o.source.width = 320;
  FrameQueue queue(8);
  Camera camera(o, queue);
  ASSERT_TRUE(camera.start());
  const auto frames = take(camera, queue, 4);
  ASSERT_EQ(frames.size(), 4u);
  for (size_t i = 0; i < frames.size(); ++i) {
    const auto& f = frames[i];
    EXPECT_EQ(f.width, 320);
    EXPECT_EQ(f.height, 240);
    auto size =
        probe_jpeg(std::span(reinterpret_cast<const unsigned char*>(f.jpeg.data()), f.jpeg.size()));
    ASSERT_TRUE(size) << size.error().message;
    EXPECT_EQ(size->width, 320);
    if (i > 0) {  // capture times follow the stream clock: 200 ms apart
      EXPECT_NEAR(f.capture_time_ms - frames[i - 1].capture_time_ms, 200, 40);
    }
  }
  const CameraStatus st = camera.status();
  EXPECT_TRUE(st.playing);
  EXPECT_EQ(st.pipeline_starts, 1);
  EXPECT_GE(st.frames, 4);
  EXPECT_EQ(st.last_error, "");
}

TEST(Camera, AShorterIntervalTakesEffectAtOnce) {
  CameraOptions o;
  o.source.uri = "videotestsrc://?pattern=ball";
  o.source.sample_interval_s = 2.0;
  FrameQueue queue(32);
  Camera camera(o, queue);
  ASSERT_TRUE(camera.start());
  ASSERT_EQ(take(camera, queue, 1).size(), 1u);
  camera.set_interval(0.1);  // a technician opened live view
  EXPECT_EQ(camera.status().interval_s, 0.1);
  const auto frames = take(camera, queue, 5);
  ASSERT_EQ(frames.size(), 5u);
  for (size_t i = 1; i < frames.size(); ++i) {
    EXPECT_NEAR(frames[i].capture_time_ms - frames[i - 1].capture_time_ms, 100, 40);
  }
}

TEST(Camera, ReadsAWholeClipAsFastAsFramesAreTakenThenFinishes) {
  ATT_REQUIRE_SHARED(clip, kClip);
  FrameQueue queue(2);
  Camera camera(file_options(clip, 1.0), queue);
  ASSERT_TRUE(camera.start());
  const auto frames = take(camera, queue, 1000);
  EXPECT_TRUE(camera.status().finished);
  // 219 frames at 20 fps (10.95 s) sampled once a second: frames at 0, 1, ..., 10 s.
  EXPECT_EQ(frames.size(), 11u);
  ASSERT_FALSE(frames.empty());
  EXPECT_EQ(frames[0].width, 640);
  EXPECT_EQ(frames[0].height, 352);
  EXPECT_NEAR(frames.back().capture_time_ms - frames.front().capture_time_ms, 10000, 100);
  EXPECT_EQ(queue.dropped(), 0);  // a file waits for room rather than drop
}

TEST(Camera, AFileThatEndsStartsAgainLikeACameraThatNeverStops) {
  ATT_REQUIRE_SHARED(clip, kClip);
  CameraOptions o = file_options(clip, 2.0);
  o.exit_on_eos = false;
  FrameQueue queue(4);
  Camera camera(o, queue);
  ASSERT_TRUE(camera.start());
  // 6 frames per pass (0, 2, ..., 10 s): 8 frames need a second pass.
  EXPECT_EQ(take(camera, queue, 8).size(), 8u);
  EXPECT_GE(camera.status().pipeline_starts, 2);
  EXPECT_FALSE(camera.status().finished);
}

TEST(Camera, SamplesAVariableFrameRateClip) {
  // This phone clip's decoded caps say framerate=0/1, which videorate cannot sample.
  ATT_REQUIRE_SHARED(clip, "data/video/classroom_handheld_dense_1280x720.mp4");
  CameraOptions o = file_options(clip, 1.0);
  o.source.width = 640;
  FrameQueue queue(2);
  Camera camera(o, queue);
  ASSERT_TRUE(camera.start());
  const auto frames = take(camera, queue, 1000);
  ASSERT_EQ(frames.size(), 5u);  // 149 frames at 359/12 fps = 4.98 s: frames at 0, ..., 4 s
  EXPECT_EQ(frames[0].width, 640);
  EXPECT_EQ(frames[0].height, 360);
  for (size_t i = 1; i < frames.size(); ++i) {
    EXPECT_NEAR(frames[i].capture_time_ms - frames[i - 1].capture_time_ms, 1000, 40);
  }
}

TEST(Camera, AMissingFileIsRetriedWithBackoffAndTheReasonKept) {
  CameraOptions o = file_options("/nonexistent/clip.mp4", 1.0);
  o.exit_on_eos = false;
  o.max_backoff_s = 1;
  FrameQueue queue(2);
  Camera camera(o, queue);
  ASSERT_TRUE(camera.start());
  // 0.5 s, then about 1 s between tries.
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  const CameraStatus st = camera.status();
  EXPECT_FALSE(st.playing);
  EXPECT_GE(st.pipeline_starts, 2);
  EXPECT_LE(st.pipeline_starts, 6);
  EXPECT_THAT(st.last_error, HasSubstr("clip.mp4"));
  EXPECT_EQ(st.frames, 0);
  camera.stop();  // and stops promptly while waiting to retry
}

TEST(Camera, ALiveSourceThatGoesQuietIsRebuilt) {
  // A source that plays but lets no picture through: like a camera that hangs without an
  // error or an end of stream.
  CameraOptions o;
  o.source.uri = "gst:videotestsrc is-live=true ! valve drop=true";
  o.source.sample_interval_s = 0.1;
  o.stall_timeout_s = 1;
  o.max_backoff_s = 1;
  FrameQueue queue(8);
  Camera camera(o, queue);
  ASSERT_TRUE(camera.start());
  std::this_thread::sleep_for(std::chrono::milliseconds(3500));
  const CameraStatus st = camera.status();
  EXPECT_GE(st.pipeline_starts, 2);
  EXPECT_EQ(st.frames, 0);
  EXPECT_THAT(st.last_error, HasSubstr("no video from the camera for 1 s"));
}

TEST(SequenceFile, NeverHandsOutANumberTwiceAcrossRestarts) {
  testing::TempDir dir;
  {
    auto seq = SequenceFile::open(dir / "state" / "sequence");
    ASSERT_TRUE(seq);
    EXPECT_EQ(*seq->reserve(), 1);
    EXPECT_EQ(*seq->reserve(), 2);
  }
  auto again = SequenceFile::open(dir / "state" / "sequence");
  ASSERT_TRUE(again);
  EXPECT_EQ(*again->reserve(), 3);
  EXPECT_EQ(testing::read_file(dir / "state" / "sequence"), "4\n");
}

TEST(SequenceFile, ACorruptFileIsAnErrorNotAReset) {
  testing::TempDir dir;
  testing::write_file(dir / "sequence", "12x");
  auto seq = SequenceFile::open(dir / "sequence");
  ASSERT_FALSE(seq);
  EXPECT_THAT(seq.error().message, HasSubstr("does not hold a sequence number ('12x')"));
}

// A stand-in service answering with a fixed status, to test how answers are read.
class FixedAnswerServer {
 public:
  FixedAnswerServer(int status, std::string body, std::string retry_after = "") {
    server_.Post(R"(/api/v1/\w+)", [=, this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      seen_.path = req.path;
      for (const auto& [name, value] : req.headers) seen_.headers[name] = value;
      res.status = status;
      if (!retry_after.empty()) res.set_header("Retry-After", retry_after);
      res.set_content(body, "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FixedAnswerServer() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  struct Seen {
    std::string path;
    std::map<std::string, std::string> headers;
  };
  // What the last request carried. Written on the server's thread: under mu_, as the answer's
  // way back through the socket is a hand-over ThreadSanitizer cannot see (tests/tsan.supp).
  Seen last_request() const {
    std::lock_guard lock(mu_);
    return seen_;
  }

 private:
  mutable std::mutex mu_;
  Seen seen_;  // guarded by mu_
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

const std::string kSecret = testing::site_secret("td-01");

Result<std::unique_ptr<Uploader>> uploader_for(const std::string& url,
                                               std::chrono::milliseconds timeout) {
  return Uploader::create({url, "td-01", kSecret, timeout, {}});
}

UploadOutcome send_to(const FixedAnswerServer& server) {
  auto up = uploader_for(server.url(), std::chrono::seconds(5));
  EXPECT_TRUE(up);
  SpoolItem frame{42, 1783830000123, "frame", false, "\xFF\xD8jpeg", R"({"flags":[]})"};
  return (*up)->send(frame);
}

TEST(Uploader, SendsASignedFrameWithItsHealth) {
  FixedAnswerServer server(201, R"({"status":"stored","count":17,"interval_s":0.5})");
  const UploadOutcome out = send_to(server);
  EXPECT_EQ(out.kind, UploadOutcome::kStored);
  EXPECT_EQ(out.count, 17);
  EXPECT_EQ(out.interval_s, 0.5);
  const auto seen = server.last_request();
  const auto& h = seen.headers;
  EXPECT_EQ(h.at(wire::kSiteHeader), "td-01");
  EXPECT_EQ(h.at(wire::kSequenceHeader), "42");
  EXPECT_EQ(h.at(wire::kCaptureTimeHeader), "1783830000123");
  EXPECT_EQ(h.at(wire::kHealthHeader), R"({"flags":[]})");
  EXPECT_EQ(seen.path, wire::kFramesPath);
  const SignedFields fields{wire::kFramesPath,     "td-01",           "42",
                            "1783830000123",       R"({"flags":[]})", "\xFF\xD8jpeg",
                            wire::kJpegContentType};
  EXPECT_TRUE(signature_matches(kSecret, fields, h.at(wire::kSignatureHeader)));
}

TEST(Uploader, SendsAHeartbeatWithTheUnreportedDrops) {
  FixedAnswerServer server(201, R"({"status":"stored","dropped_recorded":3})");
  auto up = uploader_for(server.url(), std::chrono::seconds(5));
  ASSERT_TRUE(up);
  SpoolItem report{7, 1783830000999, "health", false, R"({"state":"ok"})", ""};
  const UploadOutcome out = (*up)->send(report, 3);
  EXPECT_EQ(out.kind, UploadOutcome::kStored);
  EXPECT_EQ(out.dropped_recorded, 3);
  const auto seen = server.last_request();
  EXPECT_EQ(seen.path, wire::kHealthPath);
  EXPECT_EQ(seen.headers.at(wire::kSpoolDroppedHeader), "3");
  EXPECT_EQ(seen.headers.at("Content-Type"), "application/json");
  const SignedFields fields{wire::kHealthPath,     "td-01", "7",
                            "1783830000999",       "3",     R"({"state":"ok"})",
                            wire::kJsonContentType};
  EXPECT_TRUE(signature_matches(kSecret, fields, seen.headers.at(wire::kSignatureHeader)));
}

TEST(Uploader, TellsRetryableFromFinalAnswers) {
  EXPECT_EQ(send_to(FixedAnswerServer(200, R"({"status":"duplicate"})")).kind,
            UploadOutcome::kDuplicate);
  const UploadOutcome refused =
      send_to(FixedAnswerServer(422, R"({"error":"truncated JPEG","code":"bad_jpeg"})"));
  EXPECT_EQ(refused.kind, UploadOutcome::kRejected);
  EXPECT_EQ(refused.message, "truncated JPEG");
  const UploadOutcome busy = send_to(
      FixedAnswerServer(503, R"({"error":"the service is at capacity","code":"queue_full"})", "7"));
  EXPECT_EQ(busy.kind, UploadOutcome::kRetry);
  EXPECT_EQ(busy.retry_after_s, 7);
  EXPECT_EQ(busy.message, "the service is at capacity");
  EXPECT_EQ(send_to(FixedAnswerServer(429, "{}")).kind, UploadOutcome::kRetry);
}

TEST(Uploader, NoServerMeansRetryWithTheReason) {
  auto up = uploader_for("http://127.0.0.1:" + std::to_string(testing::unused_port()),
                         std::chrono::seconds(2));
  ASSERT_TRUE(up);
  const UploadOutcome out = (*up)->send(SpoolItem{1, 1, "frame", false, "x", ""});
  EXPECT_EQ(out.kind, UploadOutcome::kRetry);
  EXPECT_EQ(out.http_status, 0);
  EXPECT_THAT(out.message, HasSubstr("no answer from the server: Connection"));
}

}  // namespace
}  // namespace att
