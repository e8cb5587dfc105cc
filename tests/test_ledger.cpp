// The attendance ledger and audit trail (issue 6): the hash encoding pinned to values an
// auditor can recompute elsewhere, appends from many threads forming one chain, the
// append-only triggers, and verify naming each kind of tampering done behind them (triggers
// dropped through a raw sqlite3 connection): an edited, a deleted, a reordered, an inserted
// and a truncated entry, on real SQLite files; and `attendance-server verify` itself.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "analysis/domain/ledger.h"
#include "analysis/domain/store.h"
#include "analysis/store/ledger_file.h"
#include "analysis/store/migrations.h"
#include "analysis/store/sqlite_store.h"
#include "tests/support/store_backends.h"
#include "tests/support/test_support.h"

namespace {

namespace fs = std::filesystem;
using att::Chain;
using att::LedgerEntry;
using att::LedgerProblem;
using att::LedgerQuery;
using att::ProblemKind;
using att::SqliteStore;
using att::testing::RawDb;
using att::testing::TempDir;
using att::testing::TestStore;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

void drop_triggers(RawDb& db) {
  for (const char* table : {"ledger", "audit_trail"}) {
    for (const char* what : {"update", "delete", "replace"}) {
      db.exec(std::string("DROP TRIGGER ") + table + "_no_" + what);
    }
  }
}

std::unique_ptr<SqliteStore> open_ok(const fs::path& path) {
  auto s = SqliteStore::open(path);
  EXPECT_TRUE(s) << s.error().message;
  return s ? std::move(*s) : nullptr;
}

// A roll call of td-01 at 07:45 + i minutes on 12 July 2027 (UTC+7), recorded 2.5 s later.
LedgerEntry roll_call(int i, const std::string& site = "td-01") {
  const std::int64_t at = 1815353100000 + i * 60000LL;
  LedgerEntry e;
  e.kind = "roll_call";
  e.site_id = site;
  const int minute = 7 * 60 + 45 + i;
  char hhmm[8];
  std::snprintf(hhmm, sizeof hhmm, "%02d%02d", minute / 60 % 24, minute % 60);
  e.subject = "roll_call/" + site + "/2027-07-12/morning/" + hhmm;
  e.at_ms = at;
  e.recorded_at_ms = at + 2500;
  e.actor = "system";
  e.body = *att::canonical_body({{"count", 40 + i}, {"expected", 60}});
  return e;
}

LedgerEntry view(int i) {
  LedgerEntry e;
  e.kind = "view";
  e.site_id = "td-01";
  e.subject = "roll_call/td-01/2027-07-12/morning/0745";
  e.at_ms = 1815400000000 + i * 1000LL;
  e.recorded_at_ms = e.at_ms;
  e.actor = "auditor-" + std::to_string(i);
  e.body = R"({"what":"evidence"})";
  return e;
}

// A database with 6 ledger entries and 3 audit trail entries, its store closed, its triggers
// dropped: ready to be tampered with.
struct Tampered {
  TempDir dir;
  fs::path db = dir / "attendance.db";
  std::vector<LedgerEntry> ledger, audit;  // as appended

