// A site's counting setup, kept at the service and delivered to its node in the answers to
// its uploads (nothing ever connects in to a site): the audience area and the excluded
// areas, the empty-room reference (the spots that fire with nobody there) and the lowest
// detection score counted. The service numbers each new setup of a site (1, 2, ...); the
// node names the version it counts with in every count (protocol/node_count.h), and an answer
// to a node that names another carries the whole setup, signed with the site's key, so that
// a node applies only what its own service sent.
//
// The body, one JSON object (coordinates are shares of the picture's width and height, 0..1,
// so that a setup survives a change of camera resolution):
//
//   {"count":[{"name":"hall","points":[[0.0,0.2],[1.0,0.2],[1.0,1.0],[0.0,1.0]]}],
//    "exclude":[{"name":"stage","points":[[0.3,0.0],[0.7,0.0],[0.7,0.25],[0.3,0.25]]}],
//    "empty_reference":[[0.41,0.32,0.02,0.03,0.71]],
//    "min_score":0.0,
//    "view_confirmed_ms":1783829400000}
//
// Every member is required (an empty array: none) but view_confirmed_ms: when a technician
// last confirmed the camera's view as the one the "moved" check compares with (ms since the
// epoch; left out while nobody has). A node that counts takes its next frame after a newer
// confirmation as its reference view. Unknown members are ignored.
// In an answer: "setup_version": N always, and when the node counts with another version
// "setup": {"version": N, "body": "<the JSON above, as a string>", "signature": "<hex>"}, the
// signature being HMAC-SHA256 under the site's secret of
//   attendance-setup-v1\n<site>\n<version>\n<body>
#pragma once

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/box.h"
#include "common/error.h"

namespace att {

inline constexpr size_t kMaxSetupZones = 32;
inline constexpr size_t kMaxZonePoints = 64;
inline constexpr size_t kMaxReferenceSpots = 500;

struct SetupZone {
  std::string name;                          // 1..64 bytes
  std::vector<std::array<float, 2>> points;  // 3..kMaxZonePoints, each 0..1
  bool operator==(const SetupZone&) const = default;
};

struct SiteSetup {
  std::vector<SetupZone> count;    // the audience area; empty: the whole picture
  std::vector<SetupZone> exclude;  // stage, door, a screen showing the remote lecturer...
  // Detections on a picture of the empty room, in shares of its size, [x, y, w, h, score].
  std::vector<Box> empty_reference;
  float min_score = 0;                 // detections scored below this are not counted; 0: all
  std::int64_t view_confirmed_ms = 0;  // the reference view confirmed then; 0: never
  bool operator==(const SiteSetup&) const = default;

  std::string to_json() const;  // canonical: the same setup gives the same bytes
};

// The setup in `text`, checked against the rules above; an Error with ErrorCode::kInvalid
// naming the member ("exclude[1].points") and what it must be.
Result<SiteSetup> parse_site_setup(std::string_view text);

// A setup as it travels: its version, its body, and the body's signature for its site.
struct SignedSetup {
  std::int64_t version = 0;
  std::string body;
  std::string signature;
  bool operator==(const SignedSetup&) const = default;
};

// The signed setup as it travels in an answer and as a node keeps it:
// {"version": N, "body": "...", "signature": "..."}; none from anything else.
nlohmann::json to_json(const SignedSetup& setup);
std::optional<SignedSetup> signed_setup_from(const nlohmann::json& j);

SignedSetup sign_setup(std::string_view secret, std::string_view site_id, std::int64_t version,
                       std::string body);
// True when the signature is the site's. Constant time in the signature's content.
bool setup_signature_matches(std::string_view secret, std::string_view site_id,
                             const SignedSetup& setup);

}  // namespace att
