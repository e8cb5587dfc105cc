#include "analysis/domain/ledger.h"

#include <algorithm>
#include <cassert>
#include <iterator>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unordered_map>

#include "common/files.h"
#include "common/sha256.h"
#include "common/time_util.h"

namespace att {
namespace {

void append_field(std::string& out, const std::string& bytes) {
  out += std::to_string(bytes.size());
  out += ':';
  out += bytes;
  out += ',';
}

std::string seq_range(std::int64_t from, std::int64_t to) {
  return from == to ? "entry " + std::to_string(from) + " is"
                    : "entries " + std::to_string(from) + " to " + std::to_string(to) + " are";
}

std::string entry_name(std::int64_t seq) {
  return "entry " + std::to_string(seq);
}

bool is_hex_hash(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

}  // namespace

const std::string& genesis_hash() {
  static const std::string zeros(64, '0');
  return zeros;
}

std::string ledger_hash_input(const LedgerEntry& e) {
  std::string out;
  out.reserve(e.prev_hash.size() + e.kind.size() + e.site_id.size() + e.subject.size() +
              e.actor.size() + e.body.size() + 96);
  append_field(out, e.prev_hash);
  append_field(out, e.kind);
  append_field(out, e.site_id);
  append_field(out, e.subject);
  append_field(out, std::to_string(e.at_ms));
  append_field(out, std::to_string(e.recorded_at_ms));
  append_field(out, e.actor);
  append_field(out, e.body);
  return out;
}

std::string ledger_hash(const LedgerEntry& entry) {
  return sha256_hex(ledger_hash_input(entry));
}

Result<std::string> canonical_body(const nlohmann::json& body) {
  try {
    return body.dump();
  } catch (const nlohmann::json::exception& e) {  // invalid UTF-8 in a string
    return fail(std::string("ledger entry body: ") + e.what());
  }
}

const char* chain_name(Chain chain) {
  return chain == Chain::kLedger ? "ledger" : "audit trail";
}

const char* chain_table(Chain chain) {
  return chain == Chain::kLedger ? "ledger" : "audit_trail";
}

const char* to_string(ProblemKind kind) {
  switch (kind) {
    case ProblemKind::kEdited:
      return "edited";
    case ProblemKind::kDeleted:
      return "deleted";
    case ProblemKind::kReordered:
      return "reordered";
    case ProblemKind::kInserted:
      return "inserted";
    case ProblemKind::kTruncated:
      return "truncated";
  }
  return "?";
}

std::string describe(const LedgerProblem& p) {
  std::string out = chain_name(p.chain);
  if (p.seq != 0) out += " entry " + std::to_string(p.seq);
  return out + ": " + to_string(p.what) + ": " + p.message;
}

std::vector<LedgerProblem> verify_chain(const std::vector<LedgerEntry>& rows, Chain chain) {
  std::vector<LedgerProblem> problems;
  auto report = [&](std::int64_t seq, ProblemKind what, std::string message) {
    problems.push_back(LedgerProblem{chain, seq, what, std::move(message)});
  };
  // Which entry each stored hash belongs to (an edited entry keeps its stored hash, so the
  // entry after it still links to it).
  std::unordered_map<std::string, std::int64_t> seq_of_hash;
  for (const LedgerEntry& r : rows) seq_of_hash.emplace(r.hash, r.seq);
  // Whom an entry's prev_hash names: "entry N", "the chain's start", or "" (no one).
  auto follows = [&](const std::string& prev_hash) -> std::string {
    if (prev_hash == genesis_hash()) return "the chain's start";
    const auto it = seq_of_hash.find(prev_hash);
    return it == seq_of_hash.end() ? "" : entry_name(it->second);
  };
  auto reordered = [&](const LedgerEntry& r, const std::string& linked_to,
                       const std::string& before_name) {
    report(r.seq, ProblemKind::kReordered,
           linked_to == "the chain's start"
               ? "it is the chain's first entry (its prev_hash is zeros), yet comes after " +
                     before_name
               : "it follows " + linked_to + " in the chain, not " + before_name);
  };

  for (size_t i = 0; i < rows.size(); ++i) {
    const LedgerEntry& r = rows[i];
    if (ledger_hash(r) != r.hash) {
      report(r.seq, ProblemKind::kEdited, "its hash does not match its content");
    }

    const LedgerEntry* before = i > 0 ? &rows[i - 1] : nullptr;
    const std::string& expected_prev = before ? before->hash : genesis_hash();
    const std::string before_name = before ? entry_name(before->seq) : "the chain's start";
    const std::int64_t expected_seq = before ? before->seq + 1 : 1;
    const std::string linked_to = follows(r.prev_hash);  // "" when it matches no entry

    if (r.seq < expected_seq) {  // only for rows not given in seq order
      report(r.seq, ProblemKind::kReordered, "it comes after " + before_name + " in the rows");
      continue;
    }
    if (r.seq > expected_seq) {  // a gap in seq
      if (r.prev_hash == expected_prev) {
        report(r.seq, ProblemKind::kReordered,
               "its seq was changed: it follows " + before_name +
                   " directly in the chain, yet seq skips " +
                   (expected_seq == r.seq - 1
                        ? std::to_string(expected_seq)
                        : std::to_string(expected_seq) + " to " + std::to_string(r.seq - 1)));
      } else {
        report(expected_seq, ProblemKind::kDeleted,
               seq_range(expected_seq, r.seq - 1) + " missing (" + entry_name(r.seq) +
                   " comes after " + before_name + ")");
        if (!linked_to.empty()) reordered(r, linked_to, before_name);
      }
      continue;
    }
    if (r.prev_hash == expected_prev) continue;  // linked to its predecessor

    // Both this entry and its predecessor link to the entry before the predecessor: the
    // predecessor was slipped in between.
    const std::string& before_before = i > 1 ? rows[i - 2].hash : genesis_hash();
    if (before && r.prev_hash == before_before && before->prev_hash == before_before) {
      report(before->seq, ProblemKind::kInserted,
             "the chain passes it by: " + entry_name(r.seq) + " follows " +
                 (i > 1 ? entry_name(rows[i - 2].seq) : std::string("the chain's start")) +
                 " directly");
    } else if (!linked_to.empty()) {
      reordered(r, linked_to, before_name);
    } else if (!before) {
      report(r.seq, ProblemKind::kDeleted,
             "its prev_hash is not the chain's start: the entries before it were deleted and "
             "the rest renumbered");
    } else {
      report(r.seq, ProblemKind::kDeleted,
             "its prev_hash matches no entry: the entry before it was deleted and the rest "
             "renumbered, or " +
                 before_name + " was rewritten with a recomputed hash");
    }
  }
  std::stable_sort(problems.begin(), problems.end(),
                   [](const LedgerProblem& a, const LedgerProblem& b) { return a.seq < b.seq; });
  return problems;
}

std::filesystem::path ledger_head_path(const std::filesystem::path& db_path) {
  return db_path.parent_path() / "ledger.head";
}

std::string format_ledger_head(const LedgerHead& head) {
  std::string out;
  for (Chain chain : {Chain::kLedger, Chain::kAudit}) {
    out += std::string(chain_table(chain)) + " " + std::to_string(head.of(chain).seq) + " " +
           head.of(chain).hash + "\n";
  }
  return out;
}

Result<LedgerHead> parse_ledger_head(const std::string& text) {
  LedgerHead head;
  std::istringstream in(text);
  std::string line;
  int line_no = 0;
  for (Chain chain : {Chain::kLedger, Chain::kAudit}) {
    ++line_no;
    if (!std::getline(in, line)) {
      return fail("line " + std::to_string(line_no) + ": missing (expected '" + chain_table(chain) +
                  " <seq> <hash>')");
    }
    std::istringstream fields(line);
    std::string name, hash, extra;
    long long seq = -1;
    if (!(fields >> name >> seq >> hash) || (fields >> extra) || name != chain_table(chain) ||
        seq < 0 || !is_hex_hash(hash)) {
      return fail("line " + std::to_string(line_no) + ": expected '" + chain_table(chain) +
                  " <seq> <64 hex digits>', got '" + line + "'");
    }
    head.of(chain) = ChainHead{seq, hash};
  }
  if (std::getline(in, line) && !line.empty()) {
    return fail("line 3: unexpected '" + line + "'");
  }
  return head;
}

Result<std::optional<LedgerHead>> read_ledger_head(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    if (ec) return fail(path.string() + ": " + ec.message());
    return std::optional<LedgerHead>();
  }
  auto text = read_file(path);
  if (!text) return std::unexpected(text.error());
  auto head = parse_ledger_head(*text);
  if (!head) return fail(path.string() + ": " + head.error().message);
  return std::optional<LedgerHead>(*head);
}

Status write_ledger_head(const std::filesystem::path& path, const LedgerHead& head) {
  return write_file_atomically(path, format_ledger_head(head), /*sync=*/true);
}

std::vector<LedgerProblem> verify_head(const std::vector<LedgerEntry>& rows, const ChainHead& head,
                                       Chain chain) {
  std::vector<LedgerProblem> problems;
  if (head.seq == 0) return problems;  // the chain was empty; every row came after
  const std::int64_t last = rows.empty() ? 0 : rows.back().seq;
  if (head.seq > last) {
    problems.push_back({chain, last + 1, ProblemKind::kTruncated,
                        seq_range(last + 1, head.seq) + " missing at the end: ledger.head names " +
                            entry_name(head.seq) + " as the last one appended (" +
                            (last == 0 ? std::string("the chain is empty")
                                       : "the chain ends at " + entry_name(last)) +
                            ")"});
    return problems;
  }
  const auto it = std::find_if(rows.begin(), rows.end(),
                               [&](const LedgerEntry& r) { return r.seq == head.seq; });
  // Within a gap the deletion is reported by verify_chain.
  if (it != rows.end() && it->hash != head.hash) {
    problems.push_back({chain, head.seq, ProblemKind::kTruncated,
                        "its hash is not the one ledger.head names for it: the entries from "
                        "here on replaced deleted ones, or it was rewritten with a recomputed "
                        "hash"});
  }
  return problems;
}

LedgerReport verify_ledger(const std::vector<LedgerEntry>& ledger,
                           const std::vector<LedgerEntry>& audit,
                           const Result<std::optional<LedgerHead>>& head,
                           const std::string& head_name) {
  LedgerReport report;
  report.ledger_entries = static_cast<std::int64_t>(ledger.size());
  report.audit_entries = static_cast<std::int64_t>(audit.size());
  report.head_found = head && head->has_value();
  for (Chain chain : {Chain::kLedger, Chain::kAudit}) {
    const auto& rows = chain == Chain::kLedger ? ledger : audit;
    std::vector<LedgerProblem> problems = verify_chain(rows, chain);
    if (!head) {
      if (!rows.empty()) {
        problems.insert(problems.begin(),
                        {chain, 0, ProblemKind::kTruncated,
                         "ledger.head cannot be used (" + head.error().message +
                             "), so entries deleted from the end could not be seen"});
      }
    } else if (!head->has_value()) {
      if (!rows.empty()) {
        problems.insert(
            problems.begin(),
            {chain, 0, ProblemKind::kTruncated,
             "no " + head_name + ", so entries deleted from the end could not be seen"});
      }
    } else {
      auto at_end = verify_head(rows, (*head)->of(chain), chain);
      problems.insert(problems.end(), at_end.begin(), at_end.end());
      std::stable_sort(
          problems.begin(), problems.end(),
          [](const LedgerProblem& a, const LedgerProblem& b) { return a.seq < b.seq; });
    }
    report.problems.insert(report.problems.end(), problems.begin(), problems.end());
  }
  return report;
}

Result<LedgerReport> verify_stored_ledger(LedgerStore& store,
                                          const Result<std::optional<LedgerHead>>& head,
                                          const std::string& head_name, int page_size) {
  assert(page_size > 0);
  std::vector<LedgerEntry> chains[2];
  for (Chain chain : {Chain::kLedger, Chain::kAudit}) {
    auto& rows = chains[chain == Chain::kLedger ? 0 : 1];
    LedgerQuery page;
    page.limit = page_size;
    while (true) {
      auto got = store.entries(chain, page);
      if (!got) return std::unexpected(got.error());
      // A short page is the last; so is one that ends at the largest seq there can be.
      const bool last = static_cast<int>(got->size()) < page_size ||
                        got->back().seq == std::numeric_limits<std::int64_t>::max();
      if (!last) page.from_seq = got->back().seq + 1;
      rows.insert(rows.end(), std::make_move_iterator(got->begin()),
                  std::make_move_iterator(got->end()));
      if (last) break;
    }
  }
  return verify_ledger(chains[0], chains[1], head, head_name);
}

Result<LedgerReport> verify_stored_ledger(LedgerStore& store, int page_size) {
  // The head first: it is recorded only after (or with) the rows it names, so a head read
  // before the rows never names an entry the rows could lack without a deletion.
  const auto head = store.recorded_head();
  return verify_stored_ledger(store, head, store.head_name(), page_size);
}

Status prepare_append(Chain chain, LedgerEntry& entry) {
  if (entry.kind.empty() || entry.subject.empty() || entry.actor.empty()) {
    return fail(std::string(chain_name(chain)) + " entry: kind, subject and actor are required");
  }
  if (!nlohmann::json::accept(entry.body)) {
    return fail(std::string(chain_name(chain)) + " entry " + entry.subject +
                ": the body is not JSON");
  }
  if (entry.recorded_at_ms == 0) entry.recorded_at_ms = now_ms();
  return {};
}

}  // namespace att
