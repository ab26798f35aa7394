// SPEC 2.2: per (feature, version) totals, distinct users and sessions.
#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "lib/query/endpoints.h"
#include "lib/query/scan.h"

namespace usagedb {
namespace {

struct Summary {
  uint64_t events = 0;
  uint32_t first = UINT32_MAX;
  uint32_t last = 0;
  Bitmap users;
  Bitmap sessions;
};

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
  uint64_t last_key = UINT64_MAX;
  Summary* last = nullptr;
  query::scan(snapshot, filters, stats, [&](const RowCodes& r) {
    const uint64_t key = (static_cast<uint64_t>(r.feature) << 32) | r.version;
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
  });

  std::vector<FeatureUsageSummaryRow> out;
  out.reserve(groups.size());
  for (const auto& [key, s] : groups) {
    out.push_back(FeatureUsageSummaryRow{std::string(dicts.feature.lookup(key >> 32)),
                                         std::string(dicts.version.lookup(static_cast<uint32_t>(key))), s.events,
                                         s.users.cardinality(), s.sessions.cardinality(),
                                         query::to_timestamp(s.first), query::to_timestamp(s.last)});
  }
  // ORDER BY total_events DESC, feature_id ASC, product_version ASC
  std::sort(out.begin(), out.end(), [](const FeatureUsageSummaryRow& a, const FeatureUsageSummaryRow& b) {
    if (a.total_events != b.total_events) return a.total_events > b.total_events;
    if (a.feature_id != b.feature_id) return a.feature_id < b.feature_id;
    return a.product_version < b.product_version;
  });
  return query::page(std::move(out), q.limit, q.skip, stats);
}

}  // namespace usagedb
