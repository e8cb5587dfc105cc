// The node's spool (capture/spool.h): what a site on a bad link relies on to lose nothing it
// sampled. Items come back oldest first with every byte intact; an acknowledged item goes and
// only it; a restart (or kill -9) keeps every put that returned; the byte bound drops the
// oldest non-roll-call frames first and counts what it dropped, across restarts too; a spool
// file SQLite cannot read is moved aside rather than stopping the node. Real SQLite files in
// temporary directories.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "capture/spool.h"
#include "tests/support/test_support.h"

namespace att {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using testing::TempDir;

constexpr std::int64_t kRoomy = 64 << 20;  // a bound no test here comes near
constexpr int kAll = 1'000'000;            // an oldest() limit above any count here

// ---------------------------------------------------------------------------------------------
// Helpers

// Opens the spool, failing the test (and returning null) when it cannot.
std::unique_ptr<Spool> open_spool(const fs::path& path, std::int64_t max_bytes = kRoomy,
                                  std::string* recovered = nullptr) {
  auto spool = Spool::open(path, max_bytes, recovered);
  if (!spool) {
    ADD_FAILURE() << "cannot open spool " << path << ": " << spool.error().message;
    return nullptr;
  }
  return std::move(*spool);
}

// Every byte value, '\0' included, repeated to `size` bytes, shifted by `seed` so that
// items differ: a JPEG is arbitrary binary, and the spool must not treat it as text.
std::string binary_body(std::size_t size, std::int64_t seed) {
  std::string body(size, '\0');
  for (std::size_t i = 0; i < size; ++i) body[i] = static_cast<char>((i + seed * 7) % 256);
  return body;
}

// A frame of `body_size` bytes plus a two-byte meta "{}": body_size + 2 bytes in the spool.
SpoolItem frame(std::int64_t sequence, std::size_t body_size = 98, bool roll_call = false) {
  SpoolItem item;
  item.sequence = sequence;
  item.capture_time_ms = 1'700'000'000'000 + sequence * 2'000;
  item.kind = "frame";
  item.roll_call = roll_call;
  item.body = binary_body(body_size, sequence);
  item.meta = "{}";
  return item;
}

SpoolItem roll_call_frame(std::int64_t sequence, std::size_t body_size = 98) {
  return frame(sequence, body_size, /*roll_call=*/true);
}

// The bytes an item counts for against the bound: its body and its metadata.
std::int64_t item_bytes(const SpoolItem& item) {
  return static_cast<std::int64_t>(item.body.size() + item.meta.size());
}

std::int64_t total_bytes(const std::vector<SpoolItem>& items) {
  std::int64_t total = 0;
  for (const auto& item : items) total += item_bytes(item);
  return total;
}

void put_ok(Spool& spool, const SpoolItem& item) {
  const Status put = spool.put(item);
  EXPECT_TRUE(put) << "put(" << item.sequence << ") failed: " << put.error().message;
}

std::vector<SpoolItem> all_items(Spool& spool) {
  auto items = spool.oldest(kAll);
  if (!items) {
    ADD_FAILURE() << "oldest() failed: " << items.error().message;
    return {};
  }
  return std::move(*items);
}

std::vector<std::int64_t> sequences(const std::vector<SpoolItem>& items) {
  std::vector<std::int64_t> out;
  for (const auto& item : items) out.push_back(item.sequence);
  return out;
}

// The sequences held, oldest first: what the uploader would send next, in that order.
std::vector<std::int64_t> held_sequences(Spool& spool) {
  return sequences(all_items(spool));
}

SpoolStats stats_of(Spool& spool) {
  auto stats = spool.stats();
  if (!stats) {
    ADD_FAILURE() << "stats() failed: " << stats.error().message;
    return {};
  }
  return *stats;
}

// Every field, compared one by one so that a failure names the field.
void expect_same_item(const SpoolItem& actual, const SpoolItem& expected) {
  SCOPED_TRACE("sequence " + std::to_string(expected.sequence));
  EXPECT_EQ(actual.sequence, expected.sequence);
  EXPECT_EQ(actual.capture_time_ms, expected.capture_time_ms);
  EXPECT_EQ(actual.kind, expected.kind);
  EXPECT_EQ(actual.roll_call, expected.roll_call);
  EXPECT_EQ(actual.body.size(), expected.body.size());
  EXPECT_TRUE(actual.body == expected.body) << "body bytes differ";
  EXPECT_EQ(actual.meta, expected.meta);
}

void expect_same_items(const std::vector<SpoolItem>& actual,
                       const std::vector<SpoolItem>& expected) {
  ASSERT_THAT(sequences(actual), ElementsAreArray(sequences(expected)));
  for (std::size_t i = 0; i < expected.size(); ++i) expect_same_item(actual[i], expected[i]);
}

// Items of every shape the node spools: frames with binary bodies, a roll call, a health
// report, an empty body, a sequence gap (sequences increase but need not be contiguous).
std::vector<SpoolItem> varied_items() {
  std::vector<SpoolItem> items;
  SpoolItem first = frame(1, 4096);
  first.body[0] = '\0';  // a body starting with NUL must not read back as empty
  first.body[1] = '\xff';
  first.meta = R"({"width":640,"height":480,"bytes":4096})";
  items.push_back(first);

  items.push_back(roll_call_frame(2, 1000));

  SpoolItem health;
  health.sequence = 3;
  health.capture_time_ms = 1'700'000'123'456;
  health.kind = "health";
  health.body = R"({"camera":"ok","disk_free_mb":1234,"note":"ümlaut \u0000"})";
  health.meta = R"({"flags":["camera_ok"]})";
  items.push_back(health);

  SpoolItem empty = frame(4, 0);
  empty.meta = "";
  items.push_back(empty);

  items.push_back(frame(10, 300));  // a gap: 5..9 were acknowledged before a restart, say
  return items;
}

// The contract's dropping rule, applied to a list, to compare the spool against: until the
// new item fits, drop the oldest item that is not a roll call, or, when none is left, the
// oldest roll call.
struct BoundModel {
  std::int64_t max_bytes = 0;
  std::vector<SpoolItem> held;  // in sequence order
  std::int64_t dropped = 0;