  Tampered() {
    {
      auto store = open_ok(db);
      for (int i = 0; i < 6; ++i) ledger.push_back(*store->append(Chain::kLedger, roll_call(i)));
      for (int i = 0; i < 3; ++i) audit.push_back(*store->append(Chain::kAudit, view(i)));
    }
    RawDb raw(db);
    drop_triggers(raw);
  }
  std::vector<LedgerProblem> problems() {
    auto report = att::verify_database(db);
    EXPECT_TRUE(report) << report.error().message;
    return report ? report->problems : std::vector<LedgerProblem>{};
  }
};

LedgerQuery query(const std::string& kind, const std::string& site_id = "",
                  const std::string& subject = "", std::int64_t from_seq = 0, int limit = 1000) {
  LedgerQuery q;
  q.kind = kind;
  q.site_id = site_id;
  q.subject = subject;
  q.from_seq = from_seq;
  q.limit = limit;
  return q;
}

std::vector<std::string> described(const std::vector<LedgerProblem>& problems) {
  std::vector<std::string> out;
  for (const auto& p : problems) out.push_back(att::describe(p));
  return out;
}

// ----------------------------------------------------------------------------------------
// The hash

TEST(LedgerHash, IsSha256OfTheEightFieldsAsNetstrings) {
  LedgerEntry e;
  e.prev_hash = att::genesis_hash();
  e.kind = "alert";
  e.site_id = "td-01";
  e.subject = "a/1";
  e.at_ms = 5;
  e.recorded_at_ms = 6;
  e.actor = "system";
  e.body = "{}";
  e.seq = 99;          // not hashed
  e.hash = "ignored";  // not hashed
  EXPECT_EQ(att::ledger_hash_input(e),
            "64:0000000000000000000000000000000000000000000000000000000000000000,5:alert,5:td-01,"
            "3:a/1,1:5,1:6,6:system,2:{},");
  // Computed with Python's hashlib from the bytes above (the README's recipe).
  EXPECT_EQ(att::ledger_hash(e),
            "01f210a53a44d29d400772a58b917c6048716a162ec7c971da8e1dc5835060a0");

  // Lengths count bytes (UTF-8), not characters.
  LedgerEntry r = roll_call(0);
  r.prev_hash = att::genesis_hash();
  r.body = *att::canonical_body({{"count", 57}, {"note", "Bản Giang"}});
  EXPECT_EQ(r.body, R"({"count":57,"note":"Bản Giang"})");
  EXPECT_THAT(att::ledger_hash_input(r), HasSubstr(",33:{\"count\":57,\"note\":\"Bản Giang\"},"));
  EXPECT_EQ(att::ledger_hash(r),
            "54dc00d3bb446e90f1d148e85d7830b9a0c13a07ec39c7b97064485379b8548b");
}

TEST(LedgerHash, EveryFieldCountsAndBoundariesCannotShift) {
  LedgerEntry base = roll_call(0);
  base.prev_hash = att::genesis_hash();
  const std::string h = att::ledger_hash(base);
  auto differs = [&](auto change) {
    LedgerEntry e = base;
    change(e);
    return att::ledger_hash(e) != h;
  };
  EXPECT_TRUE(differs([](LedgerEntry& e) { e.prev_hash[0] = '1'; }));
  EXPECT_TRUE(differs([](LedgerEntry& e) { e.kind = "alert"; }));
  EXPECT_TRUE(differs([](LedgerEntry& e) { e.site_id = "td-02"; }));
  EXPECT_TRUE(differs([](LedgerEntry& e) { e.subject += "x"; }));
  EXPECT_TRUE(differs([](LedgerEntry& e) { e.at_ms += 1; }));
  EXPECT_TRUE(differs([](LedgerEntry& e) { e.recorded_at_ms += 1; }));
  EXPECT_TRUE(differs([](LedgerEntry& e) { e.actor = "lan"; }));
  EXPECT_TRUE(differs([](LedgerEntry& e) { e.body = R"({"count":41})"; }));
  EXPECT_FALSE(differs([](LedgerEntry& e) { e.seq = 12; }));
  // A byte moved from one field to the next changes the hash.
  EXPECT_TRUE(differs([](LedgerEntry& e) {
    e.kind = "roll_cal";
    e.site_id = "ltd-01";
  }));
}

TEST(LedgerHash, CanonicalBodyIsCompactWithSortedKeysAndRefusesBadUtf8) {
  nlohmann::json body;
  body["z"] = 1;
  body["a"] = {{"y", true}, {"b", nullptr}};
  body["m"] = "Mường Tè";
  EXPECT_EQ(*att::canonical_body(body), R"({"a":{"b":null,"y":true},"m":"Mường Tè","z":1})");
  auto bad = att::canonical_body({{"name", std::string("\xff\xfe")}});
  ASSERT_FALSE(bad);
  EXPECT_THAT(bad.error().message, HasSubstr("invalid UTF-8"));
}

// ----------------------------------------------------------------------------------------
// Appending through the store

// On both backends (tests/support/store_backends.h).
class LedgerStoreTest : public ::testing::TestWithParam<att::testing::Backend> {};
INSTANTIATE_TEST_SUITE_P(Backends, LedgerStoreTest, att::testing::all_backends(),
                         att::testing::backend_name);

TEST_P(LedgerStoreTest, AppendsOneChainThatVerifies) {
  TestStore store(GetParam());
  ASSERT_EQ(store.error(), "");
  std::vector<LedgerEntry> appended;
  for (int i = 0; i < 5; ++i) {
    auto e = store->append(Chain::kLedger, roll_call(i, i % 2 ? "td-02" : "td-01"));
    ASSERT_TRUE(e) << e.error().message;
    appended.push_back(*e);
  }
  for (size_t i = 0; i < appended.size(); ++i) {
    const LedgerEntry& e = appended[i];
    EXPECT_EQ(e.seq, static_cast<std::int64_t>(i) + 1);
    EXPECT_EQ(e.prev_hash, i == 0 ? att::genesis_hash() : appended[i - 1].hash);
    EXPECT_EQ(e.hash, att::ledger_hash(e));
    EXPECT_EQ(e.hash.size(), 64u);
  }
  auto audit = store->append(Chain::kAudit, view(0));
  ASSERT_TRUE(audit) << audit.error().message;
  EXPECT_EQ(audit->seq, 1);  // a chain of its own
  EXPECT_EQ(audit->prev_hash, att::genesis_hash());

  // Read back as stored, every field.
  auto all = store->entries(Chain::kLedger, {});
  ASSERT_TRUE(all) << all.error().message;
  ASSERT_EQ(all->size(), 5u);
  for (size_t i = 0; i < all->size(); ++i) {
    const LedgerEntry &a = (*all)[i], &b = appended[i];
    EXPECT_EQ(a.seq, b.seq);
    EXPECT_EQ(a.kind, b.kind);
    EXPECT_EQ(a.site_id, b.site_id);
    EXPECT_EQ(a.subject, b.subject);
    EXPECT_EQ(a.at_ms, b.at_ms);
    EXPECT_EQ(a.recorded_at_ms, b.recorded_at_ms);
    EXPECT_EQ(a.actor, b.actor);
    EXPECT_EQ(a.body, b.body);
    EXPECT_EQ(a.prev_hash, b.prev_hash);
    EXPECT_EQ(a.hash, b.hash);
  }
  auto seqs = [&](const LedgerQuery& q, Chain chain = Chain::kLedger) {
    std::vector<std::int64_t> out;
    auto found = store->entries(chain, q);
    EXPECT_TRUE(found) << found.error().message;
    if (found) {
      for (const auto& e : *found) out.push_back(e.seq);
    }
    return out;
  };
  EXPECT_THAT(seqs(query("", "td-02")), ElementsAre(2, 4));
  EXPECT_THAT(seqs(query("", "", appended[2].subject)), ElementsAre(3));
  EXPECT_THAT(seqs(query("alert")), ElementsAre());
  EXPECT_THAT(seqs(query("roll_call", "td-01", "", 2)), ElementsAre(3, 5));
  EXPECT_THAT(seqs(query("", "", "", 2, 2)), ElementsAre(2, 3));
  EXPECT_THAT(seqs(query("view"), Chain::kAudit), ElementsAre(1));

  // The recorded head (ledger.head beside SQLite's file, chain_heads in PostgreSQL) names
  // each chain's last entry.
  auto head = store->recorded_head();
  ASSERT_TRUE(head && *head);
  EXPECT_EQ((*head)->ledger, (att::ChainHead{5, appended[4].hash}));
  EXPECT_EQ((*head)->audit, (att::ChainHead{1, audit->hash}));

  // verify on the live database (the store still open).
  auto report = att::verify_stored_ledger(*store);
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_TRUE(report->intact()) << ::testing::PrintToString(described(report->problems));
  EXPECT_EQ(report->ledger_entries, 5);
  EXPECT_EQ(report->audit_entries, 1);
  EXPECT_TRUE(report->head_found);
}

TEST_P(LedgerStoreTest, ReopenedStoreContinuesTheChain) {
  TestStore store(GetParam());
  ASSERT_EQ(store.error(), "");
  std::string last_hash;
  for (int i = 0; i < 3; ++i) last_hash = store->append(Chain::kLedger, roll_call(i))->hash;
  store.reopen();
  ASSERT_EQ(store.error(), "");
  auto e = store->append(Chain::kLedger, roll_call(3));
  ASSERT_TRUE(e) << e.error().message;
  EXPECT_EQ(e->seq, 4);
  EXPECT_EQ(e->prev_hash, last_hash);
  auto report = att::verify_stored_ledger(*store);
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_TRUE(report->intact()) << ::testing::PrintToString(described(report->problems));
}

TEST_P(LedgerStoreTest, ConcurrentAppendsFromManyThreadsKeepOneUnbrokenChain) {
  TestStore store(GetParam());
  ASSERT_EQ(store.error(), "");
  constexpr int kThreads = 8, kEach = 25;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        LedgerEntry e = roll_call(t * kEach + i, "td-0" + std::to_string(t % 2 + 1));
        if (t % 3 == 0) {
          if (!store->append(Chain::kAudit, view(t * kEach + i))) ++failures;
        }
        if (!store->append(Chain::kLedger, std::move(e))) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures, 0);

