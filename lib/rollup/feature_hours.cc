#include "lib/rollup/feature_hours.h"

#include <algorithm>

#include "lib/util/civil_time.h"

namespace usagedb {

std::pair<size_t, size_t> FeatureHours::cells_between(uint32_t first, uint32_t last) const {
  const auto begin = std::lower_bound(hours.begin(), hours.end(), first);
  const auto end = std::lower_bound(begin, hours.end(), last);
  return {static_cast<size_t>(begin - hours.begin()), static_cast<size_t>(end - hours.begin())};
}

FeatureHours FeatureHours::from_cells(const TimelineLevel& level, std::span<const uint32_t> cells) {
  FeatureHours h;
  size_t entries = 0;
  uint32_t max_user = 0;
  for (const uint32_t i : cells) {
    const TimelineCell& cell = level.cells[i];
    entries += cell.users_end - cell.users_begin;
    if (cell.users_begin != cell.users_end) max_user = std::max(max_user, level.user_codes[cell.users_end - 1]);
  }
  const bool narrow = max_user <= UINT16_MAX;
  h.hours.reserve(cells.size());
  h.ends.reserve(cells.size());
  if (narrow) {
    h.narrow.reserve(entries);
  } else {
    h.users.reserve(entries);
  }
  for (const uint32_t i : cells) {
    const TimelineCell& cell = level.cells[i];
    if (cell.users_begin == cell.users_end) continue;
    const std::span<const uint32_t> users = level.users(cell);
    if (narrow) {
      h.narrow.insert(h.narrow.end(), users.begin(), users.end());  // each below 2^16
    } else {
      h.users.insert(h.users.end(), users.begin(), users.end());
    }
    h.hours.push_back(static_cast<uint32_t>(civil::floor_div(cell.bucket, civil::kSecondsPerHour)));
    h.ends.push_back(static_cast<uint32_t>(narrow ? h.narrow.size() : h.users.size()));
  }
  return h;
}

}  // namespace usagedb
