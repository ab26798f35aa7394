// VersionTimeline: the section of a rollup that version_adoption (SPEC
// 2.10) answers from. Per granularity (hour, day, week, month, as the
// feature timeline has them):
//
//   versions  (bucket, product_version) -> events, the sorted distinct users
//   active    bucket -> the sorted distinct users of every version (the
//             period's active users), one cell per bucket
//
// in TimelineLevels whose cells hold the version code in `feature` (0 in
// the active cells). Like the feature timeline it holds no event_type or
// feature: requests filtering on those read the parts.
//
// Built with the rest of its PartitionRollup, from the same parts: hour
// cells an hour at a time across the parts, days from hours, weeks and the
// month from days.
//
// Thread-safety: immutable once built.
#ifndef USAGEDB_ROLLUP_VERSION_TIMELINE_H_
#define USAGEDB_ROLLUP_VERSION_TIMELINE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "lib/rollup/timeline_level.h"
#include "lib/table/part.h"
#include "usagedb/queries.h"

namespace usagedb {

struct VersionTimeline {
  TimelineLevel versions[4];  // indexed by Granularity
  TimelineLevel active[4];

  // The cells of every row of `parts` (all in month `yyyymm`).
  static VersionTimeline build(uint32_t yyyymm, std::span<const std::shared_ptr<const Part>> parts);
  // Heap bytes held.
  size_t memory_bytes() const;
};

}  // namespace usagedb

#endif  // USAGEDB_ROLLUP_VERSION_TIMELINE_H_
