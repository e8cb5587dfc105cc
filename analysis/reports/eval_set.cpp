#include "analysis/reports/eval_set.h"

#include <chrono>
#include <regex>
#include <set>

#include "common/csv.h"

namespace att {

const char kEvalSetIndexHeader[] =
    "name,site_id,date,time,period,counted,verified,boxes,removed,added,checked_by,subject,"
    "roll_call_seq,correction_seq,evidence_path,evidence_sha256";

namespace {

// A YYYY-MM-DD that names a real day.
bool valid_day(const std::string& text) {
  static const std::regex kDay(R"((\d{4})-(\d{2})-(\d{2}))");
  std::smatch m;
  if (!std::regex_match(text, m, kDay)) return false;
  const std::chrono::year_month_day day{std::chrono::year(std::stoi(m[1])),
                                        std::chrono::month(unsigned(std::stoi(m[2]))),
                                        std::chrono::day(unsigned(std::stoi(m[3])))};
  return day.ok();
}

// Letters, digits, '-' and '_' of `text`: what a file name may hold of it everywhere.
std::string file_safe(const std::string& text) {
  std::string out;
  for (const char c : text) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_')
      out += c;
  }
  return out;
}

}  // namespace

bool EvalSetFilter::matches(const RollCall& r) const {
  return (site_id.empty() || r.site_id == site_id) && (from_date.empty() || r.date >= from_date) &&
         (to_date.empty() || r.date <= to_date);
}

Status check_filter(const EvalSetFilter& filter) {
  if (!filter.from_date.empty() && !valid_day(filter.from_date)) {
    return fail("--from must be a day as YYYY-MM-DD (got '" + filter.from_date.substr(0, 32) +
                "')");
  }
  if (!filter.to_date.empty() && !valid_day(filter.to_date)) {
    return fail("--to must be a day as YYYY-MM-DD (got '" + filter.to_date.substr(0, 32) + "')");
  }
  if (!filter.from_date.empty() && !filter.to_date.empty() && filter.from_date > filter.to_date) {
    return fail("--from " + filter.from_date + " is after --to " + filter.to_date);
  }
  return {};
}

Result<std::vector<TruthItem>> verified_people(const RollCall& r, const PictureCheck& check) {
  if (check.boxes != static_cast<int>(r.boxes.size())) {
    return fail("the check is of " + std::to_string(check.boxes) +
                " boxes but the roll call recorded " + std::to_string(r.boxes.size()));
  }
  const std::set<int> removed(check.removed.begin(), check.removed.end());
  std::vector<TruthItem> people;
  for (size_t i = 0; i < r.boxes.size(); ++i) {
    if (removed.contains(static_cast<int>(i))) continue;
    const Box& b = r.boxes[i];
    people.push_back(b.w > 0 && b.h > 0 ? TruthItem::of_box(b)
                                        : TruthItem::point(b.x + b.w / 2, b.y + b.h / 2));
  }
  for (const auto& [x, y] : check.added) people.push_back(TruthItem::point(x, y));
  return people;
}

EvalSet eval_set(const LedgerExtract& records, const EvalSetFilter& filter) {
  EvalSet set;
  std::set<std::string> names;
  for (const LedgerExtract::Call& c : records.roll_calls) {
    const RollCall& r = c.roll_call;
    if (!c.check || !filter.matches(r)) continue;
    if (r.evidence_path.empty()) {
      set.left_out.push_back(c.subject + ": no evidence picture");
      continue;
    }
    auto people = verified_people(r, *c.check);
    if (!people) {
      set.left_out.push_back(c.subject + ": " + people.error().message);
      continue;
    }
    EvalSetItem item;
    item.name = file_safe(r.site_id) + "_" + file_safe(r.date) + "_" + file_safe(r.label);
    if (!names.insert(item.name).second) {
      item.name += "_" + std::to_string(c.seq);
      names.insert(item.name);
    }
    item.verified = static_cast<int>(people->size());
    item.truth = std::move(*people);
    item.subject = c.subject;
    item.seq = c.seq;
    item.correction_seq = c.correction_seq;
    item.site_id = r.site_id;
    item.date = r.date;
    item.period = r.period;
    item.time = r.label;
    item.counted = c.corrected ? c.counted_as_taken : r.counted;
    item.boxes = c.check->boxes;
    item.removed = static_cast<int>(c.check->removed.size());
    item.added = static_cast<int>(c.check->added.size());
    item.checked_by = c.corrected_by;
    item.evidence_path = r.evidence_path;
    item.evidence_sha256 = r.evidence_sha256;
    set.items.push_back(std::move(item));
  }
  return set;
}

std::string eval_set_index_csv(const EvalSet& set) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> header;
  const std::string names = kEvalSetIndexHeader;
  for (size_t from = 0, comma = 0; comma != std::string::npos; from = comma + 1) {
    comma = names.find(',', from);
    header.push_back(names.substr(from, comma == std::string::npos ? comma : comma - from));
  }
  rows.push_back(std::move(header));
  for (const EvalSetItem& i : set.items) {
    rows.push_back({i.name, i.site_id, i.date, i.time, i.period,
                    i.counted ? std::to_string(*i.counted) : "", std::to_string(i.verified),
                    std::to_string(i.boxes), std::to_string(i.removed), std::to_string(i.added),
                    i.checked_by, i.subject, std::to_string(i.seq),
                    std::to_string(i.correction_seq), i.evidence_path, i.evidence_sha256});
  }
  return csv_document(rows);
}

}  // namespace att