  void put(const SpoolItem& item) {
    while (total_bytes(held) + item_bytes(item) > max_bytes) {
      auto victim = std::ranges::find_if(held, [](const SpoolItem& i) { return !i.roll_call; });
      if (victim == held.end()) victim = held.begin();
      held.erase(victim);
      ++dropped;
    }
    held.push_back(item);
  }
};

// ---------------------------------------------------------------------------------------------
// Order and content

// What was sampled reaches the service byte for byte, in the order it was sampled.
TEST(Spool, OldestReturnsItemsInSequenceOrderWithEveryFieldIntact) {
  TempDir dir;
  auto spool = open_spool(dir / "spool.db");
  ASSERT_TRUE(spool);
  const auto items = varied_items();
  for (const auto& item : items) put_ok(*spool, item);

  expect_same_items(all_items(*spool), items);
  const SpoolStats stats = stats_of(*spool);
  EXPECT_EQ(stats.items, static_cast<std::int64_t>(items.size()));
  EXPECT_EQ(stats.bytes, total_bytes(items));
  EXPECT_EQ(stats.dropped, 0);
  EXPECT_EQ(stats.dropped_unreported, 0);
}

// Sequence order, not insertion order: a put that arrives late still goes out in its place.
TEST(Spool, OldestOrdersBySequenceNotByPutOrder) {
  TempDir dir;
  auto spool = open_spool(dir / "spool.db");
  ASSERT_TRUE(spool);
  for (const std::int64_t sequence : {5, 2, 9, 1}) put_ok(*spool, frame(sequence));
  EXPECT_THAT(held_sequences(*spool), ElementsAre(1, 2, 5, 9));
}

// The uploader sends a batch of at most `limit`; reading does not remove anything.
TEST(Spool, OldestRespectsLimitAndRemovesNothing) {
  TempDir dir;
  auto spool = open_spool(dir / "spool.db");
  ASSERT_TRUE(spool);
  for (std::int64_t sequence = 1; sequence <= 5; ++sequence) put_ok(*spool, frame(sequence));

  auto two = spool->oldest(2);
  ASSERT_TRUE(two) << two.error().message;
  EXPECT_THAT(sequences(*two), ElementsAre(1, 2));
  expect_same_item((*two)[0], frame(1));
  expect_same_item((*two)[1], frame(2));

  auto again = spool->oldest(2);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_THAT(sequences(*again), ElementsAre(1, 2));

  auto more_than_held = spool->oldest(100);
  ASSERT_TRUE(more_than_held) << more_than_held.error().message;
  EXPECT_THAT(sequences(*more_than_held), ElementsAre(1, 2, 3, 4, 5));
  EXPECT_EQ(stats_of(*spool).items, 5);
}

TEST(Spool, EmptySpoolHasNothingToSend) {
  TempDir dir;
  auto spool = open_spool(dir / "spool.db");
  ASSERT_TRUE(spool);
  EXPECT_TRUE(all_items(*spool).empty());
  const SpoolStats stats = stats_of(*spool);
  EXPECT_EQ(stats.items, 0);
  EXPECT_EQ(stats.bytes, 0);
  EXPECT_EQ(stats.dropped, 0);
  EXPECT_EQ(stats.dropped_unreported, 0);
}

// ---------------------------------------------------------------------------------------------
// Acknowledgement

// Once the service has an item, it leaves the spool, and nothing else does.
TEST(Spool, AcknowledgeRemovesExactlyThatItem) {
  TempDir dir;
  auto spool = open_spool(dir / "spool.db");
  ASSERT_TRUE(spool);
  for (std::int64_t sequence = 1; sequence <= 5; ++sequence) {
    put_ok(*spool, frame(sequence, 100 + sequence));
  }

  const Status ack = spool->acknowledge(3);
  ASSERT_TRUE(ack) << ack.error().message;

  const auto held = all_items(*spool);
  EXPECT_THAT(sequences(held), ElementsAre(1, 2, 4, 5));
  for (const auto& item : held) expect_same_item(item, frame(item.sequence, 100 + item.sequence));
  const SpoolStats stats = stats_of(*spool);
  EXPECT_EQ(stats.items, 4);
  EXPECT_EQ(stats.bytes, total_bytes(held));
}

// A retried upload is acknowledged twice; the second acknowledgement (or one for a sequence
// never spooled) is not an error and removes nothing.
TEST(Spool, AcknowledgingAnUnknownSequenceIsOkAndChangesNothing) {
  TempDir dir;
  auto spool = open_spool(dir / "spool.db");
  ASSERT_TRUE(spool);
  for (std::int64_t sequence = 1; sequence <= 3; ++sequence) put_ok(*spool, frame(sequence));
  ASSERT_TRUE(spool->acknowledge(2));
  const SpoolStats before = stats_of(*spool);

  const Status second = spool->acknowledge(2);
  EXPECT_TRUE(second) << second.error().message;
  const Status never = spool->acknowledge(999);
  EXPECT_TRUE(never) << never.error().message;

  EXPECT_THAT(held_sequences(*spool), ElementsAre(1, 3));
  const SpoolStats after = stats_of(*spool);
  EXPECT_EQ(after.items, before.items);
  EXPECT_EQ(after.bytes, before.bytes);
  EXPECT_EQ(after.dropped, 0);
}

TEST(Spool, StatsFollowPutsAndAcknowledgementsDownToEmpty) {
  TempDir dir;
  auto spool = open_spool(dir / "spool.db");
  ASSERT_TRUE(spool);
  std::vector<SpoolItem> held;
  for (std::int64_t sequence = 1; sequence <= 4; ++sequence) {
    held.push_back(frame(sequence, 50 * sequence));
    put_ok(*spool, held.back());
    const SpoolStats stats = stats_of(*spool);
    EXPECT_EQ(stats.items, static_cast<std::int64_t>(held.size()));
    EXPECT_EQ(stats.bytes, total_bytes(held));
  }
  while (!held.empty()) {
    ASSERT_TRUE(spool->acknowledge(held.front().sequence));
    held.erase(held.begin());
    const SpoolStats stats = stats_of(*spool);
    EXPECT_EQ(stats.items, static_cast<std::int64_t>(held.size()));
    EXPECT_EQ(stats.bytes, total_bytes(held));
  }
  EXPECT_TRUE(all_items(*spool).empty());
  EXPECT_EQ(stats_of(*spool).dropped, 0);  // acknowledged is not dropped
}

// ---------------------------------------------------------------------------------------------
// Duplicates

// A sequence is the item's identity at the service: a second item under it would be either
// lost or mistaken for a retry, so the spool refuses it and keeps the first.
TEST(Spool, DuplicateSequenceIsRefusedAndChangesNothing) {
  TempDir dir;
  auto spool = open_spool(dir / "spool.db");
  ASSERT_TRUE(spool);
  for (std::int64_t sequence = 1; sequence <= 3; ++sequence) put_ok(*spool, frame(sequence));
  const SpoolStats before = stats_of(*spool);

  SpoolItem impostor = frame(2, 500, /*roll_call=*/true);
  impostor.capture_time_ms = 42;
  impostor.meta = R"({"impostor":true})";
  const Status put = spool->put(impostor);
  ASSERT_FALSE(put) << "a second item with sequence 2 was accepted";
  EXPECT_FALSE(put.error().message.empty());

  const auto held = all_items(*spool);
  ASSERT_THAT(sequences(held), ElementsAre(1, 2, 3));
  expect_same_item(held[1], frame(2));
  const SpoolStats after = stats_of(*spool);
  EXPECT_EQ(after.items, before.items);
  EXPECT_EQ(after.bytes, before.bytes);
  EXPECT_EQ(after.dropped, 0);
}

// On a full spool, a refused duplicate must not have dropped anything to make room first.
TEST(Spool, DuplicateSequenceOnAFullSpoolDropsNothing) {
  TempDir dir;
  auto spool = open_spool(dir / "spool.db", /*max_bytes=*/10 * 100);
  ASSERT_TRUE(spool);
  for (std::int64_t sequence = 1; sequence <= 10; ++sequence) put_ok(*spool, frame(sequence));
  ASSERT_EQ(stats_of(*spool).bytes, 1000);

  EXPECT_FALSE(spool->put(frame(5)));

  EXPECT_THAT(held_sequences(*spool), ElementsAre(1, 2, 3, 4, 5, 6, 7, 8, 9, 10));
  const SpoolStats stats = stats_of(*spool);
  EXPECT_EQ(stats.bytes, 1000);
  EXPECT_EQ(stats.dropped, 0);
  EXPECT_EQ(stats.dropped_unreported, 0);
}

// A spool never takes the disk's last bytes (keep_free): when the disk has no room even after
// dropping everything, the put is refused with the reason, and nothing changes. (The floor
// dropping the oldest items on a disk that fills is in the reliability suite, on a tmpfs.)
TEST(Spool, APutThatWouldTakeTheKeptFreeSpaceIsRefused) {
  TempDir dir;
  auto spool = open_spool(dir / "spool.db");
  ASSERT_TRUE(spool);
  put_ok(*spool, frame(1));
  const auto available = static_cast<std::int64_t>(fs::space(dir.path()).available);
  spool->keep_free(available + (1LL << 30));  // more than the disk has free

  const Status put = spool->put(frame(2));

  ASSERT_FALSE(put);
  EXPECT_THAT(put.error().message, HasSubstr("the disk is full"));
  EXPECT_THAT(held_sequences(*spool), ElementsAre(1));
  EXPECT_EQ(stats_of(*spool).dropped, 0);
  spool->keep_free(0);  // no floor: as before
  put_ok(*spool, frame(2));
  EXPECT_THAT(held_sequences(*spool), ElementsAre(1, 2));
}

// ---------------------------------------------------------------------------------------------
// Restart

// A node restarted (power cut, update) resumes sending exactly what it had not delivered.
TEST(Spool, ItemsSurviveCloseAndReopenInOrder) {
  TempDir dir;
  const fs::path path = dir / "spool.db";
  const auto items = varied_items();
  {
    auto spool = open_spool(path);
    ASSERT_TRUE(spool);
    for (const auto& item : items) put_ok(*spool, item);
  }
  auto spool = open_spool(path);
  ASSERT_TRUE(spool);
  expect_same_items(all_items(*spool), items);
  const SpoolStats stats = stats_of(*spool);
  EXPECT_EQ(stats.items, static_cast<std::int64_t>(items.size()));
  EXPECT_EQ(stats.bytes, total_bytes(items));
}

// What the service acknowledged before the restart is not sent again after it.
TEST(Spool, AcknowledgementsSurviveReopen) {
  TempDir dir;
  const fs::path path = dir / "spool.db";
  {
    auto spool = open_spool(path);
    ASSERT_TRUE(spool);
    for (std::int64_t sequence = 1; sequence <= 4; ++sequence) put_ok(*spool, frame(sequence));
    ASSERT_TRUE(spool->acknowledge(1));
    ASSERT_TRUE(spool->acknowledge(3));
  }
  auto spool = open_spool(path);
  ASSERT_TRUE(spool);
  EXPECT_THAT(held_sequences(*spool), ElementsAre(2, 4));
  EXPECT_EQ(stats_of(*spool).items, 2);
  // Puts after the reopen go on from there.
  put_ok(*spool, frame(5));
  EXPECT_THAT(held_sequences(*spool), ElementsAre(2, 4, 5));
}

// Frames dropped while the link was down are reported to the service even if the node
// restarted before it could say so.
TEST(Spool, DroppedCountersPersistAcrossReopen) {
  TempDir dir;
  const fs::path path = dir / "spool.db";
  {
    auto spool = open_spool(path, /*max_bytes=*/3 * 100);
    ASSERT_TRUE(spool);
    for (std::int64_t sequence = 1; sequence <= 8; ++sequence) put_ok(*spool, frame(sequence));
    const SpoolStats stats = stats_of(*spool);
    ASSERT_EQ(stats.dropped, 5);
    ASSERT_EQ(stats.dropped_unreported, 5);
    ASSERT_TRUE(spool->dropped_reported(2));
  }
  auto spool = open_spool(path, /*max_bytes=*/3 * 100);
  ASSERT_TRUE(spool);
  const SpoolStats stats = stats_of(*spool);
  EXPECT_EQ(stats.dropped, 5);
  EXPECT_EQ(stats.dropped_unreported, 3);
  EXPECT_EQ(stats.items, 3);
  EXPECT_THAT(held_sequences(*spool), ElementsAre(6, 7, 8));
}

// ---------------------------------------------------------------------------------------------
// The byte bound

// A link down for longer than the spool holds: the disk never fills past the bound, the
// oldest ordinary frames are given up first, the roll-call frames (the evidence of the record)
// are kept while any ordinary frame is left to drop, and every drop is counted.
TEST(SpoolBound, DropsOldestNonRollCallsFirstAndCountsThem) {
  TempDir dir;
  constexpr std::int64_t kMax = 10 * 100;  // ten 100-byte frames
  auto spool = open_spool(dir / "spool.db", kMax);
  ASSERT_TRUE(spool);
  BoundModel model;
  model.max_bytes = kMax;

  // 1..40: ordinary frames with four roll calls among them; 41..50: roll calls only.
  auto is_roll_call = [](std::int64_t s) {
    return s == 2 || s == 3 || s == 9 || s == 17 || s > 40;
  };
  for (std::int64_t sequence = 1; sequence <= 50; ++sequence) {
    SCOPED_TRACE("after put " + std::to_string(sequence));
    const SpoolItem item = frame(sequence, 98, is_roll_call(sequence));
    put_ok(*spool, item);
    model.put(item);

    const SpoolStats stats = stats_of(*spool);
    EXPECT_LE(stats.bytes, kMax);
    EXPECT_EQ(stats.bytes, total_bytes(model.held));
    EXPECT_EQ(stats.items, static_cast<std::int64_t>(model.held.size()));
    EXPECT_THAT(held_sequences(*spool), ElementsAreArray(sequences(model.held)));
    EXPECT_EQ(stats.dropped, model.dropped);
    EXPECT_EQ(stats.dropped_unreported, model.dropped);

    if (sequence == 40) {
      // The four early roll calls outlived 26 later ordinary frames.
      EXPECT_THAT(held_sequences(*spool), ElementsAre(2, 3, 9, 17, 35, 36, 37, 38, 39, 40));
      EXPECT_EQ(stats.dropped, 30);
    }
  }
  // With no ordinary frame left, the oldest roll calls went.
  EXPECT_THAT(held_sequences(*spool), ElementsAre(41, 42, 43, 44, 45, 46, 47, 48, 49, 50));
  EXPECT_EQ(stats_of(*spool).dropped, 40);
}

// A large frame makes room by dropping as many old ordinary frames as it needs, no more.
TEST(SpoolBound, ALargePutDropsAsManyAsItNeeds) {
  TempDir dir;
  constexpr std::int64_t kMax = 1000;
  auto spool = open_spool(dir / "spool.db", kMax);
  ASSERT_TRUE(spool);
  put_ok(*spool, roll_call_frame(1));
  put_ok(*spool, roll_call_frame(2));
  for (std::int64_t sequence = 3; sequence <= 10; ++sequence) put_ok(*spool, frame(sequence));
  ASSERT_EQ(stats_of(*spool).bytes, 1000);

  put_ok(*spool, frame(11, 348));  // 350 bytes: 650 may stay, so four 100-byte frames go

  EXPECT_THAT(held_sequences(*spool), ElementsAre(1, 2, 7, 8, 9, 10, 11));
  const SpoolStats stats = stats_of(*spool);
  EXPECT_EQ(stats.bytes, 950);
  EXPECT_EQ(stats.dropped, 4);
  EXPECT_EQ(stats.dropped_unreported, 4);
}

// The item being uploaded is dropped last: dropping it would count as lost a frame that then
// arrives at the service.
TEST(SpoolBound, TheItemBeingSentIsDroppedLast) {
  TempDir dir;
  auto spool = open_spool(dir / "spool.db", /*max_bytes=*/300);
  ASSERT_TRUE(spool);
  for (std::int64_t sequence = 1; sequence <= 3; ++sequence) put_ok(*spool, frame(sequence));
  spool->set_sending(1);
  put_ok(*spool, frame(4));  // the oldest, 1, is in flight: 2 goes instead
  EXPECT_THAT(held_sequences(*spool), ElementsAre(1, 3, 4));
  put_ok(*spool, frame(5, 298));  // nothing else left to drop: then the one in flight too
  EXPECT_THAT(held_sequences(*spool), ElementsAre(5));
  spool->set_sending(-1);
  put_ok(*spool, frame(6, 298));
  EXPECT_THAT(held_sequences(*spool), ElementsAre(6));
  EXPECT_EQ(stats_of(*spool).dropped, 5);
}

// An item exactly the size of the bound fits, at the cost of everything else.
TEST(SpoolBound, AnItemExactlyTheBoundFits) {
  TempDir dir;
  auto spool = open_spool(dir / "spool.db", /*max_bytes=*/1000);
  ASSERT_TRUE(spool);
  put_ok(*spool, roll_call_frame(1));
  put_ok(*spool, frame(2));

  put_ok(*spool, frame(3, 998));

  EXPECT_THAT(held_sequences(*spool), ElementsAre(3));
  const SpoolStats stats = stats_of(*spool);
  EXPECT_EQ(stats.bytes, 1000);
  EXPECT_EQ(stats.dropped, 2);
}

// Reporting drops to the service lowers what is left to report, never the total.
TEST(SpoolBound, DroppedReportedLowersUnreportedButNotDropped) {
  TempDir dir;
  auto spool = open_spool(dir / "spool.db", /*max_bytes=*/2 * 100);
  ASSERT_TRUE(spool);
  for (std::int64_t sequence = 1; sequence <= 9; ++sequence) put_ok(*spool, frame(sequence));
  ASSERT_EQ(stats_of(*spool).dropped, 7);

  const Status reported = spool->dropped_reported(3);
  ASSERT_TRUE(reported) << reported.error().message;
  SpoolStats stats = stats_of(*spool);
  EXPECT_EQ(stats.dropped, 7);
  EXPECT_EQ(stats.dropped_unreported, 4);

  ASSERT_TRUE(spool->dropped_reported(4));
  stats = stats_of(*spool);
  EXPECT_EQ(stats.dropped, 7);
  EXPECT_EQ(stats.dropped_unreported, 0);

  // New drops are unreported again, on top of the total.
  put_ok(*spool, frame(10));
  stats = stats_of(*spool);
  EXPECT_EQ(stats.dropped, 8);
  EXPECT_EQ(stats.dropped_unreported, 1);
  EXPECT_EQ(stats.items, 2);  // dropping counters does not touch the items
}

// A frame that could never fit (a misconfigured bound, a huge health report) is refused
// without first throwing away the frames that are waiting.
TEST(SpoolBound, AnItemLargerThanTheBoundIsRefusedAndChangesNothing) {
  TempDir dir;
  auto spool = open_spool(dir / "spool.db", /*max_bytes=*/1000);
  ASSERT_TRUE(spool);
  for (std::int64_t sequence = 1; sequence <= 3; ++sequence) put_ok(*spool, frame(sequence));
  const SpoolStats before = stats_of(*spool);

  const Status put = spool->put(frame(4, 999));  // 1001 bytes
  ASSERT_FALSE(put) << "an item larger than the whole spool was accepted";
  EXPECT_FALSE(put.error().message.empty());

  EXPECT_THAT(held_sequences(*spool), ElementsAre(1, 2, 3));
  const SpoolStats after = stats_of(*spool);
  EXPECT_EQ(after.items, before.items);
  EXPECT_EQ(after.bytes, before.bytes);
  EXPECT_EQ(after.dropped, 0);
  EXPECT_EQ(after.dropped_unreported, 0);

  // The refusal does not use up the sequence.
  put_ok(*spool, frame(4));
  EXPECT_THAT(held_sequences(*spool), ElementsAre(1, 2, 3, 4));
}

// ---------------------------------------------------------------------------------------------
// A damaged file

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The files in `dir` whose names start with `prefix`.
std::vector<fs::path> files_starting_with(const fs::path& dir, const std::string& prefix) {
  std::vector<fs::path> out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().filename().string().starts_with(prefix)) out.push_back(entry.path());
  }
  return out;
}

