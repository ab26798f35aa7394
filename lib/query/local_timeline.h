// The timeline (SPEC 2.3) in a time zone other than UTC (SPEC 2.11), and
// the helpers the local endpoints share.
//
// Each partition with a rollup answers from the cells that lie whole in one
// local bucket (local_cover.h: hour cells in a zone of whole-hour offsets,
// days and weeks where they fit), and reads only the rows of the hours a
// local boundary cuts; parts the rollup does not hold, unsealed rows and
// requests filtering on product_version or event_type are read from the
// rows, bucketed with the zone's offset table.
//
// Thread-safety: pure functions of an immutable Snapshot.
#ifndef USAGEDB_QUERY_LOCAL_TIMELINE_H_
#define USAGEDB_QUERY_LOCAL_TIMELINE_H_

#include <cstdint>
#include <span>

#include "absl/status/statusor.h"
#include "lib/query/scan.h"
#include "lib/query/snapshot.h"
#include "lib/rollup/partition_rollup.h"
#include "lib/rollup/timeline_level.h"
#include "lib/util/time_zone.h"
#include "usagedb/queries.h"

namespace usagedb::query {

// REQUIRES: `filters` are q's, validated.
absl::StatusOr<QueryResult<FeatureUsageTimelineRow>> run_local_timeline(const Snapshot& snapshot,
                                                                        const FeatureUsageTimelineQuery& q,
                                                                        const ScanFilters& filters,
                                                                        const TimeZone& zone, Stats& stats);

// Calls f(cell) for each cell of `cells` (sorted by (bucket, key)) whose key
// is `key` (or each cell, when `key` is null), skipping the others a
// bucket at a time.
template <typename F>
void for_each_cell_with_key(std::span<const TimelineCell> cells, const uint32_t* key, F&& f) {
  if (key == nullptr) {
    for (const TimelineCell& c : cells) f(c);
    return;
  }
  const auto less = [](const TimelineCell& c, std::pair<uint32_t, uint64_t> k) {
    return std::pair<uint32_t, uint64_t>(c.bucket, c.feature) < k;
  };
  // A bucket's cells are few: galloping from where the last one ended.
  const auto find = [&](size_t from, std::pair<uint32_t, uint64_t> k) {
    size_t step = 1, hi = from;
    while (hi < cells.size() && less(cells[hi], k)) {
      from = hi + 1;
      hi += step;
      step *= 2;
    }
    return static_cast<size_t>(
        std::lower_bound(cells.begin() + from, cells.begin() + std::min(hi, cells.size()), k, less) - cells.begin());
  };
  for (size_t i = 0; i < cells.size();) {
    const uint32_t bucket = cells[i].bucket;
    const size_t j = find(i, {bucket, *key});
    if (j < cells.size() && cells[j].bucket == bucket && cells[j].feature == *key) f(cells[j]);
    i = find(j, {bucket, uint64_t{UINT32_MAX} + 1});
  }
}

// Calls f(cell) for each hour cell of `feature` in `rollup` whose bucket is
// in [begin, end), in time order, through the rollup's index of one
// feature's hours (without stepping over the other features' cells).
template <typename F>
void for_each_hour_cell_of(const PartitionRollup& rollup, uint32_t feature, int64_t begin, int64_t end, F&& f) {
  const TimelineLevel& level = rollup.timeline(Granularity::kHour);
  const std::span<const uint32_t> of_feature = rollup.hour_cells_of(feature);
  auto it = std::lower_bound(of_feature.begin(), of_feature.end(), begin,
                             [&](uint32_t i, int64_t t) { return level.cells[i].bucket < t; });
  for (; it != of_feature.end() && level.cells[*it].bucket < end; ++it) f(level.cells[*it]);
}

}  // namespace usagedb::query

#endif  // USAGEDB_QUERY_LOCAL_TIMELINE_H_
