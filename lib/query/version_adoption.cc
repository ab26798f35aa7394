// SPEC 2.10: per period, the distinct users and events of each
// product_version, and the period's distinct users over all versions.
#include <algorithm>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "lib/query/endpoints.h"
#include "lib/query/scan.h"

namespace usagedb {
namespace {

struct VersionGroup {
  uint64_t events = 0;
  Bitmap users;
};

}  // namespace

absl::StatusOr<QueryResult<VersionAdoptionRow>> run_version_adoption(const Snapshot& snapshot,
                                                                     const VersionAdoptionQuery& q) {
  query::Stats stats;
  auto window = query::make_window(q.start_date, q.end_date);
  if (!window.ok()) return window.status();
  auto zone = query::resolve_time_zone(q.tz);
  if (!zone.ok()) return zone.status();
  const Dictionaries& dicts = snapshot.dictionaries();
  const query::ScanFilters filters{query::resolve_filter(dicts.feature, q.feature_id), query::CodeFilter{},
                                   query::resolve_filter(dicts.event_type, q.event_type), *window};

  // (period << 32 | version) -> group; period -> its users.
  absl::flat_hash_map<uint64_t, VersionGroup> groups;
  absl::flat_hash_map<int64_t, Bitmap> active;
  TimeZone::Bucketer bucket(**zone, q.granularity);
  query::scan(snapshot, filters, stats, [&](const RowCodes& r) {
    const int64_t period = bucket(r.timestamp);
    VersionGroup& g = groups[(static_cast<uint64_t>(period) << 32) | r.version];
    ++g.events;
    g.users.add(r.user);
    active[period].add(r.user);
  });

  // ORDER BY period ASC, users DESC, product_version ASC.
  std::vector<uint32_t> versions;
  versions.reserve(groups.size());
  for (const auto& [key, g] : groups) versions.push_back(static_cast<uint32_t>(key));
  const StringRank rank(dicts.version, std::move(versions));
  struct Sorted {
    int64_t period;
    uint64_t users;
    uint32_t rank;
    const VersionGroup* group;
  };
  std::vector<Sorted> sorted;
  sorted.reserve(groups.size());
  for (const auto& [key, g] : groups) {
    sorted.push_back(Sorted{static_cast<int64_t>(key >> 32), g.users.cardinality(), rank(static_cast<uint32_t>(key)), &g});
  }
  std::sort(sorted.begin(), sorted.end(), [](const Sorted& a, const Sorted& b) {
    if (a.period != b.period) return a.period < b.period;
    if (a.users != b.users) return a.users > b.users;
    return a.rank < b.rank;
  });
  return query::page_of<VersionAdoptionRow>(sorted.size(), q.limit, q.skip, stats, [&](size_t i) {
    const Sorted& s = sorted[i];
    const uint64_t active_users = active.at(s.period).cardinality();
    return VersionAdoptionRow{query::to_timestamp(s.period), std::string(dicts.version.lookup(rank.code_of(s.rank))),
                              s.users,
                              active_users,
                              static_cast<double>(s.users) / static_cast<double>(active_users),
                              s.group->events};
  });
}

}  // namespace usagedb