// A spool file destroyed (SD card error, a bad copy) must not keep the node from sampling:
// the file is kept aside for a person to look at, its name saying when, and sampling goes on
// into a fresh spool.
TEST(SpoolRecovery, UnreadableFileIsMovedAsideAndAFreshSpoolStarted) {
  TempDir dir;
  const fs::path path = dir / "spool.db";
  std::string garbage;
  for (int i = 0; i < 200; ++i) garbage += "this is not a database\n";
  testing::write_file(path, garbage);

  std::string recovered;
  const std::int64_t before_ms = now_ms();
  auto spool = open_spool(path, kRoomy, &recovered);
  const std::int64_t after_ms = now_ms();
  ASSERT_TRUE(spool);
  EXPECT_TRUE(all_items(*spool).empty());
  EXPECT_EQ(stats_of(*spool).items, 0);

  const auto moved = files_starting_with(dir.path(), "spool.db.corrupt-");
  ASSERT_EQ(moved.size(), 1u) << "expected one spool.db.corrupt-<ms> in " << dir.path();
  EXPECT_EQ(testing::read_file(moved[0]), garbage) << "the moved-aside file is not the original";

  const std::string suffix = moved[0].filename().string().substr(strlen("spool.db.corrupt-"));
  ASSERT_FALSE(suffix.empty());
  ASSERT_TRUE(std::ranges::all_of(suffix, [](char c) { return c >= '0' && c <= '9'; }))
      << "suffix is not ms since epoch: " << suffix;
  const std::int64_t stamp = std::stoll(suffix);
  EXPECT_GE(stamp, before_ms - 1000);
  EXPECT_LE(stamp, after_ms + 1000);

  EXPECT_FALSE(recovered.empty()) << "recovery must say why";
  EXPECT_THAT(recovered, HasSubstr(moved[0].filename().string()));

  // The fresh spool works, and is a good spool on the next start.
  put_ok(*spool, frame(1));
  spool.reset();
  std::string recovered_again;
  auto reopened = open_spool(path, kRoomy, &recovered_again);
  ASSERT_TRUE(reopened);
  EXPECT_TRUE(recovered_again.empty()) << recovered_again;
  EXPECT_THAT(held_sequences(*reopened), ElementsAre(1));
  EXPECT_EQ(files_starting_with(dir.path(), "spool.db.corrupt-").size(), 1u);
}