  auto all = store->entries(Chain::kLedger, query("", "", "", 0, 0));
  ASSERT_TRUE(all) << all.error().message;
  ASSERT_EQ(all->size(), static_cast<size_t>(kThreads * kEach));
  std::set<std::string> subjects;
  for (size_t i = 0; i < all->size(); ++i) {
    EXPECT_EQ((*all)[i].seq, static_cast<std::int64_t>(i) + 1);
    EXPECT_EQ((*all)[i].prev_hash, i == 0 ? att::genesis_hash() : (*all)[i - 1].hash);
    subjects.insert((*all)[i].subject);
  }
  EXPECT_EQ(subjects.size(), static_cast<size_t>(kThreads * kEach));  // each append once
  // Writes from several threads were grouped into shared transactions, and the head still
  // names the very last entry (it never goes back).
  auto head = store->recorded_head();
  ASSERT_TRUE(head && *head);
  EXPECT_EQ((*head)->ledger, (att::ChainHead{200, all->back().hash}));
  auto report = att::verify_stored_ledger(*store);
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_TRUE(report->intact()) << ::testing::PrintToString(described(report->problems));
  EXPECT_EQ(report->ledger_entries, kThreads * kEach);
  EXPECT_EQ(report->audit_entries, 3 * kEach);  // threads 0, 3 and 6
}

