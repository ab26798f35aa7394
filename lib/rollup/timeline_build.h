// How a rollup builds timeline cells (TimelineLevel, partition_rollup.h):
// the cells of one bucket from (key << 32 | user) pairs, and a coarser
// granularity's cells from a finer one's. The feature timeline keys its
// cells by feature, the version timeline (version_timeline.h) by version.
//
// Thread-safety: pure functions of their arguments.
#ifndef USAGEDB_ROLLUP_TIMELINE_BUILD_H_
#define USAGEDB_ROLLUP_TIMELINE_BUILD_H_

#include <cstdint>
#include <utility>
#include <vector>

#include "lib/rollup/timeline_level.h"

namespace usagedb::rollup_internal {

// Appends the cells of one bucket to `level` from `pairs` (key << 32 |
// user): cells in key order, each with its distinct users ascending. Each
// pair is an event when `events` is null; otherwise the pairs are the
// distinct users of finer cells, and `events` their (key, events) to add
// up. Clears both. `scratch`: the sort's.
void emit_bucket(uint32_t bucket, std::vector<uint64_t>& pairs, std::vector<std::pair<uint32_t, uint64_t>>* events,
                 TimelineLevel& level, std::vector<uint64_t>& scratch);

// The cells of a coarser granularity from those of a finer one: each
// coarse bucket (bucket_of(fine bucket), monotone) unites the users and
// adds up the events of its fine cells, key by key.
template <typename BucketOf>
TimelineLevel coarsen(const TimelineLevel& fine, BucketOf bucket_of) {
  TimelineLevel level;
  level.cells.reserve(fine.cells.size() / 4);
  level.user_codes.reserve(fine.user_codes.size() / 2);
  std::vector<uint64_t> pairs, scratch;
  std::vector<std::pair<uint32_t, uint64_t>> events;
  for (size_t i = 0; i < fine.cells.size();) {
    const uint32_t bucket = bucket_of(fine.cells[i].bucket);
    for (; i < fine.cells.size() && bucket_of(fine.cells[i].bucket) == bucket; ++i) {
      const TimelineCell& c = fine.cells[i];
      events.emplace_back(c.feature, c.events);
      for (const uint32_t user : fine.users(c)) pairs.push_back((static_cast<uint64_t>(c.feature) << 32) | user);
    }
    emit_bucket(bucket, pairs, &events, level, scratch);
  }
  level.cells.shrink_to_fit();
  level.user_codes.shrink_to_fit();
  return level;
}

}  // namespace usagedb::rollup_internal

#endif  // USAGEDB_ROLLUP_TIMELINE_BUILD_H_
