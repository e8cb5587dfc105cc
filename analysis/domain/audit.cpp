#include "analysis/domain/audit.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace att {

bool counts_disagree(int node_count, int audit_count, const AuditConfig& config) {
  const double allowed =
      std::max(static_cast<double>(config.tolerance), config.tolerance_share * node_count);
  return std::abs(node_count - audit_count) > allowed;
}

}  // namespace att
