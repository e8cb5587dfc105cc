// A site's counting setup from the dashboard (technicians, admins): the setup in force with
// its versions, the latest picture and what the setup does to its detections, a preview of a
// setup being drawn, and saving one (analysis/ingest/site_setups.h applies it from the next
// frame). Every saved change is written to the audit trail.
#include <httplib.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "analysis/ingest/site_setups.h"
#include "analysis/web/api_service.h"
#include "common/files.h"
#include "protocol/boxes.h"

namespace att {

using json = nlohmann::json;

namespace {

constexpr size_t kHistoryShown = 20;

json judged_json(const std::vector<Box>& detections, const std::vector<Judged>& judged) {
  json out = json::array();
  for (size_t i = 0; i < detections.size(); ++i) {
    json d{{"box", boxes_to_json({detections[i]})[0]}, {"verdict", to_string(judged[i].verdict)}};
    if (!judged[i].zone.empty()) d["zone"] = judged[i].zone;
    out.push_back(std::move(d));
  }
  return out;
}

json setup_json(const SiteSetup& setup) {
  return json::parse(setup.to_json());
}

}  // namespace

// The picture a setup is drawn on: the observation `sequence` of the site (the page names the
// one it was shown), else the latest with a picture; none with the answer in `res`.
std::optional<Observation> ApiService::setup_picture(const std::string& id,
                                                     const httplib::Request& req,
                                                     httplib::Response& res) {
  if (!req.has_param("sequence")) {
    const auto latest = latest_or_error(id, res);
    if (!latest) return std::nullopt;
    auto pictured = picture_of(*latest);
    if (!pictured || pictured->frame_path.empty()) {
      send_error(res, 410, "no_picture", "the site has no picture to set up on; wait for a frame");
      return std::nullopt;
    }
    return pictured;
  }
  std::int64_t sequence = 0;
  try {
    sequence = std::stoll(req.get_param_value("sequence"));
  } catch (const std::exception&) {
    send_error(res, 400, "bad_request", "sequence must be an integer");
    return std::nullopt;
  }
  auto found = store.find_observation(id, sequence);
  if (!found) {
    log->error("site {}: {}", id, found.error().message);
    send_error(res, 503, "storage_failed", "cannot read observations");
    return std::nullopt;
  }
  if (!*found || (*found)->frame_path.empty()) {
    send_error(res, 410, "no_picture", "that picture is no longer kept; reload the page");
    return std::nullopt;
  }
  return *found;
}

// The picture's detections, or none with the answer in `res`.
std::optional<std::vector<Box>> ApiService::setup_detections(const Observation& o,
                                                             httplib::Response& res) {
  auto jpeg = read_file(options.data_dir / o.frame_path);
  auto boxes = jpeg ? setups.detections_of(o, *jpeg, options.max_image_pixels)
                    : Result<std::vector<Box>>(std::unexpected(jpeg.error()));
  if (!boxes) {
    log->error("site {}: picture {} for its setup: {}", o.site_id, o.frame_path,
               boxes.error().message);
    send_error(res, 500, "frame_unreadable", "the picture cannot be read");
    return std::nullopt;
  }
  return std::move(*boxes);
}

// -> {"version", "made_by", "created_ms", "setup", "history": [...], "picture": {...} | null,
//     "detections": [{"box", "verdict", "zone"?}]}
void ApiService::get_setup(const httplib::Request& req, httplib::Response& res) {
  const std::string id = req.matches[1];
  if (!by_id.contains(id)) return send_error(res, 404, "unknown_site", "no site '" + id + "'");
  const auto now = setups.in_force(id);
  auto history = store.setup_history(id);
  if (!now || !history) {
    log->error("site {}: setup: {}", id, now ? history.error().message : now.error().message);
    return send_error(res, 503, "storage_failed", "cannot read the site's setup");
  }
  json versions = json::array();
  for (auto it = history->rbegin(); it != history->rend() && versions.size() < kHistoryShown; ++it)
    versions.push_back(
        {{"version", it->version}, {"made_by", it->made_by}, {"created_ms", it->created_ms}});
  json body{{"site_id", id},
            {"version", now->version},
            {"made_by", now->made_by},
            {"created_ms", now->created_ms},
            {"setup", setup_json(now->setup)},
            {"history", std::move(versions)},
            {"picture", nullptr},
            {"detections", json::array()}};
  // The picture is optional here: a site that has sent none can still be set up by hand.
  httplib::Response none;
  if (const auto o = setup_picture(id, req, none)) {
    const auto detections = setup_detections(*o, res);
    if (!detections) return;
    body["picture"] = {{"url", "/api/v1/sites/" + id +
                                   "/setup/picture.jpg?sequence=" + std::to_string(o->sequence)},
                       {"sequence", o->sequence},
                       {"captured_at_ms", o->captured_at_ms},
                       {"width", o->width},
                       {"height", o->height}};
    body["detections"] =
        judged_json(*detections, setups.judge(id, now->setup, {o->width, o->height}, *detections));
  } else if (none.status != 410 && none.status != 404) {
    res = none;
    return;
  }
  send_json(res, 200, body);
}

// The picture as it was received (no boxes drawn: the page draws what the setup does).
void ApiService::get_setup_picture(const httplib::Request& req, httplib::Response& res) {
  const std::string id = req.matches[1];
  if (!by_id.contains(id)) return send_error(res, 404, "unknown_site", "no site '" + id + "'");
  const auto o = setup_picture(id, req, res);
  if (!o) return;
  auto jpeg = read_file(options.data_dir / o->frame_path);
  if (!jpeg) {
    log->error("site {}: picture {}: {}", id, o->frame_path, jpeg.error().message);
    return send_error(res, 500, "frame_unreadable", "the picture cannot be read");
  }
  res.status = 200;
  res.set_header("Cache-Control", "private, max-age=3600");
  res.set_content(std::move(*jpeg), "image/jpeg");
}

// The setup and picture of a preview or a save: {"setup": {...}, "sequence": N,
// "take_reference": bool, "confirm_view": bool}. With take_reference, the empty-room reference
// becomes the picture's detections; with confirm_view, the camera's view now is confirmed.
// None with the answer in `res`.
std::optional<ApiService::SetupRequest> ApiService::setup_request(const std::string& id,
                                                                  const httplib::Request& req,
                                                                  httplib::Response& res) {
  if (!by_id.contains(id)) {
    send_error(res, 404, "unknown_site", "no site '" + id + "'");
    return std::nullopt;
  }
  const json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object() || !body.contains("setup") || !body["setup"].is_object()) {
    send_error(res, 400, "bad_request", "expected JSON {\"setup\": {...}, \"sequence\": N}");
    return std::nullopt;
  }
  auto setup = parse_site_setup(body["setup"].dump());
  if (!setup) {
    send_error(res, 400, "bad_setup", setup.error().message);
    return std::nullopt;
  }
  for (const char* flag : {"take_reference", "confirm_view"}) {
    if (body.contains(flag) && !body[flag].is_boolean() && !body[flag].is_null()) {
      send_error(res, 400, "bad_request", std::string(flag) + " must be true or false");
      return std::nullopt;
    }
  }
  const auto flag = [&](const char* key) { return body.contains(key) && body[key] == true; };
  SetupRequest out{std::move(*setup),      std::nullopt,         {},
                   flag("take_reference"), flag("confirm_view"), std::nullopt};
  if (body.contains("based_on")) {
    if (!body["based_on"].is_number_integer()) {
      send_error(res, 400, "bad_request", "based_on: the version the change was drawn on");
      return std::nullopt;
    }
    out.based_on = body["based_on"].get<std::int64_t>();
  }
  // The camera's view as it is now becomes the reference of the "moved" check: the service's
  // time, which a node that counts answers with its next frame.
  if (out.confirm_view) out.setup.view_confirmed_ms = clock();
  if (body.contains("sequence") && !body["sequence"].is_null()) {
    if (!body["sequence"].is_number_integer()) {
      send_error(res, 400, "bad_request", "sequence must be an integer");
      return std::nullopt;
    }
    httplib::Request named;
    named.params.emplace("sequence", std::to_string(body["sequence"].get<std::int64_t>()));
    out.picture = setup_picture(id, named, res);
    if (!out.picture) return std::nullopt;
    auto detections = setup_detections(*out.picture, res);
    if (!detections) return std::nullopt;
    out.detections = std::move(*detections);
  } else if (out.take_reference) {
    send_error(res, 400, "bad_request",
               "the empty-room reference is taken from a picture: name its sequence");
    return std::nullopt;
  }
  if (out.take_reference) {
    out.setup.empty_reference =
        shares_of(out.detections, cv::Size2f(static_cast<float>(out.picture->width),
                                             static_cast<float>(out.picture->height)));
    if (out.setup.empty_reference.size() > kMaxReferenceSpots) {
      send_error(res, 400, "bad_setup", "the picture has more detections than an empty room may");
      return std::nullopt;
    }
  }
  return out;
}

