// SPEC 2.2: per (feature, version) totals, distinct users and sessions.
//
// Partitions whose whole month is inside the window are answered from their
// rollups (one rollup: its cells; several, of one month or many: their
// merged summary from the RollupCache, plus the few newest rollups it lacks),
// except the parts no rollup holds yet; everything else is scanned. Distinct counts combine exactly: |R ∪ S| = |R| + |S| - |R ∩ S|
// for the rollup's bitmap R and the scanned rows' bitmap S. A filter on
// event_type scans, as the rollup does not group by it.
#include <algorithm>
#include <limits>

#include "absl/container/flat_hash_map.h"
#include "lib/query/endpoints.h"
#include "lib/query/scan.h"
#include "lib/util/civil_time.h"

namespace usagedb {
namespace {

struct Summary {
  uint64_t events = 0;
  uint32_t first = std::numeric_limits<uint32_t>::max();
  uint32_t last = 0;
  const FvCell* rolled = nullptr;  // from a rollup, or null
  Bitmap users;                    // from scanned rows
  Bitmap sessions;
  // From the stored summary: the only source of the group's rows.
  const SummaryCount* counted = nullptr;

  uint64_t unique_users() const {
    return counted ? counted->users : union_cardinality(rolled ? &rolled->users : nullptr, users);
  }
  uint64_t unique_sessions() const {
    return counted ? counted->sessions : union_cardinality(rolled ? &rolled->sessions : nullptr, sessions);
  }

