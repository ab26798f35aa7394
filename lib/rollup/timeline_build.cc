#include "lib/rollup/timeline_build.h"

#include <algorithm>

#include "lib/util/radix_sort.h"

namespace usagedb::rollup_internal {

void emit_bucket(uint32_t bucket, std::vector<uint64_t>& pairs, std::vector<std::pair<uint32_t, uint64_t>>* events,
                 TimelineLevel& level, std::vector<uint64_t>& scratch) {
  radix_sort(std::span<uint64_t>(pairs), scratch);
  if (events != nullptr) std::sort(events->begin(), events->end());
  size_t e = 0;
  for (size_t i = 0; i < pairs.size();) {
    const auto key = static_cast<uint32_t>(pairs[i] >> 32);
    const auto begin = static_cast<uint32_t>(level.user_codes.size());
    const size_t first = i;
    for (; i < pairs.size() && (pairs[i] >> 32) == key; ++i) {
      const auto user = static_cast<uint32_t>(pairs[i]);
      if (level.user_codes.size() == begin || level.user_codes.back() != user) level.user_codes.push_back(user);
    }
    uint64_t n = i - first;
    if (events != nullptr) {
      for (n = 0; e < events->size() && (*events)[e].first == key; ++e) n += (*events)[e].second;
    }
    level.cells.push_back(TimelineCell{bucket, key, n, begin, static_cast<uint32_t>(level.user_codes.size())});
  }
  pairs.clear();
  if (events != nullptr) events->clear();
}

}  // namespace usagedb::rollup_internal
