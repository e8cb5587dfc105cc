// Boxes as JSON, the one form the system writes them in: on the wire (a node's count), at rest
// (an observation's row, a roll call's ledger entry) and to the pages. A box is
// [x, y, w, h, score] in its frame's pixels, to a tenth of a pixel and a thousandth of a score.
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "common/box.h"

namespace att {

nlohmann::json boxes_to_json(const std::vector<Box>& boxes);

// What this system wrote: entries that are not five numbers are skipped. A request's boxes are
// checked, with a message for each fault, by parse_node_count (protocol/node_count.h).
std::vector<Box> boxes_from_json(const nlohmann::json& boxes);

}  // namespace att
