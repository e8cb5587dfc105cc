#include "protocol/site_setup.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "protocol/json_reader.h"
#include "protocol/signing.h"

namespace att {

using nlohmann::json;

namespace {

// Shares of the picture rounded to 1/10000: the same setup always gives the same bytes.
float share(float v) {
  return std::round(v * 10000.0f) / 10000.0f;
}

json zones_json(const std::vector<SetupZone>& zones) {
  json out = json::array();
  for (const SetupZone& z : zones) {
    json points = json::array();
    for (const auto& p : z.points) points.push_back({share(p[0]), share(p[1])});
    out.push_back({{"name", z.name}, {"points", std::move(points)}});
  }
  return out;
}

void read_zones(JsonReader& r, const char* key, std::vector<SetupZone>& out) {
  const json* zones = r.array(key, kMaxSetupZones);
  if (!zones) return;
  for (size_t i = 0; i < zones->size() && !r.error(); ++i) {
    const std::string at = std::string(key) + "[" + std::to_string(i) + "]";
    const json& z = (*zones)[i];
    if (!z.is_object()) {
      r.note(at + " must be an object with a name and points (got " + shown(z) + ")");
      return;
    }
    SetupZone zone;
    JsonReader zr(z, r.path(at.c_str()), "site setup");
    zr.text("name", zone.name, 64);
    if (!zr.error() && zone.name.empty()) zr.note(zr.path("name") + " must not be empty");
    if (const json* points = zr.array("points", kMaxZonePoints)) {
      for (const json& p : *points) {
        const bool ok = p.is_array() && p.size() == 2 && p[0].is_number() && p[1].is_number() &&
                        p[0].get<double>() >= 0 && p[0].get<double>() <= 1 &&
                        p[1].get<double>() >= 0 && p[1].get<double>() <= 1;
        if (!ok) {
          zr.note(zr.path("points") +
                  " must be [x, y] pairs, each a share of the picture from 0 "
                  "to 1 (got " +
                  shown(p) + ")");
          break;
        }
        zone.points.push_back({p[0].get<float>(), p[1].get<float>()});
      }
      if (!zr.error() && zone.points.size() < 3) {
        zr.note(zr.path("points") + " must have at least 3 points (got " +
                std::to_string(zone.points.size()) + ")");
      }
    }
    r.take(zr.error());
    out.push_back(std::move(zone));
  }
}

std::string signed_text(std::string_view site_id, std::int64_t version, std::string_view body) {
  std::string text = "attendance-setup-v1\n";
  text.append(site_id).append("\n").append(std::to_string(version)).append("\n").append(body);
  return text;
}

}  // namespace

std::string SiteSetup::to_json() const {
  json reference = json::array();
  for (const Box& b : empty_reference) {
    reference.push_back({share(b.x), share(b.y), share(b.w), share(b.h), share(b.score)});
  }
  json j{{"count", zones_json(count)},
         {"exclude", zones_json(exclude)},
         {"empty_reference", std::move(reference)},
         {"min_score", share(min_score)}};
  if (view_confirmed_ms > 0) j["view_confirmed_ms"] = view_confirmed_ms;
  return j.dump();
}

Result<SiteSetup> parse_site_setup(std::string_view text) {
  const json j = parse_shallow(text, 6);
  if (j.is_discarded()) return fail("site setup: not JSON, or nested more than 6 deep");
  if (!j.is_object()) return fail("site setup: must be a JSON object (got " + shown(j) + ")");
  SiteSetup s;
  JsonReader r(j, "", "site setup");
  read_zones(r, "count", s.count);
  read_zones(r, "exclude", s.exclude);
  if (const json* spots = r.array("empty_reference", kMaxReferenceSpots)) {
    for (size_t i = 0; i < spots->size() && !r.error(); ++i) {
      const json& b = (*spots)[i];
      bool ok = b.is_array() && b.size() == 5;
      for (size_t k = 0; ok && k < 5; ++k) {
        ok = b[k].is_number() && b[k].get<double>() >= 0 && b[k].get<double>() <= 1;
      }
      if (!ok) {
        r.note("empty_reference[" + std::to_string(i) +
               "] must be [x, y, w, h, score], each a share from 0 to 1 (got " + shown(b) + ")");
        break;
      }
      s.empty_reference.push_back(Box{b[0].get<float>(), b[1].get<float>(), b[2].get<float>(),
                                      b[3].get<float>(), b[4].get<float>()});
    }
  }
  double min_score = 0;
  r.number("min_score", min_score, 0, 1);
  s.min_score = static_cast<float>(min_score);
  if (r.present("view_confirmed_ms")) r.whole("view_confirmed_ms", s.view_confirmed_ms);
  if (r.error()) return std::unexpected(*r.error());
  return s;
}

json to_json(const SignedSetup& setup) {
  return {{"version", setup.version}, {"body", setup.body}, {"signature", setup.signature}};
}

std::optional<SignedSetup> signed_setup_from(const json& j) {
  if (!j.is_object() || !j.contains("version") || !j["version"].is_number_integer() ||
      !j.contains("body") || !j["body"].is_string() || !j.contains("signature") ||
      !j["signature"].is_string()) {
    return std::nullopt;
  }
  return SignedSetup{j["version"].get<std::int64_t>(), j["body"].get<std::string>(),
                     j["signature"].get<std::string>()};
}

SignedSetup sign_setup(std::string_view secret, std::string_view site_id, std::int64_t version,
                       std::string body) {
  SignedSetup s{version, std::move(body), ""};
  s.signature = hmac_sha256_hex(secret, signed_text(site_id, version, s.body));
  return s;
}

bool setup_signature_matches(std::string_view secret, std::string_view site_id,
                             const SignedSetup& setup) {
  return same_signature(hmac_sha256_hex(secret, signed_text(site_id, setup.version, setup.body)),
                        setup.signature);
}

}  // namespace att
