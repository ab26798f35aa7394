#include "lib/db/merge_policy.h"

#include <algorithm>

namespace usagedb {

std::vector<size_t> pick_merge(std::span<const uint32_t> part_rows, size_t base_rows, size_t fan_in) {
  auto tier = [&](uint32_t rows) {
    int t = 0;
    for (uint64_t limit = static_cast<uint64_t>(base_rows) * fan_in; rows >= limit; limit *= fan_in) ++t;
    return t;
  };
  std::vector<std::pair<int, size_t>> by_tier(part_rows.size());
  for (size_t i = 0; i < part_rows.size(); ++i) by_tier[i] = {tier(part_rows[i]), i};
  // Smallest tier first, and within a tier the smallest parts first.
  std::sort(by_tier.begin(), by_tier.end(), [&](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first < b.first;
    return part_rows[a.second] < part_rows[b.second];
  });
  for (size_t i = 0; i + fan_in <= by_tier.size(); ++i) {
    if (by_tier[i].first == by_tier[i + fan_in - 1].first) {
      std::vector<size_t> pick;
      for (size_t k = i; k < i + fan_in; ++k) pick.push_back(by_tier[k].second);
      return pick;
    }
  }
  return {};
}

}  // namespace usagedb
