// SPEC 2.10: per period, the distinct users and events of each
// product_version, and the period's distinct users over all versions.
//
// A partition's rollups that have a version timeline (version_timeline.h)
// answer from their cells where the request filters on nothing but the time
// window: the cells that lie whole in one period (local_cover.h; in UTC the
// period's own cells), and the rows of the hours a local boundary cuts.
// Requests filtering on feature_id or event_type, parts no such rollup
// holds and the unsealed rows are read from the rows. A period fed by
// several sources (a week across two months) counts its users once
// (distinct_groups.h).
#include <algorithm>
#include <vector>

#include "lib/query/distinct_groups.h"
#include "lib/query/endpoints.h"
#include "lib/query/local_cover.h"
#include "lib/query/scan.h"
#include "lib/rollup/version_timeline.h"
#include "lib/util/civil_time.h"

namespace usagedb {

absl::StatusOr<QueryResult<VersionAdoptionRow>> run_version_adoption(const Snapshot& snapshot,
                                                                     const VersionAdoptionQuery& q) {
  query::Stats stats;
  auto window = query::make_window(q.start_date, q.end_date);
  if (!window.ok()) return window.status();
  auto zone = query::resolve_time_zone(q.tz);
  if (!zone.ok()) return zone.status();
  const TimeZone& tz = **zone;
  const Dictionaries& dicts = snapshot.dictionaries();
  const query::ScanFilters filters{query::resolve_filter(dicts.feature, q.feature_id), query::CodeFilter{},
                                   query::resolve_filter(dicts.event_type, q.event_type), *window};

  // (period << 32 | version) -> events and users; period -> users.
  query::DistinctGroups groups, active;
  const auto key = [](int64_t period, uint32_t version) { return (static_cast<uint64_t>(period) << 32) | version; };
  TimeZone::Bucketer bucket(tz, q.granularity);
  const auto add_row = [&](uint32_t timestamp, uint32_t version, uint32_t user) {
    const int64_t period = bucket(timestamp);
    groups.add_row(groups.group(key(period, version)), user);
    active.add_user(active.group(static_cast<uint64_t>(period)), user);
  };

  // The parts whose rollup has a version timeline (a rollup read from an
  // older file may lack it: its parts are read).
  const auto has_versions = [](const PartitionRollup* r) { return r != nullptr && r->versions() != nullptr; };
  std::vector<const PartitionView*> rolled;
  if (!filters.matches_nothing() && !filters.feature.active && !filters.event_type.active) {
    for (const PartitionView& p : snapshot.partitions()) {
      if (!filters.window.overlaps_month(p.month())) continue;
      const auto entries = p.rollups().entries();
      if (std::none_of(entries.begin(), entries.end(),
                       [&](const CoveredRollup& e) { return has_versions(e.rollup.get()); })) {
        continue;
      }
      rolled.push_back(&p);
      const int64_t month_begin = civil::month_start(p.month());
      for (const query::CoverSegment& s : query::cover_local(p.month(), filters.window, tz, q.granularity)) {
        if (s.source == query::CoverSource::kRows) {
          query::ScanFilters edge = filters;
          edge.window = query::TimeWindow{s.begin, s.end};
          for (const auto& part : p.parts()) {
            if (!has_versions(p.rollup_of(*part))) continue;
            const HeldPart held = query::readable(snapshot, *part, edge);
            if (!held) continue;
            const PartColumns& c = part->columns();
            query::scan_part_rows(*part, edge, stats,
                                  [&](uint32_t row) { add_row(c.timestamp[row], c.version[row], c.user[row]); });
          }
          continue;
        }
        const int g = static_cast<int>(query::cell_granularity(s.source));
        const int64_t first = query::cell_start(s.source, s.begin);
        // Each cell lies whole in one period: its first instant's.
        const auto period_of = [&](uint32_t cell_bucket) { return bucket(std::max<int64_t>(cell_bucket, month_begin)); };
        for (const CoveredRollup& e : entries) {
          const VersionTimeline* versions = e.rollup->versions();
          if (versions == nullptr) continue;
          // A week the month's start or end cuts is also a cell of the
          // month next to it: those cells' users as bits, which count the
          // two together a word at a time.
          static const VersionWeekEdges kNoEdges;
          const VersionWeekEdges& edges =
              s.source == query::CoverSource::kWeekCells ? e.rollup->version_week_edges() : kNoEdges;
          const TimelineLevel& level = versions->versions[g];
          const std::span<const TimelineCell> cells = level.cells_between(first, s.end);
          for (const TimelineCell& c : cells) {
            groups.add_cell(groups.group(key(period_of(c.bucket), c.feature)), c.events, level.users(c),
                            edges.versions.of(static_cast<uint32_t>(&c - level.cells.data())));
          }
          const TimelineLevel& active_level = versions->active[g];
          const std::span<const TimelineCell> active_cells = active_level.cells_between(first, s.end);
          for (const TimelineCell& c : active_cells) {
            active.add_users(active.group(static_cast<uint64_t>(period_of(c.bucket))), active_level.users(c),
                             edges.active.of(static_cast<uint32_t>(&c - active_level.cells.data())));
          }
          stats.read_rows(cells.size() + active_cells.size(), sizeof(TimelineCell));
        }
      }
    }
  }
  // Everything no rollup holds: other parts, and the unsealed rows.
  const auto in_rollup = [&](const PartitionView& p, const Part& part) {
    return std::find(rolled.begin(), rolled.end(), &p) != rolled.end() && has_versions(p.rollup_of(part));
  };
  query::scan(snapshot, filters, stats, [&](const RowCodes& r) { add_row(r.timestamp, r.version, r.user); }, in_rollup);

  // ORDER BY period ASC, users DESC, product_version ASC.
  const std::vector<uint64_t> users = groups.count_users();
  const std::vector<uint64_t> active_users = active.count_users();
  std::vector<uint32_t> versions;
  versions.reserve(groups.size());
  for (uint32_t g = 0; g < groups.size(); ++g) versions.push_back(static_cast<uint32_t>(groups.key(g)));
  const StringRank rank(dicts.version, std::move(versions));
  struct Sorted {
    int64_t period;
    uint64_t users;
    uint32_t rank;
    uint32_t group;
  };
  std::vector<Sorted> sorted;
  sorted.reserve(groups.size());
  for (uint32_t g = 0; g < groups.size(); ++g) {
    sorted.push_back(Sorted{static_cast<int64_t>(groups.key(g) >> 32), users[g],
                            rank(static_cast<uint32_t>(groups.key(g))), g});
  }
  std::sort(sorted.begin(), sorted.end(), [](const Sorted& a, const Sorted& b) {
    if (a.period != b.period) return a.period < b.period;
    if (a.users != b.users) return a.users > b.users;
    return a.rank < b.rank;
  });
  return query::page_of<VersionAdoptionRow>(sorted.size(), q.limit, q.skip, stats, [&](size_t i) {
    const Sorted& s = sorted[i];
    const uint64_t period_users = active_users[active.group(static_cast<uint64_t>(s.period))];
    return VersionAdoptionRow{query::to_timestamp(s.period),
                              std::string(dicts.version.lookup(rank.code_of(s.rank))),
                              s.users,
                              period_users,
                              static_cast<double>(s.users) / static_cast<double>(period_users),
                              groups.events(s.group)};
  });
}

}  // namespace usagedb