  static uint64_t union_cardinality(const Bitmap* a, const Bitmap& b) {
    if (a == nullptr) return b.cardinality();
    if (b.empty()) return a->cardinality();
    return a->cardinality() + b.cardinality() - a->and_cardinality(b);
  }
};

uint64_t group_key(uint32_t feature, uint32_t version) { return (static_cast<uint64_t>(feature) << 32) | version; }

// A cached merge is used when the rollups it lacks hold at most 1/this of
// the rows: adding them costs a bitmap union per group each, merging all
// anew costs one per group and rollup.
constexpr uint64_t kMaxAddedShare = 8;

// The stored summary when it holds exactly the rows the request reads:
// every partition whole inside the window, every part in a rollup, no
// unsealed rows, the store's parts those it counts.
std::shared_ptr<const StoredSummary> stored_answer(const Snapshot& snapshot, const query::ScanFilters& filters) {
  RollupCache* cache = snapshot.rollup_cache();
  if (cache == nullptr || filters.matches_nothing() || filters.event_type.active) return nullptr;
  std::shared_ptr<const StoredSummary> stored = cache->stored();
  if (stored == nullptr) return nullptr;
  std::vector<uint64_t> parts;
  for (const PartitionView& p : snapshot.partitions()) {
    if (p.buffered_rows() != 0 || civil::month_start(p.month()) < filters.window.begin ||
        filters.window.end < civil::month_start(civil::next_month(p.month()))) {
      return nullptr;
    }
    for (const auto& part : p.parts()) {
      if (!p.covered(*part)) return nullptr;
      parts.push_back(part->id());
    }
  }
  std::sort(parts.begin(), parts.end());
  return parts == stored->parts ? stored : nullptr;
}

// The page of `sorted` (groups in answer order) that `q` asks for.
template <typename Sorted>
QueryResult<FeatureUsageSummaryRow> page(const Sorted& sorted, const Dictionaries& dicts,
                                         const FeatureUsageSummaryQuery& q, query::Stats& stats) {
  return query::page_of<FeatureUsageSummaryRow>(sorted.size(), q.limit, q.skip, stats, [&](size_t i) {
    const auto& [key, s] = sorted[i];
    return FeatureUsageSummaryRow{std::string(dicts.feature.lookup(static_cast<uint32_t>(key >> 32))),
                                  std::string(dicts.version.lookup(static_cast<uint32_t>(key))), s->events,
                                  s->unique_users(), s->unique_sessions(), query::to_timestamp(s->first),
                                  query::to_timestamp(s->last)};
  });
}

}  // namespace

absl::StatusOr<QueryResult<FeatureUsageSummaryRow>> run_feature_usage_summary(const Snapshot& snapshot,
                                                                              const FeatureUsageSummaryQuery& q) {
  query::Stats stats;
  auto window = query::make_window(q.start_date, q.end_date);
  if (!window.ok()) return window.status();
  const Dictionaries& dicts = snapshot.dictionaries();
  const query::ScanFilters filters{query::resolve_filter(dicts.feature, q.feature_id),
                                   query::resolve_filter(dicts.version, q.product_version),
                                   query::resolve_filter(dicts.event_type, q.event_type), *window};

  absl::flat_hash_map<uint64_t, Summary> groups;

  // A new process asking for the whole store: the checkpoint's counts.
  if (std::shared_ptr<const StoredSummary> stored = stored_answer(snapshot, filters)) {
    for (const SummaryCount& c : stored->cells) {
      if (!filters.feature.accepts(c.feature) || !filters.version.accepts(c.version)) continue;
      Summary& s = groups[group_key(c.feature, c.version)];
      s.events = c.events;
      s.first = c.first;
      s.last = c.last;
      s.counted = &c;
    }
    stats.read_rows(stored->cells.size(), sizeof(SummaryCount));
    const auto sorted = query::order_by_count_feature_version(groups, dicts.feature, dicts.version,
                                                              [](const Summary& s) { return s.events; });
    return page(sorted, dicts, q, stats);
  }

  // Months answered by rollups, and all their rollups.
  std::vector<const PartitionView*> rolled;
  std::vector<const PartitionRollup*> rollups;
  uint64_t rolled_rows = 0;
  if (!filters.matches_nothing() && !filters.event_type.active) {
    for (const PartitionView& p : snapshot.partitions()) {
      if (!p.rollups().empty() && window->begin <= civil::month_start(p.month()) &&
          civil::month_start(civil::next_month(p.month())) <= window->end) {
        rolled.push_back(&p);
        for (const CoveredRollup& e : p.rollups().entries()) {
          rollups.push_back(e.rollup.get());
          rolled_rows += e.rollup->rows();
        }
      }
    }
  }
  // The cells to start from: one rollup's, or a merge of several (cached,
  // or made here); `added` are the rollups that merge lacks, whose cells
  // are added group by group like scanned rows.
  std::shared_ptr<const std::vector<FvCell>> merged;  // keeps the cells alive
  std::span<const FvCell> cells;
  std::vector<const PartitionRollup*> added;
  auto keep = [&](const FvCell& c) { return filters.feature.accepts(c.feature) && filters.version.accepts(c.version); };
  if (rollups.size() == 1) {
    cells = rollups[0]->summary();
  } else if (rollups.size() > 1) {
    // A request filtering on feature or version merges only its groups,
    // unless a merge of every group is cached already; an unfiltered one
    // merges (and caches) them all when the cache has no merge of most of
    // its rows (while writes go on, the newest parts' rollups are added to
    // the cached merge of the others).
    const bool filtered = filters.feature.active || filters.version.active;
    RollupCache* cache = snapshot.rollup_cache();
    std::vector<bool> in_subset;
    RollupCache::Subset subset;
    if (cache != nullptr) subset = cache->find_subset(rollups, &in_subset);
    if (subset.cells != nullptr && (filtered || (rolled_rows - subset.rows) * kMaxAddedShare <= rolled_rows)) {
      merged = std::move(subset.cells);
      for (size_t i = 0; i < rollups.size(); ++i) {
        if (!in_subset[i]) added.push_back(rollups[i]);
      }
    } else if (cache != nullptr && !filtered) {
      merged = cache->summary(rollups);
    } else {
      merged = std::make_shared<const std::vector<FvCell>>(merge_summaries(rollups, keep));
    }
    cells = *merged;
  }
  for (const FvCell& c : cells) {
    if (!keep(c)) continue;
    Summary& s = groups[group_key(c.feature, c.version)];
    s.events += c.events;
    s.first = std::min(s.first, c.first);
    s.last = std::max(s.last, c.last);
    s.rolled = &c;
  }
  stats.read_rows(cells.size(), sizeof(FvCell));
  for (const PartitionRollup* r : added) {
    for (const FvCell& c : r->summary()) {
      if (!keep(c)) continue;
      Summary& s = groups[group_key(c.feature, c.version)];
      s.events += c.events;
      s.first = std::min(s.first, c.first);
      s.last = std::max(s.last, c.last);
      s.users.union_with(c.users);
      s.sessions.union_with(c.sessions);
    }
    stats.read_rows(r->summary().size(), sizeof(FvCell));
  }

  uint64_t last_key = UINT64_MAX;
  Summary* last = nullptr;
  auto visit = [&](const RowCodes& r) {
    const uint64_t key = group_key(r.feature, r.version);
    if (key != last_key) {
      last = &groups[key];  // pointer stays valid until the next insertion
      last_key = key;
    }
    Summary& s = *last;
    ++s.events;
    s.first = std::min(s.first, r.timestamp);
    s.last = std::max(s.last, r.timestamp);
    s.users.add(r.user);
    s.sessions.add(r.session);
  };
  auto in_rollup = [&](const PartitionView& p, const Part& part) {
    return std::find(rolled.begin(), rolled.end(), &p) != rolled.end() && p.covered(part);
  };
  query::scan(snapshot, filters, stats, visit, in_rollup);

  // ORDER BY total_events DESC, feature_id ASC, product_version ASC, on
  // codes; rows (and distinct counts) for the page only.
  const auto sorted = query::order_by_count_feature_version(groups, dicts.feature, dicts.version,
                                                            [](const Summary& s) { return s.events; });
  return page(sorted, dicts, q, stats);
}

}  // namespace usagedb