TEST_P(LedgerStoreTest, RefusesAnEntryWithoutKindSubjectActorOrJsonBody) {
  TestStore store(GetParam());
  ASSERT_EQ(store.error(), "");
  LedgerEntry no_kind = roll_call(0);
  no_kind.kind = "";
  auto r = store->append(Chain::kLedger, no_kind);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "ledger entry: kind, subject and actor are required");
  LedgerEntry no_actor = view(0);
  no_actor.actor = "";
  EXPECT_FALSE(store->append(Chain::kAudit, no_actor));
  LedgerEntry not_json = roll_call(0);
  not_json.body = "{count: 57";
  r = store->append(Chain::kLedger, not_json);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "ledger entry roll_call/td-01/2027-07-12/morning/0745: the body is not JSON");
  EXPECT_TRUE(store->entries(Chain::kLedger, {})->empty());
  EXPECT_TRUE(store->entries(Chain::kAudit, {})->empty());
  auto head = store->recorded_head();  // nothing anchored yet: none, or empty chains
  ASSERT_TRUE(head);
  EXPECT_TRUE(!*head || **head == att::LedgerHead{});
}

TEST_P(LedgerStoreTest, RecordedAtDefaultsToNow) {
  TestStore store(GetParam());
  ASSERT_EQ(store.error(), "");
  LedgerEntry e = roll_call(0);
  e.recorded_at_ms = 0;
  const auto before = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  auto stored = store->append(Chain::kLedger, e);
  ASSERT_TRUE(stored) << stored.error().message;
  EXPECT_GE(stored->recorded_at_ms, before);
  EXPECT_LT(stored->recorded_at_ms, before + 60000);
}

// ----------------------------------------------------------------------------------------
// Append-only: a casual edit fails

TEST(LedgerTriggers, UpdateDeleteAndReplaceAreRefusedWithTheirMessage) {
  TempDir dir;
  const fs::path db = dir / "attendance.db";
  {
    auto store = open_ok(db);
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(store->append(Chain::kLedger, roll_call(i)));
    ASSERT_TRUE(store->append(Chain::kAudit, view(0)));
  }
  RawDb raw(db);
  const std::string body_before = raw.scalar("SELECT body FROM ledger WHERE seq = 2");
  EXPECT_EQ(raw.try_exec("UPDATE ledger SET body = '{\"count\":60}' WHERE seq = 2"),
            "the ledger is append-only");
  EXPECT_EQ(raw.try_exec("DELETE FROM ledger WHERE seq = 3"), "the ledger is append-only");
  EXPECT_EQ(raw.try_exec("INSERT OR REPLACE INTO ledger(seq, kind, site_id, subject, at_ms, "
                         "recorded_at_ms, actor, body, prev_hash, hash) SELECT seq, kind, "
                         "site_id, subject, at_ms, recorded_at_ms, actor, '{}', prev_hash, hash "
                         "FROM ledger WHERE seq = 2"),
            "the ledger is append-only");
  EXPECT_EQ(raw.try_exec("UPDATE audit_trail SET actor = 'nobody'"),
            "the audit trail is append-only");
  EXPECT_EQ(raw.try_exec("DELETE FROM audit_trail"), "the audit trail is append-only");
  EXPECT_EQ(raw.scalar("SELECT body FROM ledger WHERE seq = 2"), body_before);
  EXPECT_EQ(raw.scalar("SELECT COUNT(*) FROM ledger"), "3");
  EXPECT_EQ(raw.scalar("SELECT COUNT(*) FROM audit_trail"), "1");
  auto report = att::verify_database(db);
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_TRUE(report->intact()) << ::testing::PrintToString(described(report->problems));
}

// ----------------------------------------------------------------------------------------
// A deliberate edit (triggers dropped): verify names it

TEST(LedgerVerify, AnAlteredBodyIsNamedAsEdited) {
  Tampered t;
  RawDb(t.db).exec("UPDATE ledger SET body = '{\"count\":60,\"expected\":60}' WHERE seq = 3");
  EXPECT_THAT(described(t.problems()),
              ElementsAre("ledger entry 3: edited: its hash does not match its content"));
}

TEST(LedgerVerify, EachEditedFieldIsNamed) {
  Tampered t;
  RawDb raw(t.db);
  raw.exec("UPDATE ledger SET actor = 'lan' WHERE seq = 1");
  raw.exec("UPDATE ledger SET at_ms = at_ms + 1 WHERE seq = 2");
  raw.exec("UPDATE ledger SET site_id = 'td-02' WHERE seq = 5");
  const auto problems = t.problems();
  ASSERT_EQ(problems.size(), 3u) << ::testing::PrintToString(described(problems));
  EXPECT_EQ(problems[0].seq, 1);
  EXPECT_EQ(problems[1].seq, 2);
  EXPECT_EQ(problems[2].seq, 5);
  for (const auto& p : problems) EXPECT_EQ(p.what, ProblemKind::kEdited);
}

TEST(LedgerVerify, AMiddleRowDeletedIsNamedWithItsSeq) {
  Tampered t;
  RawDb(t.db).exec("DELETE FROM ledger WHERE seq = 3");
  EXPECT_THAT(described(t.problems()),
              ElementsAre("ledger entry 3: deleted: entry 3 is missing (entry 4 comes after "
                          "entry 2)"));
}

TEST(LedgerVerify, SeveralRowsDeletedAreNamedAsARange) {
  Tampered t;
  RawDb(t.db).exec("DELETE FROM ledger WHERE seq IN (2, 3, 4)");
  EXPECT_THAT(described(t.problems()),
              ElementsAre("ledger entry 2: deleted: entries 2 to 4 are missing (entry 5 comes "
                          "after entry 1)"));
}

