// SPEC 2.3: events and distinct users per (period, feature).
#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "lib/query/endpoints.h"
#include "lib/query/scan.h"
#include "lib/util/civil_time.h"

namespace usagedb {
namespace {

struct Bucket {
  uint64_t events = 0;
  Bitmap users;
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
  const Dictionaries& dicts = snapshot.dictionaries();
  const query::ScanFilters filters{query::resolve_filter(dicts.feature, q.feature_id),
                                   query::resolve_filter(dicts.version, q.product_version),
                                   query::resolve_filter(dicts.event_type, q.event_type), *window};

  absl::flat_hash_map<Key, Bucket> groups;
  query::scan(snapshot, filters, stats, [&](const RowCodes& r) {
    Bucket& b = groups[Key{bucket_of(q.granularity, r.timestamp), r.feature}];
    ++b.events;
    b.users.add(r.user);
  });

  std::vector<FeatureUsageTimelineRow> out;
  out.reserve(groups.size());
  for (const auto& [key, b] : groups) {
    out.push_back(FeatureUsageTimelineRow{query::to_timestamp(key.period), std::string(dicts.feature.lookup(key.feature)),
                                          b.events, b.users.cardinality()});
  }
  // ORDER BY period ASC, feature_id ASC
  std::sort(out.begin(), out.end(), [](const FeatureUsageTimelineRow& a, const FeatureUsageTimelineRow& b) {
    if (a.period != b.period) return a.period < b.period;
    return a.feature_id < b.feature_id;
  });
  return query::page(std::move(out), q.limit, q.skip, stats);
}

}  // namespace usagedb
