#include "lib/rollup/feature_hours.h"

#include <algorithm>

#include "lib/util/civil_time.h"

namespace usagedb {

std::pair<size_t, size_t> FeatureHours::cells_between(uint32_t first, uint32_t last) const {
  const auto begin = std::lower_bound(hours.begin(), hours.end(), first);
  const auto end = std::lower_bound(begin, hours.end(), last);
  return {static_cast<size_t>(begin - hours.begin()), static_cast<size_t>(end - hours.begin())};
}

FeatureHours FeatureHours::from_cells(const TimelineLevel& level, std::span<const uint32_t> cells, uint32_t heavy) {
  FeatureHours h;
  size_t entries = 0;
  uint32_t max_user = 0;
  int64_t first_hour = 0, last_hour = 0;
  bool any = false;
  for (const uint32_t i : cells) {
    const TimelineCell& cell = level.cells[i];
    if (cell.users_begin == cell.users_end) continue;
    entries += cell.users_end - cell.users_begin;
    max_user = std::max(max_user, level.user_codes[cell.users_end - 1]);
    const int64_t hour = civil::floor_div(cell.bucket, civil::kSecondsPerHour);
    if (!any) first_hour = hour, any = true;
    last_hour = hour;
  }
  if (!any) return h;
  // Each user's cells, when heavy users may be kept apart.
  std::vector<uint32_t> count;
  if (heavy > 0 && last_hour - first_hour <= UINT16_MAX) {
    count.assign(size_t{max_user} + 1, 0);
    for (const uint32_t i : cells) {
      for (const uint32_t user : level.users(level.cells[i])) ++count[user];
    }
    h.heavy_base = static_cast<uint32_t>(first_hour);
    h.heavy_last = static_cast<uint32_t>(last_hour - first_hour);
    // count[user] becomes the heavy user's next slot in heavy_hours, or
    // UINT32_MAX for a light one.
    uint32_t slots = 0;
    for (uint32_t user = 0; user < count.size(); ++user) {
      if (count[user] < heavy) {
        count[user] = UINT32_MAX;
        continue;
      }
      h.heavy_users.push_back(user);
      const uint32_t n = count[user];
      count[user] = slots;
      slots += n;
      h.heavy_ends.push_back(slots);
    }
    h.heavy_hours.resize(slots);
    entries -= slots;
    if (h.heavy_users.empty()) count.clear();
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
    const auto hour = static_cast<uint32_t>(civil::floor_div(cell.bucket, civil::kSecondsPerHour));
    const size_t before = narrow ? h.narrow.size() : h.users.size();
    if (count.empty()) {
      if (narrow) {
        h.narrow.insert(h.narrow.end(), users.begin(), users.end());  // each below 2^16
      } else {
        h.users.insert(h.users.end(), users.begin(), users.end());
      }
    } else {
      for (const uint32_t user : users) {
        if (count[user] != UINT32_MAX) {
          h.heavy_hours[count[user]++] = static_cast<uint16_t>(hour - h.heavy_base);
        } else if (narrow) {
          h.narrow.push_back(static_cast<uint16_t>(user));
        } else {
          h.users.push_back(user);
        }
      }
    }
    const size_t after = narrow ? h.narrow.size() : h.users.size();
    if (after == before) continue;  // only heavy users
    h.hours.push_back(hour);
    h.ends.push_back(static_cast<uint32_t>(after));
  }
  return h;
}

}  // namespace usagedb