TEST(LedgerVerify, TheFirstRowDeletedIsNamed) {
  Tampered t;
  RawDb(t.db).exec("DELETE FROM ledger WHERE seq = 1");
  EXPECT_THAT(described(t.problems()),
              ElementsAre("ledger entry 1: deleted: entry 1 is missing (entry 2 comes after "
                          "the chain's start)"));
}

TEST(LedgerVerify, TwoRowsSwappedAreNamedAsReordered) {
  Tampered t;
  RawDb raw(t.db);
  raw.exec("UPDATE ledger SET seq = -2 WHERE seq = 2");
  raw.exec("UPDATE ledger SET seq = 2 WHERE seq = 4");
  raw.exec("UPDATE ledger SET seq = 4 WHERE seq = -2");
  const auto problems = t.problems();
  // No content changed and nothing is missing: only links broke, at both moved entries and
  // at the entries after each.
  EXPECT_THAT(described(problems),
              ElementsAre("ledger entry 2: reordered: it follows entry 3 in the chain, not entry 1",
                          "ledger entry 3: reordered: it follows entry 4 in the chain, not entry 2",
                          "ledger entry 4: reordered: it follows entry 1 in the chain, not entry 3",
                          "ledger entry 5: reordered: it follows entry 2 in the chain, not "
                          "entry 4"));
}

TEST(LedgerVerify, AdjacentRowsSwappedAreNamedAsReordered) {
  Tampered t;
  RawDb raw(t.db);
  raw.exec("UPDATE ledger SET seq = -5 WHERE seq = 5");
  raw.exec("UPDATE ledger SET seq = 5 WHERE seq = 6");
  raw.exec("UPDATE ledger SET seq = 6 WHERE seq = -5");
  // The head names the old entry 6, now at seq 5: the end no longer matches it either.
  EXPECT_THAT(
      described(t.problems()),
      ElementsAre("ledger entry 5: reordered: it follows entry 6 in the chain, not entry 4",
                  "ledger entry 6: reordered: it follows entry 4 in the chain, not entry 5",
                  "ledger entry 6: truncated: its hash is not the one ledger.head names for it: "
                  "the entries from here on replaced deleted ones, or it was rewritten with a "
                  "recomputed hash"));
}

TEST(LedgerVerify, TheLastRowDeletedIsNamedAsTruncatedThroughTheHead) {
  Tampered t;
  RawDb(t.db).exec("DELETE FROM ledger WHERE seq = 6");
  // The chain alone looks whole: nothing after entry 5 could say it is missing.
  std::vector<LedgerEntry> rows(t.ledger.begin(), t.ledger.begin() + 5);
  EXPECT_TRUE(att::verify_chain(rows).empty());
  EXPECT_THAT(described(t.problems()),
              ElementsAre("ledger entry 6: truncated: entry 6 is missing at the end: ledger.head "
                          "names entry 6 as the last one appended (the chain ends at entry 5)"));
}

TEST(LedgerVerify, TheLastRowsDeletedAndTheStoreReopenedStayTruncated) {
  Tampered t;
  RawDb(t.db).exec("DELETE FROM ledger WHERE seq >= 5");
  {
    // The store notices at open and leaves the head as it is: appending again does not
    // cover up the deletion.
    auto store = open_ok(t.db);
    ASSERT_TRUE(store);
    auto e = store->append(Chain::kLedger, roll_call(10));
    ASSERT_TRUE(e) << e.error().message;
    EXPECT_EQ(e->seq, 5);
    ASSERT_TRUE(store->append(Chain::kLedger, roll_call(11)));
  }
  EXPECT_EQ(att::testing::read_file(t.dir / "ledger.head"),
            "ledger 6 " + t.ledger[5].hash + "\naudit_trail 3 " + t.audit[2].hash + "\n");
  EXPECT_THAT(described(t.problems()),
              ElementsAre("ledger entry 6: truncated: its hash is not the one ledger.head names "
                          "for it: the entries from here on replaced deleted ones, or it was "
                          "rewritten with a recomputed hash"));
}

TEST(LedgerVerify, AnEditWithARecomputedHashBreaksTheNextLink) {
  Tampered t;
  LedgerEntry forged = t.ledger[2];
  forged.body = R"({"count":60,"expected":60})";
  const std::string hash = att::ledger_hash(forged);
  RawDb(t.db).exec("UPDATE ledger SET body = '" + forged.body + "', hash = '" + hash +
                   "' WHERE seq = 3");
  EXPECT_THAT(described(t.problems()),
              ElementsAre("ledger entry 4: deleted: its prev_hash matches no entry: the entry "
                          "before it was deleted and the rest renumbered, or entry 3 was "
                          "rewritten with a recomputed hash"));
}

