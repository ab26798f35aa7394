#include "lib/query/local_timeline.h"

#include <algorithm>
#include <vector>

#include "lib/query/distinct_groups.h"
#include "lib/query/local_cover.h"
#include "lib/util/civil_time.h"

namespace usagedb::query {
namespace {

// (period << 32 | feature): periods are Unix seconds of the DateTime range.
uint64_t group_key(int64_t period, uint32_t feature) { return (static_cast<uint64_t>(period) << 32) | feature; }

}  // namespace

absl::StatusOr<QueryResult<FeatureUsageTimelineRow>> run_local_timeline(const Snapshot& snapshot,
                                                                        const FeatureUsageTimelineQuery& q,
                                                                        const ScanFilters& filters,
                                                                        const TimeZone& zone, Stats& stats) {
  const Dictionaries& dicts = snapshot.dictionaries();
  DistinctGroups groups;
  TimeZone::Bucketer bucket(zone, q.granularity);
  const auto add_row = [&](uint32_t timestamp, uint32_t feature, uint32_t user) {
    groups.add_row(groups.group(group_key(bucket(timestamp), feature)), user);
  };
  const uint32_t* only_feature = filters.feature.active ? &filters.feature.code : nullptr;

  std::vector<const PartitionView*> rolled;
  if (!filters.matches_nothing() && !filters.version.active && !filters.event_type.active) {
    for (const PartitionView& p : snapshot.partitions()) {
      if (p.rollups().empty() || !filters.window.overlaps_month(p.month())) continue;
      rolled.push_back(&p);
      const int64_t month_begin = civil::month_start(p.month());
      for (const CoverSegment& s : cover_local(p.month(), filters.window, zone, q.granularity)) {
        if (s.source == CoverSource::kRows) {
          ScanFilters edge = filters;
          edge.window = TimeWindow{s.begin, s.end};
          for (const auto& part : p.parts()) {
            if (!p.covered(*part)) continue;
            const HeldPart held = readable(snapshot, *part, edge);
            if (!held) continue;
            const PartColumns& c = part->columns();
            scan_part_rows(*part, edge, stats,
                           [&](uint32_t row) { add_row(c.timestamp[row], c.feature[row], c.user[row]); });
          }
          continue;
        }
        const int64_t first = cell_start(s.source, s.begin);
        for (const CoveredRollup& e : p.rollups().entries()) {
          const PartitionRollup* rollup = e.rollup.get();
          const TimelineLevel& level = rollup->timeline(cell_granularity(s.source));
          // Each cell lies whole in one bucket: its first instant's.
          uint64_t read = 0;
          const auto add_cell = [&](const TimelineCell& c) {
            const int64_t period = bucket(std::max<int64_t>(c.bucket, month_begin));
            groups.add_cell(groups.group(group_key(period, c.feature)), c.events, level.users(c));
            ++read;
          };
          if (only_feature != nullptr && s.source == CoverSource::kHourCells) {
            for_each_hour_cell_of(*rollup, *only_feature, first, s.end, add_cell);
          } else {
            for_each_cell_with_key(level.cells_between(first, s.end), only_feature, add_cell);
          }
          stats.read_rows(read, sizeof(TimelineCell));
        }
      }
    }
  }
  // Everything no rollup holds: other parts, and the unsealed rows.
  const auto in_rollup = [&](const PartitionView& p, const Part& part) {
    return std::find(rolled.begin(), rolled.end(), &p) != rolled.end() && p.covered(part);
  };
  scan(
      snapshot, filters, stats, [&](const RowCodes& r) { add_row(r.timestamp, r.feature, r.user); }, in_rollup);

  // ORDER BY period ASC, feature_id ASC, on codes; rows for the page only.
  const std::vector<uint64_t> users = groups.count_users();
  std::vector<uint32_t> features;
  features.reserve(groups.size());
  for (uint32_t g = 0; g < groups.size(); ++g) features.push_back(static_cast<uint32_t>(groups.key(g)));
  const StringRank rank(dicts.feature, std::move(features));
  std::vector<std::pair<uint64_t, uint32_t>> sorted;  // (period << 32 | feature rank, group)
  sorted.reserve(groups.size());
  for (uint32_t g = 0; g < groups.size(); ++g) {
    const uint64_t key = groups.key(g);
    sorted.emplace_back((key >> 32 << 32) | rank(static_cast<uint32_t>(key)), g);
  }
  std::sort(sorted.begin(), sorted.end());
  return page_of<FeatureUsageTimelineRow>(sorted.size(), q.limit, q.skip, stats, [&](size_t i) {
    const uint32_t g = sorted[i].second;
    const uint64_t key = groups.key(g);
    return FeatureUsageTimelineRow{to_timestamp(static_cast<int64_t>(key >> 32)),
                                   std::string(dicts.feature.lookup(static_cast<uint32_t>(key))), groups.events(g),
                                   users[g]};
  });
}

}  // namespace usagedb::query
