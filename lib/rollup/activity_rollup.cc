#include "lib/rollup/activity_rollup.h"

#include <algorithm>

#include "lib/rollup/partition_rollup.h"

namespace usagedb {

ActivityRollup ActivityRollup::from_timeline(const TimelineLevel& days, const TimelineLevel& month) {
  ActivityRollup a;
  // Day by day, the union of the day's cells.
  std::vector<std::span<const uint32_t>> cells;
  for (size_t i = 0; i < days.cells.size();) {
    const uint32_t day = days.cells[i].bucket;
    cells.clear();
    for (; i < days.cells.size() && days.cells[i].bucket == day; ++i) cells.push_back(days.users(days.cells[i]));
    Bitmap users = Bitmap::union_of_ascending(cells);
    users.seal();
    if (!users.empty()) a.days_.push_back(DayUsers{day, std::move(users)});
  }
  // A month has one bucket: its cells are in feature order.
  a.features_.reserve(month.cells.size());
  for (const TimelineCell& c : month.cells) {
    Bitmap users = Bitmap::from_strictly_ascending(month.users(c));
    users.seal();
    a.features_.emplace_back(c.feature, std::move(users));
  }
  std::vector<const Bitmap*> all;
  all.reserve(a.days_.size());
  for (const DayUsers& d : a.days_) all.push_back(&d.users);
  a.month_ = Bitmap::union_of(all);
  a.month_.seal();
  return a;
}

std::span<const DayUsers> ActivityRollup::days_between(int64_t begin, int64_t end) const {
  auto lo = std::lower_bound(days_.begin(), days_.end(), begin,
                             [](const DayUsers& d, int64_t t) { return static_cast<int64_t>(d.day) < t; });
  auto hi = std::lower_bound(lo, days_.end(), end,
                             [](const DayUsers& d, int64_t t) { return static_cast<int64_t>(d.day) < t; });
  return std::span<const DayUsers>(lo, hi);
}

const Bitmap* ActivityRollup::feature_users(uint32_t feature) const {
  auto it = std::lower_bound(features_.begin(), features_.end(), feature,
                             [](const auto& entry, uint32_t f) { return entry.first < f; });
  return it != features_.end() && it->first == feature ? &it->second : nullptr;
}

size_t ActivityRollup::memory_bytes() const {
  size_t n = days_.capacity() * sizeof(DayUsers) + features_.capacity() * sizeof(features_[0]) + month_.memory_bytes();
  for (const DayUsers& d : days_) n += d.users.memory_bytes();
  for (const auto& [feature, users] : features_) n += users.memory_bytes();
  return n;
}

}  // namespace usagedb
