// TimelineLevel: one granularity of a rollup's timeline, its cells sorted
// by (bucket, key) with each cell's distinct users. The feature timeline
// (partition_rollup.h) keys its cells by feature, the version timeline
// (version_timeline.h) by product_version.
//
// Thread-safety: immutable once built.
#ifndef USAGEDB_ROLLUP_TIMELINE_LEVEL_H_
#define USAGEDB_ROLLUP_TIMELINE_LEVEL_H_

#include <cstdint>
#include <span>
#include <vector>

namespace usagedb {

// One (bucket, feature) group of a timeline granularity (or (bucket,
// version): see the header).
struct TimelineCell {
  uint32_t bucket;  // start of the bucket, Unix seconds
  uint32_t feature;  // the key: a feature code, or a version code
  uint64_t events;
  uint32_t users_begin;  // the distinct users: user_codes[users_begin, users_end)
  uint32_t users_end;
};

// The cells of one granularity, sorted by (bucket, feature).
struct TimelineLevel {
  std::vector<TimelineCell> cells;
  std::vector<uint32_t> user_codes;  // per cell, ascending

  // The cells whose bucket is in [begin, end).
  std::span<const TimelineCell> cells_between(int64_t begin, int64_t end) const;
  std::span<const uint32_t> users(const TimelineCell& c) const {
    return std::span<const uint32_t>(user_codes).subspan(c.users_begin, c.users_end - c.users_begin);
  }
};

}  // namespace usagedb

#endif  // USAGEDB_ROLLUP_TIMELINE_LEVEL_H_