TEST(LedgerVerify, ADeletionHiddenByRenumberingIsNamed) {
  Tampered t;
  RawDb raw(t.db);
  raw.exec("DELETE FROM ledger WHERE seq = 3");
  for (int seq = 4; seq <= 6; ++seq) {
    raw.exec("UPDATE ledger SET seq = " + std::to_string(seq - 1) +
             " WHERE seq = " + std::to_string(seq));
  }
  const auto problems = described(t.problems());
  EXPECT_THAT(problems,
              ElementsAre("ledger entry 3: deleted: its prev_hash matches no entry: the entry "
                          "before it was deleted and the rest renumbered, or entry 2 was "
                          "rewritten with a recomputed hash",
                          "ledger entry 6: truncated: entry 6 is missing at the end: ledger.head "
                          "names entry 6 as the last one appended (the chain ends at entry 5)"));
}

TEST(LedgerVerify, AForgedEntrySlippedInIsNamedAsInserted) {
  Tampered t;
  RawDb raw(t.db);
  // Make room at seq 4, then insert an entry that links to entry 3 with a correct hash.
  for (int seq = 6; seq >= 4; --seq) {
    raw.exec("UPDATE ledger SET seq = " + std::to_string(seq + 1) +
             " WHERE seq = " + std::to_string(seq));
  }
  LedgerEntry forged = roll_call(3);
  forged.body = R"({"count":60,"expected":60})";
  forged.prev_hash = t.ledger[2].hash;
  forged.hash = att::ledger_hash(forged);
  raw.exec(
      "INSERT INTO ledger(seq, kind, site_id, subject, at_ms, recorded_at_ms, actor, body, "
      "prev_hash, hash) VALUES (4, 'roll_call', 'td-01', '" +
      forged.subject + "', " + std::to_string(forged.at_ms) + ", " +
      std::to_string(forged.recorded_at_ms) + ", 'system', '" + forged.body + "', '" +
      forged.prev_hash + "', '" + forged.hash + "')");
  EXPECT_THAT(described(t.problems()),
              ElementsAre("ledger entry 4: inserted: the chain passes it by: entry 5 follows "
                          "entry 3 directly",
                          "ledger entry 6: truncated: its hash is not the one ledger.head names "
                          "for it: the entries from here on replaced deleted ones, or it was "
                          "rewritten with a recomputed hash"));
}

TEST(LedgerVerify, AnEditedAuditTrailIsNamedInTheAuditChain) {
  Tampered t;
  RawDb(t.db).exec("UPDATE audit_trail SET actor = 'someone-else' WHERE seq = 2");
  auto report = att::verify_database(t.db);
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_THAT(described(report->problems),
              ElementsAre("audit trail entry 2: edited: its hash does not match its content"));
  EXPECT_EQ(report->problems[0].chain, Chain::kAudit);
}

TEST(LedgerVerify, ADeletedAuditTrailEndIsNamed) {
  Tampered t;
  RawDb(t.db).exec("DELETE FROM audit_trail WHERE seq = 3");
  EXPECT_THAT(described(t.problems()),
              ElementsAre("audit trail entry 3: truncated: entry 3 is missing at the end: "
                          "ledger.head names entry 3 as the last one appended (the chain ends at "
                          "entry 2)"));
}

TEST(LedgerVerify, AMissingOrUnreadableHeadIsAProblemOnceThereAreEntries) {
  Tampered t;
  fs::remove(t.dir / "ledger.head");
  auto report = att::verify_database(t.db);
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_FALSE(report->head_found);
  EXPECT_THAT(described(report->problems),
              ElementsAre("ledger: truncated: no ledger.head beside attendance.db, so entries "
                          "deleted from the end could not be seen",
                          "audit trail: truncated: no ledger.head beside attendance.db, so "
                          "entries deleted from the end could not be seen"));

  att::testing::write_file(t.dir / "ledger.head", "ledger six\n");
  report = att::verify_database(t.db);
  ASSERT_TRUE(report) << report.error().message;
  ASSERT_EQ(report->problems.size(), 2u);
  EXPECT_EQ(att::describe(report->problems[0]),
            "ledger: truncated: ledger.head cannot be used (" + (t.dir / "ledger.head").string() +
                ": line 1: expected 'ledger <seq> <64 hex digits>', got 'ledger six'), so entries "
                "deleted from the end could not be seen");

  // An empty database needs no head.
  TempDir empty;
  { ASSERT_TRUE(open_ok(empty / "attendance.db")); }
  report = att::verify_database(empty / "attendance.db");
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_TRUE(report->intact());
}

TEST(LedgerVerify, AHeadBehindTheDatabaseIsNoProblemAndTheStoreBringsItUp) {
  // A crash between a commit and the head's write leaves the head behind: nothing was lost.
  Tampered t;
  att::LedgerHead behind;
  behind.ledger = {4, t.ledger[3].hash};
  behind.audit = {1, t.audit[0].hash};
  ASSERT_TRUE(att::write_ledger_head(t.dir / "ledger.head", behind));
  auto report = att::verify_database(t.db);
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_TRUE(report->intact()) << ::testing::PrintToString(described(report->problems));
  { ASSERT_TRUE(open_ok(t.db)); }
  EXPECT_EQ(att::testing::read_file(t.dir / "ledger.head"),
            "ledger 6 " + t.ledger[5].hash + "\naudit_trail 3 " + t.audit[2].hash + "\n");
}

