// SPEC 2.3: events and distinct users per (period, feature).
//
// A partition with rollups answers from their cells of the requested
// granularity when the window cuts its month only at bucket boundaries (date
// parameters always do for hour and day), so every cell is whole inside the
// window. Parts the rollup does not hold yet, partitions cut mid-bucket, and requests filtering on
// product_version or event_type (the rollup groups by feature only) are
// scanned. A bucket fed by several sources (a week spanning two months, the
// rollups of several parts, a rollup cell plus scanned rows) gets its
// distinct users from the union. When nothing is scanned, each partition
// has one rollup and buckets cannot span partitions (hour, day, month),
// each (bucket, feature) is exactly one cell: the rows come straight
// from the cells, in their (bucket, feature) order, with no grouping.
#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "lib/query/endpoints.h"
#include "lib/query/local_timeline.h"
#include "lib/query/scan.h"
#include "lib/util/civil_time.h"

namespace usagedb {
namespace {

struct Bucket {
  uint64_t events = 0;
  std::span<const uint32_t> cell_users;  // the first rollup cell's sorted users
  Bitmap users;                          // every other source's

  uint64_t unique_users() const {
    if (users.empty()) return cell_users.size();
    uint64_t n = users.cardinality();
    for (const uint32_t u : cell_users) n += !users.contains(u);
    return n;
  }
};

struct Key {
  int64_t period;
  uint32_t feature;
  friend bool operator==(const Key&, const Key&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const Key& k) {
    return H::combine(std::move(h), k.period, k.feature);
  }
};

int64_t bucket_of(Granularity g, int64_t t) {
  switch (g) {
    case Granularity::kHour: return civil::start_of_hour(t);
    case Granularity::kDay: return civil::start_of_day(t);
    case Granularity::kWeek: return civil::start_of_week(t);
    case Granularity::kMonth: return civil::start_of_month(t);
  }
  return t;
}

}  // namespace

absl::StatusOr<QueryResult<FeatureUsageTimelineRow>> run_feature_usage_timeline(
    const Snapshot& snapshot, const FeatureUsageTimelineQuery& q) {
  query::Stats stats;
  switch (q.granularity) {
    case Granularity::kHour:
    case Granularity::kDay:
    case Granularity::kWeek:
    case Granularity::kMonth:
      break;
    default:
      return absl::InvalidArgumentError("granularity: must be one of hour, day, week, month");
  }
  auto window = query::make_window(q.start_date, q.end_date);
  if (!window.ok()) return window.status();
  auto zone = query::resolve_time_zone(q.tz);
  if (!zone.ok()) return zone.status();
  const Dictionaries& dicts = snapshot.dictionaries();
  const query::ScanFilters filters{query::resolve_filter(dicts.feature, q.feature_id),
                                   query::resolve_filter(dicts.version, q.product_version),
                                   query::resolve_filter(dicts.event_type, q.event_type), *window};
  // Local periods (SPEC 2.11) of a zone that is not UTC: local_timeline.h.
  if (!(*zone)->is_utc()) return query::run_local_timeline(snapshot, q, filters, **zone, stats);

  absl::flat_hash_map<Key, Bucket> groups;

  // Partitions answered by rollups, and the cells they answer with.
  struct RolledCell {
    const TimelineCell* cell;
    const TimelineLevel* level;
  };
  std::vector<RolledCell> cells_read;
  std::vector<const PartitionView*> rolled;
  // Each rolled partition has one rollup: a (bucket, feature) of hour, day
  // or month granularity is at most one cell.
  bool one_cell_per_bucket = true;
  if (!filters.matches_nothing() && !filters.version.active && !filters.event_type.active) {
    const Granularity g = q.granularity;
    for (const PartitionView& p : snapshot.partitions()) {
      if (p.rollups().empty()) continue;
      const int64_t month_begin = civil::month_start(p.month());
      const int64_t month_end = civil::month_start(civil::next_month(p.month()));
      const int64_t begin = std::max(window->begin, month_begin), end = std::min(window->end, month_end);
      if (begin >= end) continue;
      // The window may cut the month only at bucket boundaries.
      if (begin != month_begin && bucket_of(g, begin) != begin) continue;
      if (end != month_end && bucket_of(g, end) != end) continue;
      rolled.push_back(&p);
      one_cell_per_bucket = one_cell_per_bucket && p.rollups().size() == 1;
      for (const CoveredRollup& e : p.rollups().entries()) {
        const TimelineLevel& level = e.rollup->timeline(g);
        const std::span<const TimelineCell> cells = level.cells_between(bucket_of(g, begin), end);
        const size_t before = cells_read.size();
        cells_read.reserve(before + cells.size());
        for (const TimelineCell& c : cells) {
          if (filters.feature.accepts(c.feature)) cells_read.push_back(RolledCell{&c, &level});
        }
        stats.read_rows(cells_read.size() - before, sizeof(TimelineCell));
      }
    }
  }

  auto visit = [&](const RowCodes& r) {
    Bucket& b = groups[Key{bucket_of(q.granularity, r.timestamp), r.feature}];
    ++b.events;
    b.users.add(r.user);
  };
  auto in_rollup = [&](const PartitionView& p, const Part& part) {
    return std::find(rolled.begin(), rolled.end(), &p) != rolled.end() && p.covered(part);
  };
  query::scan(snapshot, filters, stats, visit, in_rollup);

  if (groups.empty() && one_cell_per_bucket && q.granularity != Granularity::kWeek) {
    std::vector<uint32_t> features;
    features.reserve(cells_read.size());
    for (const RolledCell& c : cells_read) features.push_back(c.cell->feature);
    const StringRank rank(dicts.feature, std::move(features));
    // (bucket << 32 | feature rank, cell): in bucket order already (the
    // partitions come in month order, each level's cells in bucket order),
    // so only each bucket's few cells need ordering by feature.
    std::vector<std::pair<uint64_t, uint32_t>> order;
    order.reserve(cells_read.size());
    bool bucket_order = true;
    for (uint32_t i = 0; i < cells_read.size(); ++i) {
      const TimelineCell& c = *cells_read[i].cell;
      bucket_order = bucket_order && (order.empty() || (order.back().first >> 32) <= c.bucket);
      order.emplace_back((static_cast<uint64_t>(c.bucket) << 32) | rank(c.feature), i);
    }
    if (bucket_order) {
      for (size_t begin = 0, end; begin < order.size(); begin = end) {
        for (end = begin + 1; end < order.size() && (order[end].first >> 32) == (order[begin].first >> 32);) ++end;
        std::sort(order.begin() + begin, order.begin() + end);
      }
    } else {
      std::sort(order.begin(), order.end());
    }
    return query::page_of<FeatureUsageTimelineRow>(order.size(), q.limit, q.skip, stats, [&](size_t i) {
      const RolledCell& c = cells_read[order[i].second];
      return FeatureUsageTimelineRow{query::to_timestamp(c.cell->bucket),
                                     std::string(dicts.feature.lookup(c.cell->feature)), c.cell->events,
                                     c.level->users(*c.cell).size()};
    });
  }
  for (const RolledCell& rc : cells_read) {
    const TimelineCell& c = *rc.cell;
    Bucket& b = groups[Key{c.bucket, c.feature}];
    b.events += c.events;
    if (b.cell_users.empty() && b.users.empty()) {
      b.cell_users = rc.level->users(c);
    } else {
      b.users.add_many(rc.level->users(c));
    }
  }

  // ORDER BY period ASC, feature_id ASC, on codes; rows for the page only.
  std::vector<uint32_t> features;
  features.reserve(groups.size());
  for (const auto& [key, b] : groups) features.push_back(key.feature);
  const StringRank rank(dicts.feature, std::move(features));
  // (period << 32 | rank): periods are Unix seconds of the DateTime range,
  // which fit in 32 bits.
  std::vector<std::pair<uint64_t, const Bucket*>> sorted;
  sorted.reserve(groups.size());
  for (const auto& [key, b] : groups) {
    sorted.emplace_back((static_cast<uint64_t>(key.period) << 32) | rank(key.feature), &b);
  }
  std::sort(sorted.begin(), sorted.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return query::page_of<FeatureUsageTimelineRow>(sorted.size(), q.limit, q.skip, stats, [&](size_t i) {
    const auto& [key, bucket] = sorted[i];
    return FeatureUsageTimelineRow{query::to_timestamp(static_cast<int64_t>(key >> 32)),
                                   std::string(dicts.feature.lookup(rank.code_of(static_cast<uint32_t>(key)))),
                                   bucket->events, bucket->unique_users()};
  });
}

}  // namespace usagedb