// A healthy spool is opened as it is, with nothing said about recovery.
TEST(SpoolRecovery, HealthyFileIsNotRecovered) {
  TempDir dir;
  const fs::path path = dir / "spool.db";
  std::string recovered;
  {
    auto spool = open_spool(path, kRoomy, &recovered);
    ASSERT_TRUE(spool);
    put_ok(*spool, frame(1));
  }
  EXPECT_TRUE(recovered.empty()) << recovered;
  auto spool = open_spool(path, kRoomy, &recovered);
  ASSERT_TRUE(spool);
  EXPECT_TRUE(recovered.empty()) << recovered;
  EXPECT_THAT(held_sequences(*spool), ElementsAre(1));
  EXPECT_TRUE(files_starting_with(dir.path(), "spool.db.corrupt-").empty());
}

// ---------------------------------------------------------------------------------------------
// Durability under kill -9

constexpr int kDurableItems = 50;
constexpr int kKillAfter = 20;

// Large enough bodies that each put takes a moment, so that the kill lands mid-way.
SpoolItem durable_item(std::int64_t sequence) {
  SpoolItem item = frame(sequence, 32 * 1024, /*roll_call=*/sequence % 10 == 0);
  item.meta = R"({"n":)" + std::to_string(sequence) + "}";
  return item;
}

