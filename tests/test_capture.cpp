// The capture node's parts on real GStreamer pipelines (videotestsrc and a local clip),
// the persisted sequence, and the uploader's reading of the service's answers.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <thread>

#include "analysis/jpeg.h"
#include "capture/gst_frame_source.h"
#include "capture/sequence_file.h"
#include "capture/uploader.h"
#include "tests/test_support.h"

namespace att {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kClip[] = "data/video/classroom_cctv_overhead_640x352.mp4";

// Takes frames until end of stream or error, or `limit` frames.
std::vector<CapturedFrame> take(FrameSource& source, int limit, FrameSource::Event* last) {
  std::vector<CapturedFrame> frames;
  for (int waited = 0; waited < 100 && static_cast<int>(frames.size()) < limit; ++waited) {
    auto next = source.next(std::chrono::milliseconds(200));
    *last = next.event;
    if (next.event == FrameSource::Event::kFrame) {
      frames.push_back(std::move(next.frame));
      waited = 0;
    } else if (next.event != FrameSource::Event::kTimeout) {
      break;
    }
  }
  return frames;
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
}

TEST(GstFrameSource, SamplesALiveTestSourceAtTheInterval) {
  SourceOptions o;
  o.uri = "videotestsrc://?pattern=ball";
  o.sample_interval_s = 0.2;
  o.width = 320;
  auto source = open_gst_source(o);
  ASSERT_TRUE(source) << source.error().message;
  FrameSource::Event last;
  const auto frames = take(**source, 4, &last);
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
}

TEST(GstFrameSource, ReadsAWholeClipAsFastAsFramesAreTakenThenEnds) {
  ATT_REQUIRE_SHARED(clip, kClip);
  SourceOptions o;
  o.uri = clip.string();
  o.sample_interval_s = 1.0;
  o.realtime = false;
  auto source = open_gst_source(o);
  ASSERT_TRUE(source) << source.error().message;
  FrameSource::Event last;
  const auto frames = take(**source, 1000, &last);
  EXPECT_EQ(last, FrameSource::Event::kEndOfStream);
  // 219 frames at 20 fps (10.95 s) sampled once a second: frames at 0, 1, ..., 10 s.
  EXPECT_EQ(frames.size(), 11u);
  ASSERT_FALSE(frames.empty());
  EXPECT_EQ(frames[0].width, 640);
  EXPECT_EQ(frames[0].height, 352);
  EXPECT_NEAR(frames.back().capture_time_ms - frames.front().capture_time_ms, 10000, 100);
  const SourceStats stats = (*source)->stats();
  EXPECT_EQ(stats.sampled, 11);
  EXPECT_EQ(stats.dropped, 0);
}

TEST(GstFrameSource, SamplesAVariableFrameRateClip) {
  // This phone clip's decoded caps say framerate=0/1, which videorate cannot sample.
  ATT_REQUIRE_SHARED(clip, "data/video/classroom_handheld_dense_1280x720.mp4");
  SourceOptions o;
  o.uri = clip.string();
  o.sample_interval_s = 1.0;
  o.realtime = false;
  o.width = 640;
  auto source = open_gst_source(o);
  ASSERT_TRUE(source) << source.error().message;
  FrameSource::Event last;
  const auto frames = take(**source, 1000, &last);
  EXPECT_EQ(last, FrameSource::Event::kEndOfStream);
  ASSERT_EQ(frames.size(), 5u);  // 149 frames at 359/12 fps = 4.98 s: frames at 0, ..., 4 s
  EXPECT_EQ(frames[0].width, 640);
  EXPECT_EQ(frames[0].height, 360);
  for (size_t i = 1; i < frames.size(); ++i) {
    EXPECT_NEAR(frames[i].capture_time_ms - frames[i - 1].capture_time_ms, 1000, 40);
  }
}

TEST(GstFrameSource, AMissingFileIsAnErrorNamingIt) {
  SourceOptions o;
  o.uri = "/nonexistent/clip.mp4";
  o.realtime = false;
  auto source = open_gst_source(o);
  std::string message;
  if (!source) {
    message = source.error().message;
  } else {
    FrameSource::Event last;
    take(**source, 1, &last);
    ASSERT_EQ(last, FrameSource::Event::kError);
    message = (*source)->next(std::chrono::milliseconds(10)).message;
  }
  EXPECT_THAT(message, HasSubstr("clip.mp4"));
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
  FixedAnswerServer(int status, std::string body) {
    server_.Post("/api/v1/frames", [=, this](const httplib::Request& req, httplib::Response& res) {
      last_site = req.get_header_value("X-Site-Id");
      last_sequence = req.get_header_value("X-Sequence");
      last_time = req.get_header_value("X-Capture-Time");
      res.status = status;
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
  std::string last_site, last_sequence, last_time;

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

UploadOutcome send_to(const FixedAnswerServer& server) {
  auto up = Uploader::create(server.url(), "td-01", std::chrono::seconds(5));
  EXPECT_TRUE(up);
  CapturedFrame frame{"\xFF\xD8jpeg", 1783830000123, 640, 360};
  return (*up)->send(frame, 42);
}

TEST(Uploader, SendsTheSiteSequenceAndCaptureTime) {
  FixedAnswerServer server(201, R"({"status":"stored","count":17})");
  const UploadOutcome out = send_to(server);
  EXPECT_EQ(out.kind, UploadOutcome::kStored);
  EXPECT_EQ(out.count, 17);
  EXPECT_EQ(server.last_site, "td-01");
  EXPECT_EQ(server.last_sequence, "42");
  EXPECT_EQ(server.last_time, "1783830000123");
}

TEST(Uploader, TellsRetryableFromFinalAnswers) {
  EXPECT_EQ(send_to(FixedAnswerServer(200, R"({"status":"duplicate"})")).kind,
            UploadOutcome::kDuplicate);
  const UploadOutcome refused =
      send_to(FixedAnswerServer(422, R"({"error":"truncated JPEG","code":"bad_jpeg"})"));
  EXPECT_EQ(refused.kind, UploadOutcome::kRejected);
  EXPECT_EQ(refused.message, "truncated JPEG");
  EXPECT_EQ(send_to(FixedAnswerServer(503, "{}")).kind, UploadOutcome::kRetry);
  EXPECT_EQ(send_to(FixedAnswerServer(429, "{}")).kind, UploadOutcome::kRetry);
}

TEST(Uploader, NoServerMeansRetryWithTheReason) {
  int port;
  {  // a port that was free a moment ago
    httplib::Server probe;
    port = probe.bind_to_any_port("127.0.0.1");
  }
  auto up = Uploader::create("http://127.0.0.1:" + std::to_string(port), "td-01",
                             std::chrono::seconds(2));
  ASSERT_TRUE(up);
  const UploadOutcome out = (*up)->send(CapturedFrame{"x", 1, 1, 1}, 1);
  EXPECT_EQ(out.kind, UploadOutcome::kRetry);
  EXPECT_EQ(out.http_status, 0);
  EXPECT_THAT(out.message, HasSubstr("no answer from the server"));
}

}  // namespace
}  // namespace att
