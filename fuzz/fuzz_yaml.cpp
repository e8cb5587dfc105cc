// Feeds the input, as a config file an operator wrote, to the real loaders: the first byte
// picks which ('0' server.yaml, '1' schedule.yaml, '2' zones.yaml, '3' the capture node's
// YAML; the value mod 4), the rest is the file's text, written under a scratch directory
// beside a fixed valid sites.csv, schedule.yaml and zones.yaml that server.yaml may name.
// Checks, beyond "does not crash" (yaml-cpp throws; the loaders must catch):
//   - a refusal has a message;
//   - an accepted file gives values within the documented bounds: schedule dates in order
//     and periods HH:MM with start < end, not overlapping; zones only of known sites, each a
//     polygon of 3 or more points inside 0..1 (NaN is not inside); a capture config that
//     validate_capture_config accepts; a server config with its sites and bounds.
#include <cmath>
#include <cstdint>
#include <fstream>
#include <string>
#include <string_view>

#include "analysis/app/server_config.h"
#include "analysis/domain/province.h"
#include "capture/node_config.h"
#include "fuzz/fuzz_support.h"

namespace {

void check(bool ok, const char* what) {
  att::fuzz::check(ok, "fuzz_yaml", what);
}

const std::vector<att::Site>& sites() {
  static const std::vector<att::Site> s = {
      {"td-01", "Trường THCS Bản Giang", "Tam Đường", att::SchoolLevel::kLowerSecondary, "", 60,
       ""},
      {"td-02", "Trường Tiểu học Bình Lư", "Tam Đường", att::SchoolLevel::kPrimary, "", 45, ""},
      {"mt-01", "Trường Mầm non Bum Nưa", "Mường Tè", att::SchoolLevel::kPreschool, "", 38, ""},
  };
  return s;
}

std::filesystem::path dir() {
  return att::fuzz::scratch_dir() / "cfg";
}

void write(const std::filesystem::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  check(bool(out), "cannot write the scratch file");
}

void check_days(const std::vector<att::ClassDay>& days) {
  std::string previous;
  for (const auto& day : days) {
    check(day.date.size() == 10 && day.date > previous, "class days not dates in order");
    previous = day.date;
    int previous_end = -1;
    for (const auto& p : day.periods) {
      check(p.start_minute >= 0 && p.start_minute < p.end_minute && p.end_minute < 24 * 60,
            "a period that does not start before it ends within the day");
      check(p.start_minute >= previous_end, "overlapping periods");
      previous_end = p.end_minute;
    }
  }
}

void check_schedule(const att::Schedule& s) {
  check(!s.timezone.empty(), "a schedule without a timezone");
  check_days(s.days);
  for (const auto& [site, days] : s.overrides) {
    check(!site.empty(), "overrides of no site");
    check_days(days);
  }
  check(s.first_roll_call_after_start_min >= 0 && s.first_roll_call_after_start_min <= 240 &&
            s.roll_call_every_min >= 1 && s.roll_call_every_min <= 240,
        "roll call minutes out of bounds");
}

void check_zones(const std::map<std::string, att::SiteZones>& zones,
                 const std::vector<att::Site>& known) {
  for (const auto& [id, z] : zones) {
    check(std::ranges::any_of(known, [&](const att::Site& s) { return s.id == id; }),
          "zones of an unknown site");
    for (const auto* list : {&z.count, &z.exclude}) {
      for (const auto& zone : *list) {
        check(zone.points.size() >= 3, "a zone of fewer than 3 points");
        for (const auto& p : zone.points) {
          check(p.x >= 0 && p.x <= 1 && p.y >= 0 && p.y <= 1, "a zone point outside 0..1");
        }
      }
    }
  }
}

void fuzz_server(std::string_view text) {
  write(dir() / "server.yaml", text);
  const auto c = att::load_server_config(dir() / "server.yaml");
  if (!c) {
    check(!c.error().message.empty(), "server config refused without a reason");
    return;
  }
  check(!c->sites.empty(), "a server config without sites");
  for (const auto& s : c->sites) check(att::valid_site_id(s.id), "a site with an invalid id");
  check(c->listen_port >= 0 && c->listen_port <= 65535, "listen.port out of bounds");
  check(c->max_body_bytes >= 1024 && c->max_image_pixels >= 64 * 64, "ingest limits too small");
  check(c->counting.leave_fraction <= c->counting.enter_fraction, "leave above enter fraction");
  check(c->tls_cert.empty() == c->tls_key.empty(), "half a TLS setting");
  check_schedule(c->schedule);
  check_zones(c->zones, c->sites);
}

void fuzz_schedule(std::string_view text) {
  write(dir() / "fuzz-schedule.yaml", text);
  const auto s = att::load_schedule(dir() / "fuzz-schedule.yaml");
  if (!s) {
    check(!s.error().message.empty(), "schedule refused without a reason");
    return;
  }
  check_schedule(*s);
}

void fuzz_zones(std::string_view text) {
  write(dir() / "fuzz-zones.yaml", text);
  std::map<std::string, att::SiteZones> zones;
  std::map<std::string, std::filesystem::path> references;
  const auto z = att::parse_zones(dir() / "fuzz-zones.yaml", sites(), zones, references);
  if (!z) {
    check(!z.error().message.empty(), "zones refused without a reason");
    return;
  }
  check_zones(zones, sites());
  for (const auto& [id, path] : references) check(zones.contains(id), "a reference, no zones");
}

void fuzz_capture(std::string_view text) {
  write(dir() / "capture.yaml", text);
  const auto c = att::load_capture_config(dir() / "capture.yaml");
  if (!c) {
    check(!c.error().message.empty(), "capture config refused without a reason");
    return;
  }
  check(bool(att::validate_capture_config(*c)), "loaded a capture config that does not validate");
  check(c->jpeg_quality >= 30 && c->jpeg_quality <= 100 && c->width >= 0 && c->width <= 7680,
        "source settings out of bounds");
  check(c->min_interval_s >= 0.05 && c->spool_max_bytes >= (1 << 20) && c->queue_frames >= 1,
        "intervals or spool out of bounds");
  check(std::isfinite(c->heartbeat_s) && std::isfinite(c->upload_timeout_s),
        "a setting that is not a number");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  std::filesystem::create_directories(dir());
  write(dir() / "sites.csv",
        "id,name,district,school_level,address,expected_attendees,camera\n"
        "td-01,Trường THCS Bản Giang,Tam Đường,lower_secondary,,60,\n"
        "td-02,Trường Tiểu học Bình Lư,Tam Đường,primary,,45,\n"
        "mt-01,Trường Mầm non Bum Nưa,Mường Tè,preschool,,38,\n");
  write(dir() / "schedule.yaml",
        "timezone: Asia/Ho_Chi_Minh\n"
        "days:\n"
        "  - date: 2027-07-12\n"
        "    periods:\n"
        "      - {name: morning, start: \"07:30\", end: \"11:30\"}\n");
  write(dir() / "zones.yaml", "td-01:\n  exclude:\n    door: [[0.3, 0], [0.6, 0], [0.6, 0.1]]\n");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0:
      fuzz_server(text);
      break;
    case 1:
      fuzz_schedule(text);
      break;
    case 2:
      fuzz_zones(text);
      break;
    case 3:
      fuzz_capture(text);
      break;
  }
  return 0;
}