// The child: puts the items one after another, writing to `report_fd` the number of puts
// that have returned OK after each. Never returns; exits 2..4 on a failure of its own.
[[noreturn]] void put_and_report(const fs::path& path, int report_fd) {
  auto spool = Spool::open(path, kRoomy);
  if (!spool) _exit(2);
  for (std::int32_t done = 1; done <= kDurableItems; ++done) {
    if (!(*spool)->put(durable_item(done))) _exit(3);
    if (write(report_fd, &done, sizeof done) != sizeof done) _exit(4);
  }
  _exit(0);
}

// Reads one whole int32 from `fd`; false at end of file.
bool read_count(int fd, std::int32_t* out) {
  char* p = reinterpret_cast<char*>(out);
  std::size_t got = 0;
  while (got < sizeof *out) {
    const ssize_t n = read(fd, p + got, sizeof *out - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    got += static_cast<std::size_t>(n);
  }
  return true;
}

// Power cut or kill -9 in the middle of sampling: every put that returned is in the spool
// afterwards, in order, once each. (The put in flight at the kill may or may not be there.)
TEST(SpoolDurability, EveryPutThatReturnedSurvivesKill9) {
  TempDir dir;
  const fs::path path = dir / "spool.db";
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    put_and_report(path, fds[1]);
  }
  close(fds[1]);

  // Read reports until the child is gone, killing it once it has done kKillAfter puts.
  std::int32_t returned = 0;
  bool killed = false;
  std::int32_t count = 0;
  while (read_count(fds[0], &count)) {
    EXPECT_EQ(count, returned + 1);
    returned = count;
    if (!killed && returned >= kKillAfter) {
      ASSERT_EQ(kill(pid, SIGKILL), 0);
      killed = true;
    }
  }
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  if (WIFEXITED(status)) {
    // Finishing all puts before the signal arrived is allowed; failing is not.
    ASSERT_EQ(WEXITSTATUS(status), 0) << "the child's own open/put/write failed";
    ASSERT_EQ(returned, kDurableItems);
  } else {
    ASSERT_TRUE(WIFSIGNALED(status));
    EXPECT_EQ(WTERMSIG(status), SIGKILL);
  }
  ASSERT_GE(returned, kKillAfter);
  RecordProperty("puts_returned_before_kill", returned);

  auto spool = open_spool(path);
  ASSERT_TRUE(spool);
  const auto held = all_items(*spool);
  // 1..returned for certain, and perhaps the one in flight, all once and in order.
  ASSERT_GE(held.size(), static_cast<std::size_t>(returned));
  ASSERT_LE(held.size(), static_cast<std::size_t>(std::min(returned + 1, kDurableItems)));
  for (std::size_t i = 0; i < held.size(); ++i) {
    EXPECT_EQ(held[i].sequence, static_cast<std::int64_t>(i + 1));
    expect_same_item(held[i], durable_item(static_cast<std::int64_t>(i + 1)));
  }
  EXPECT_EQ(stats_of(*spool).items, static_cast<std::int64_t>(held.size()));
  EXPECT_EQ(stats_of(*spool).bytes, total_bytes(held));
}

// ---------------------------------------------------------------------------------------------
// Nowhere to write

// A state directory that cannot exist (misconfigured path, read-only mount) is an error a
// person can act on, naming where the spool was to be.
TEST(SpoolOpen, FailsClearlyWhereNoSpoolCanBeMade) {
  const fs::path path = "/proc/att-spool-test-no-such-dir/spool.db";
  std::string recovered;
  auto spool = Spool::open(path, kRoomy, &recovered);
  ASSERT_FALSE(spool) << "opened a spool at " << path;
  EXPECT_THAT(spool.error().message, HasSubstr("/proc/att-spool-test-no-such-dir"));
  EXPECT_FALSE(fs::exists(path));
}

}  // namespace
}  // namespace att
