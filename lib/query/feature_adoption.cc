// SPEC 2.5: per feature, its users among the active users.
//
// Each feature's distinct users (a bitmap) and events over the window; the
// active users are the union of every feature's users, which is the SQL's
// scalar subquery (the same filters, over all features). feature_id only
// picks the row, so every feature is computed whatever it is.
//
// Where a partition's rollups hold the rows (each of them read): without a product_version or
// event_type filter, a month wholly inside the window is its month cells
// (per feature: the events of the month) and activity bitmaps (the users),
// a month cut by the window its day and hour cells (rollup_cover.h); with a product_version
// filter, a whole month is its (feature, version) summary cells. The edges
// of a window cut mid-hour, the parts no rollup holds, the
// unsealed rows and any event_type filter are read from the rows.
#include <algorithm>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "lib/query/endpoints.h"
#include "lib/query/rollup_cover.h"
#include "lib/query/scan.h"

namespace usagedb {
namespace {

struct FeatureUsers {
  uint64_t events = 0;
  std::vector<const Bitmap*> bitmaps;            // rollup summary cells
  std::vector<std::span<const uint32_t>> cells;  // rollup timeline cells, each ascending
  Bitmap rows;                                   // from scanned rows

  Bitmap users() const {
    std::vector<const Bitmap*> all = bitmaps;
    const Bitmap from_cells = Bitmap::union_of_ascending(cells);
    all.push_back(&from_cells);
    all.push_back(&rows);
    return Bitmap::union_of(all);
  }
};

}  // namespace

absl::StatusOr<QueryResult<FeatureAdoptionRow>> run_feature_adoption(const Snapshot& snapshot,
                                                                    const FeatureAdoptionQuery& q) {
  query::Stats stats;
  auto window = query::make_window(q.start_date, q.end_date);
  if (!window.ok()) return window.status();
  const Dictionaries& dicts = snapshot.dictionaries();
  const query::CodeFilter feature = query::resolve_filter(dicts.feature, q.feature_id);
  // Every filter but feature_id: the rows of the active users.
  const query::ScanFilters filters{{},
                                   query::resolve_filter(dicts.version, q.product_version),
                                   query::resolve_filter(dicts.event_type, q.event_type), *window};

  absl::flat_hash_map<uint32_t, FeatureUsers> groups;
  uint32_t last_feature = UINT32_MAX;
  FeatureUsers* last = nullptr;
  auto visit = [&](const RowCodes& r) {
    if (r.feature != last_feature) {
      last = &groups[r.feature];  // stays valid until the next insertion
      last_feature = r.feature;
    }
    ++last->events;
    last->rows.add(r.user);
  };
  auto add_cells = [&](const TimelineLevel& level, const query::TimeWindow& w) {
    if (w.empty()) return;
    const std::span<const TimelineCell> cells = level.cells_between(w.begin, w.end);
    for (const TimelineCell& c : cells) {
      FeatureUsers& g = groups[c.feature];
      g.events += c.events;
      g.cells.push_back(level.users(c));
    }
    last_feature = UINT32_MAX;  // insertions move the groups
    stats.read_rows(cells.size(), sizeof(TimelineCell));
  };

  if (!filters.matches_nothing()) {
    for (const PartitionView& p : snapshot.partitions()) {
      if (!window->overlaps_month(p.month())) continue;
      const query::RollupCover cover = query::cover_month(p.month(), *window);
      const auto entries = p.rollups().entries();
      // What the rollups answer: nothing (scan the partition), the whole
      // window within the month, or all but the edges of rows.
      enum class Use { kNone, kWhole, kEdges } use = Use::kNone;
      if (!entries.empty() && !filters.event_type.active) {
        if (!filters.version.active) {
          use = cover.whole_month ? Use::kWhole : Use::kEdges;
        } else if (cover.whole_month) {
          use = Use::kWhole;
        }
      }
      for (const CoveredRollup& e : entries) {
        const PartitionRollup* rollup = e.rollup.get();
        if (use == Use::kWhole && filters.version.active) {
          for (const FvCell& c : rollup->summary()) {
            if (c.version != filters.version.code) continue;
            FeatureUsers& g = groups[c.feature];
            g.events += c.events;
            g.bitmaps.push_back(&c.users);
          }
          last_feature = UINT32_MAX;
          stats.read_rows(rollup->summary().size(), sizeof(FvCell));
        } else if (use == Use::kWhole) {
          // The month's events per feature from its cells, the users from
          // the activity bitmaps.
          const TimelineLevel& month = rollup->timeline(Granularity::kMonth);
          for (const TimelineCell& c : month.cells) {
            FeatureUsers& g = groups[c.feature];
            g.events += c.events;
            g.bitmaps.push_back(rollup->activity().feature_users(c.feature));
          }
          last_feature = UINT32_MAX;
          stats.read_rows(month.cells.size(), sizeof(TimelineCell));
        } else if (use == Use::kEdges) {
          add_cells(rollup->timeline(Granularity::kDay), cover.days);
          add_cells(rollup->timeline(Granularity::kHour), cover.hours[0]);
          add_cells(rollup->timeline(Granularity::kHour), cover.hours[1]);
        }
      }
      for (const auto& part : p.parts()) {
        if (use == Use::kNone || !p.covered(*part)) {
          if (const HeldPart held = query::readable(snapshot, *part, filters)) {
            query::scan_part(*part, filters, stats, visit);
          }
        } else if (use == Use::kEdges) {
          for (const query::TimeWindow& edge : cover.rows) {
            if (edge.empty()) continue;
            query::ScanFilters in_edge = filters;
            in_edge.window = edge;
            if (const HeldPart held = query::readable(snapshot, *part, in_edge)) {
              query::scan_part(*part, in_edge, stats, visit);
            }
          }
        }
      }
      query::scan_buffered(p, filters, stats, visit);
    }
  }

  // Each feature's users; the active users are all of them.
  struct Result {
    uint32_t feature;
    uint64_t users;
    uint64_t events;
  };
  std::vector<Result> results;
  std::vector<Bitmap> users;
  results.reserve(groups.size());
  users.reserve(groups.size());
  for (const auto& [code, g] : groups) {
    users.push_back(g.users());
    results.push_back(Result{code, users.back().cardinality(), g.events});
  }
  std::vector<const Bitmap*> all;
  for (const Bitmap& b : users) all.push_back(&b);
  const uint64_t active = Bitmap::union_of(all).cardinality();
  std::erase_if(results, [&](const Result& r) { return feature.matches_nothing || !feature.accepts(r.feature); });

  // ORDER BY users DESC, feature_id ASC.
  std::vector<uint32_t> codes;
  for (const Result& r : results) codes.push_back(r.feature);
  const StringRank rank(dicts.feature, std::move(codes));
  std::sort(results.begin(), results.end(), [&](const Result& a, const Result& b) {
    return a.users != b.users ? a.users > b.users : rank(a.feature) < rank(b.feature);
  });
  return query::page_of<FeatureAdoptionRow>(results.size(), q.limit, q.skip, stats, [&](size_t i) {
    const Result& r = results[i];
    return FeatureAdoptionRow{std::string(dicts.feature.lookup(r.feature)), r.users, active,
                              static_cast<double>(r.users) / static_cast<double>(active), r.events};
  });
}

}  // namespace usagedb
