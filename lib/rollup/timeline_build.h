// How a rollup builds timeline cells (TimelineLevel, partition_rollup.h):
// the rows an hour at a time, the cells of one bucket from (key << 32 |
// user) pairs, and a coarser granularity's cells from a finer one's. The feature timeline keys its
// cells by feature, the version timeline (version_timeline.h) by version.
//
// Thread-safety: pure functions of their arguments.
#ifndef USAGEDB_ROLLUP_TIMELINE_BUILD_H_
#define USAGEDB_ROLLUP_TIMELINE_BUILD_H_

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "lib/rollup/timeline_level.h"
#include "lib/table/part.h"
#include "lib/util/civil_time.h"

namespace usagedb::rollup_internal {

// Appends the cells of one bucket to `level` from `pairs` (key << 32 |
// user): cells in key order, each with its distinct users ascending. Each
// pair is an event when `events` is null; otherwise the pairs are the
// distinct users of finer cells, and `events` their (key, events) to add
// up. Clears both. `scratch`: the sort's.
void emit_bucket(uint32_t bucket, std::vector<uint64_t>& pairs, std::vector<std::pair<uint32_t, uint64_t>>* events,
                 TimelineLevel& level, std::vector<uint64_t>& scratch);

// Calls visit(p, row) for every row of `parts`, an hour at a time
// across the parts (each part's rows of an hour follow each other: parts
// are sorted by time), then done(hour) after each hour's rows, hours
// ascending.
template <typename Visit, typename Done>
void for_each_hour(std::span<const std::shared_ptr<const Part>> parts, Visit&& visit, Done&& done) {
  std::vector<uint32_t> pos(parts.size(), 0);
  for (;;) {
    int64_t hour = std::numeric_limits<int64_t>::max();
    for (size_t p = 0; p < parts.size(); ++p) {
      if (pos[p] < parts[p]->rows()) hour = std::min(hour, civil::start_of_hour(parts[p]->columns().timestamp[pos[p]]));
    }
    if (hour == std::numeric_limits<int64_t>::max()) return;
    const int64_t end = hour + civil::kSecondsPerHour;
    for (size_t p = 0; p < parts.size(); ++p) {
      const std::vector<uint32_t>& timestamps = parts[p]->columns().timestamp;
      uint32_t row = pos[p];
      for (; row < timestamps.size() && timestamps[row] < end; ++row) visit(p, row);
      pos[p] = row;
    }
    done(hour);
  }
}

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
    // A coarse bucket of one fine bucket (a live store's part of a few
    // minutes: its hour is its day, its week and its month) is that
    // bucket's cells as they are: one per key, users distinct and
    // ascending, as emit_bucket would make them.
    size_t end = i;
    bool one_fine_bucket = true;
    for (; end < fine.cells.size() && bucket_of(fine.cells[end].bucket) == bucket; ++end) {
      one_fine_bucket = one_fine_bucket && fine.cells[end].bucket == fine.cells[i].bucket;
    }
    if (one_fine_bucket) {
      for (; i < end; ++i) {
        const TimelineCell& c = fine.cells[i];
        const auto begin = static_cast<uint32_t>(level.user_codes.size());
        const std::span<const uint32_t> users = fine.users(c);
        level.user_codes.insert(level.user_codes.end(), users.begin(), users.end());
        level.cells.push_back(TimelineCell{bucket, c.feature, c.events, begin,
                                           static_cast<uint32_t>(level.user_codes.size())});
      }
      continue;
    }
    for (; i < end; ++i) {
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