TEST(LedgerVerify, ChainRulesOnRowsInMemory) {
  // A first entry whose prev_hash is not zeros: the entries before it were deleted and the
  // rest renumbered.
  std::vector<LedgerEntry> rows;
  std::string prev(64, 'a');
  for (int i = 1; i <= 3; ++i) {
    LedgerEntry e = roll_call(i);
    e.seq = i;
    e.prev_hash = prev;
    e.hash = att::ledger_hash(e);
    prev = e.hash;
    rows.push_back(e);
  }
  EXPECT_THAT(described(att::verify_chain(rows)),
              ElementsAre("ledger entry 1: deleted: its prev_hash is not the chain's start: the "
                          "entries before it were deleted and the rest renumbered"));
  // A seq changed without a deletion: the chain runs on, seq jumps.
  rows[0].prev_hash = att::genesis_hash();
  rows[0].hash = att::ledger_hash(rows[0]);
  rows[1].prev_hash = rows[0].hash;
  rows[1].hash = att::ledger_hash(rows[1]);
  rows[2].prev_hash = rows[1].hash;
  rows[2].hash = att::ledger_hash(rows[2]);
  EXPECT_TRUE(att::verify_chain(rows).empty());
  rows[2].seq = 7;
  EXPECT_THAT(described(att::verify_chain(rows, Chain::kAudit)),
              ElementsAre("audit trail entry 7: reordered: its seq was changed: it follows entry "
                          "2 directly in the chain, yet seq skips 3 to 6"));
  EXPECT_TRUE(att::verify_chain({}).empty());
}

TEST(LedgerVerify, ADatabaseWithoutALedgerOrNoFileIsAnErrorNotAReport) {
  TempDir dir;
  auto missing = att::verify_database(dir / "nothing.db");
  ASSERT_FALSE(missing);
  EXPECT_THAT(missing.error().message, HasSubstr("nothing.db"));
  EXPECT_FALSE(fs::exists(dir / "nothing.db"));  // read-only: nothing created
  {
    auto v4 = SqliteStore::open(dir / "old.db", att::builtin_migrations().first(4));
    ASSERT_TRUE(v4) << v4.error().message;
  }
  auto old = att::verify_database(dir / "old.db");
  ASSERT_FALSE(old);
  EXPECT_EQ(old.error().message,
            (dir / "old.db").string() +
                " has no ledger (it came with schema version 5; start attendance-server on it "
                "once to migrate)");
}

// ----------------------------------------------------------------------------------------
// attendance-server verify

struct CliRun {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

CliRun run_server(const TempDir& dir, const std::vector<std::string>& args) {
  static int run_no = 0;
  const fs::path log = dir / ("verify-" + std::to_string(++run_no) + ".log");
  std::vector<std::string> all{ATTENDANCE_SERVER_BIN};
  all.insert(all.end(), args.begin(), args.end());
  const pid_t pid = att::testing::spawn(all, log);
  CliRun run;
  run.exit_code = att::testing::wait_exit(pid, std::chrono::seconds(60));
  run.output = att::testing::read_file(log);
  return run;
}

// An auditor's copy: the database file (and its WAL, if any) with ledger.head.
fs::path copy_for_audit(const fs::path& data_dir, const fs::path& to) {
  fs::create_directories(to);
  for (const char* name : {"attendance.db", "attendance.db-wal", "ledger.head"}) {
    if (fs::exists(data_dir / name)) fs::copy_file(data_dir / name, to / name);
  }
  return to / "attendance.db";
}

TEST(LedgerVerify, VerifyingACopyLeavesItByteForByte) {
  TempDir dir;
  const fs::path live = dir / "live";
  fs::create_directories(live);
  auto store = open_ok(live / "attendance.db");
  ASSERT_TRUE(store);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(store->append(Chain::kLedger, roll_call(i)));
  ASSERT_TRUE(store->append(Chain::kAudit, view(0)));
  // Copied while the store is open: the last entries are still in the WAL, not the file.
  const fs::path copy = copy_for_audit(live, dir / "copy");
  const auto before = att::testing::files_in(copy.parent_path());
  ASSERT_TRUE(before.contains("attendance.db-wal"));

  auto report = att::verify_database(copy);
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_TRUE(report->intact()) << ::testing::PrintToString(described(report->problems));
  EXPECT_EQ(report->ledger_entries, 4);
  EXPECT_EQ(report->audit_entries, 1);
  EXPECT_EQ(att::testing::changed_files(before, att::testing::files_in(copy.parent_path())),
            std::vector<std::string>{});

  // A tampered copy too: found, and left as it was found.
  {
    RawDb raw(copy);
    drop_triggers(raw);
    raw.exec("UPDATE ledger SET actor = 'someone-else' WHERE seq = 2");
  }
  const auto tampered = att::testing::files_in(copy.parent_path());
  report = att::verify_database(copy);
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_THAT(described(report->problems),
              ElementsAre("ledger entry 2: edited: its hash does not match its content"));
  EXPECT_EQ(att::testing::changed_files(tampered, att::testing::files_in(copy.parent_path())),
            std::vector<std::string>{});
}

TEST(LedgerVerify, ReadsThroughTheLedgerStoreInPagesAndFindsWhatOneReadFinds) {
  Tampered t;
  {
    RawDb raw(t.db);
    raw.exec("UPDATE ledger SET body = '{\"count\":60,\"expected\":60}' WHERE seq = 3");
    raw.exec("DELETE FROM ledger WHERE seq = 6");
    raw.exec("DELETE FROM audit_trail WHERE seq = 2");
  }
  auto whole = att::verify_database(t.db);
  ASSERT_TRUE(whole) << whole.error().message;
  ASSERT_THAT(described(whole->problems),
              ElementsAre("ledger entry 3: edited: its hash does not match its content",
                          "ledger entry 6: truncated: entry 6 is missing at the end: ledger.head "
                          "names entry 6 as the last one appended (the chain ends at entry 5)",
                          "audit trail entry 2: deleted: entry 2 is missing (entry 3 comes "
                          "after entry 1)"));

  att::SqliteStoreOptions options;
  options.read_only = true;
  auto store = SqliteStore::open(t.db, options);
  ASSERT_TRUE(store) << store.error().message;
  att::LedgerStore& ledger = **store;
  const auto head = att::read_ledger_head(t.dir / "ledger.head");
  for (int page : {1, 2, 3, 5, 1000}) {
    auto paged = att::verify_stored_ledger(ledger, head, "ledger.head beside attendance.db", page);
    ASSERT_TRUE(paged) << paged.error().message;
    EXPECT_EQ(paged->ledger_entries, 5) << "page " << page;
    EXPECT_EQ(paged->audit_entries, 2) << "page " << page;
    EXPECT_EQ(described(paged->problems), described(whole->problems)) << "page " << page;
  }
}

TEST(VerifyCommand, AnIntactCopyPassesAndATamperedOneFailsNamingTheEntry) {
  Tampered t;  // triggers dropped, nothing changed yet
  const fs::path intact = copy_for_audit(t.dir.path(), t.dir / "copy-intact");
  CliRun run = run_server(t.dir, {"verify", "--db", intact.string()});
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.output, "ledger: 6 entries, chain intact; audit trail: 3 entries, chain intact\n");