// -> {"detections": [...], "empty_reference": [...]}: what the setup would do to the picture.
void ApiService::post_setup_preview(const httplib::Request& req, httplib::Response& res) {
  const std::string id = req.matches[1];
  const auto r = setup_request(id, req, res);
  if (!r) return;
  json body{{"detections", json::array()},
            {"empty_reference", setup_json(r->setup)["empty_reference"]}};  // shares, unrounded
  if (r->picture) {
    body["detections"] = judged_json(
        r->detections,
        setups.judge(id, r->setup, {r->picture->width, r->picture->height}, r->detections));
  }
  send_json(res, 200, body);
}

// {"setup", "based_on": version, "sequence"?, "take_reference"?} -> 200 the setup in force.
// 409 when the site's setup changed since the page read version `based_on`.
void ApiService::post_setup(const httplib::Request& req, httplib::Response& res) {
  const std::string id = req.matches[1];
  const auto who = session_of(auth, req, res);
  if (!who) return;
  const auto r = setup_request(id, req, res);
  if (!r) return;
  if (!r->based_on) {
    return send_error(res, 400, "bad_request", "based_on: the version the change was drawn on");
  }
  auto now = setups.change(id, r->setup, who->user, clock(), r->based_on);
  if (!now && now.error().code == ErrorCode::kConflict)
    return send_error(res, 409, "setup_changed", now.error().message);
  if (!now) {
    log->error("site {}: setup not saved: {}", id, now.error().message);
    return send_error(res, 503, "storage_failed",
                      "the setup cannot be saved: " + now.error().message);
  }
  const bool changed = now->version != *r->based_on;
  if (changed) {
    json what{{"version", now->version}, {"setup", setup_json(now->setup)}};
    if (r->take_reference) what["reference_from"] = r->picture->sequence;
    if (r->confirm_view) what["view_confirmed"] = true;
    if (!audit_change(req, res, *who, "site_setup", "site/" + id, what)) return;
  }
  send_json(res, 200,
            {{"site_id", id},
             {"version", now->version},
             {"made_by", now->made_by},
             {"created_ms", now->created_ms},
             {"changed", changed},
             {"setup", setup_json(now->setup)}});
}

}  // namespace att
