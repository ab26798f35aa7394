// SPEC 2.7: cohort retention.
//
// The SQL's `acts` (each user's distinct periods) are the users of each
// period, as bitmaps (users_by_bucket.h); then, periods in ascending order:
//   cohort(p) = users(p) minus the users of every earlier period
//   users at (cohort c, period p) = |cohort(c) ∩ users(p)|
// which is the SQL's join of acts with firsts (each user is in exactly one
// cohort, the first period with a matching event). A year of weeks is ~50
// cohorts and ~1300 intersections of bitmaps, whatever the number of events.
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/query/endpoints.h"
#include "lib/query/users_by_bucket.h"
#include "lib/util/civil_time.h"

namespace usagedb {
namespace {

// dateDiff(unit, cohort, period) of ClickHouse for two period starts: the
// difference of the relative day, week (weeks start on Monday; the clamped
// 1970-01-01 bucket is in the week of Monday 1969-12-29) or month numbers.
uint64_t period_offset(Granularity g, int64_t cohort, int64_t period) {
  const int64_t cohort_day = civil::floor_div(cohort, civil::kSecondsPerDay);
  const int64_t period_day = civil::floor_div(period, civil::kSecondsPerDay);
  switch (g) {
    case Granularity::kWeek: {
      // 1970-01-01 was a Thursday: day + 3 counts from a Monday.
      return static_cast<uint64_t>(civil::floor_div(period_day + 3, 7) - civil::floor_div(cohort_day + 3, 7));
    }
    case Granularity::kMonth: {
      const civil::Date c = civil::civil_from_days(cohort_day);
      const civil::Date p = civil::civil_from_days(period_day);
      return static_cast<uint64_t>((p.year * 12 + p.month) - (c.year * 12 + c.month));
    }
    default:
      return static_cast<uint64_t>(period_day - cohort_day);
  }
}

}  // namespace

absl::StatusOr<QueryResult<FeatureRetentionRow>> run_feature_retention(const Snapshot& snapshot,
                                                                      const FeatureRetentionQuery& q) {
  query::Stats stats;
  if (q.granularity != Granularity::kDay && q.granularity != Granularity::kWeek &&
      q.granularity != Granularity::kMonth) {
    return absl::InvalidArgumentError(absl::StrCat("granularity: expected one of day, week, month, got ",
                                                   q.granularity == Granularity::kHour ? "hour" : "another value"));
  }
  auto window = query::make_window(q.start_date, q.end_date);
  if (!window.ok()) return window.status();
  const Dictionaries& dicts = snapshot.dictionaries();
  const query::ScanFilters filters{query::resolve_filter(dicts.feature, q.feature_id),
                                   query::resolve_filter(dicts.version, q.product_version),
                                   query::resolve_filter(dicts.event_type, q.event_type), *window};
  const std::map<int64_t, Bitmap> acts = query::users_by_bucket(snapshot, filters, q.granularity, stats);

  struct Cohort {
    int64_t period;
    Bitmap users;
  };
  std::vector<Cohort> cohorts;
  Bitmap seen;
  for (const auto& [period, users] : acts) {
    Bitmap fresh = users.copy();
    fresh.subtract(seen);
    if (fresh.empty()) continue;
    seen.union_with(users);
    cohorts.push_back(Cohort{period, std::move(fresh)});
  }
  // ORDER BY cohort, period_offset: cohorts and periods ascend, and the
  // offset grows with the period.
  std::vector<FeatureRetentionRow> rows;
  for (const Cohort& c : cohorts) {
    const uint64_t size = c.users.cardinality();
    for (auto it = acts.find(c.period); it != acts.end(); ++it) {
      const uint64_t n = c.users.and_cardinality(it->second);
      if (n == 0) continue;
      rows.push_back(FeatureRetentionRow{query::to_timestamp(c.period), size,
                                         period_offset(q.granularity, c.period, it->first), n});
    }
  }
  return query::page(std::move(rows), q.limit, q.skip, stats);
}

}  // namespace usagedb