  const fs::path tampered = copy_for_audit(t.dir.path(), t.dir / "copy-tampered");
  {
    RawDb raw(tampered);
    raw.exec("UPDATE ledger SET body = '{\"count\":60,\"expected\":60}' WHERE seq = 3");
    raw.exec("DELETE FROM audit_trail WHERE seq = 2");
  }
  run = run_server(t.dir, {"verify", "--db", tampered.string()});
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_EQ(run.output,
            "ledger entry 3: edited: its hash does not match its content\n"
            "audit trail entry 2: deleted: entry 2 is missing (entry 3 comes after entry 1)\n"
            "ledger: 6 entries, 1 problem; audit trail: 2 entries, 1 problem\n");

  run = run_server(t.dir, {"verify", "--db", (t.dir / "absent.db").string()});
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_THAT(run.output, HasSubstr("attendance-server verify: cannot open database"));
}

TEST(VerifyCommand, ChecksTheConfiguredDatabase) {
  TempDir dir;
  att::testing::write_file(dir / "sites.csv",
                           "id,name,district,school_level,address,expected_attendees,camera\n"
                           "td-01,Trường THCS Bản Giang,Tam Đường,lower_secondary,Xã Bản "
                           "Giang,60,IP\n");
  att::testing::write_file(dir / "schedule.yaml",
                           "timezone: Asia/Ho_Chi_Minh\n"
                           "days:\n"
                           "  - date: 2027-07-12\n"
                           "    periods:\n"
                           "      - {name: morning, start: \"07:30\", end: \"11:30\"}\n");
  att::testing::write_file(dir / "server.yaml", "data_dir: " + (dir / "data").string() +
                                                    "\n"
                                                    "province:\n"
                                                    "  name: Lai Châu\n"
                                                    "  sites: sites.csv\n"
                                                    "  schedule: schedule.yaml\n");
  fs::create_directories(dir / "data");
  {
    auto store = open_ok(dir / "data" / "attendance.db");
    ASSERT_TRUE(store);
    for (int i = 0; i < 2; ++i) ASSERT_TRUE(store->append(Chain::kLedger, roll_call(i)));
  }
  const std::string config = (dir / "server.yaml").string();
  // The configuration before or after the subcommand.
  for (const auto& args : std::vector<std::vector<std::string>>{{"verify", "--config", config},
                                                                {"--config", config, "verify"}}) {
    CliRun run = run_server(dir, args);
    EXPECT_EQ(run.exit_code, 0) << run.output;
    EXPECT_EQ(run.output,
              "ledger: 2 entries, chain intact; audit trail: 0 entries, chain intact\n");
  }
  {
    RawDb raw(dir / "data" / "attendance.db");
    drop_triggers(raw);
    raw.exec("DELETE FROM ledger WHERE seq = 2");
  }
  CliRun run = run_server(dir, {"verify", "--config", config});
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_THAT(run.output, HasSubstr("ledger entry 2: truncated: entry 2 is missing at the end"));
}

}  // namespace
