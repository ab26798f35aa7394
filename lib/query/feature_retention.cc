// SPEC 2.7: cohort retention.
//
// The SQL's `acts` (each user's distinct periods) are the users of each
// period, as bitmaps (users_by_bucket.h). One pass over the periods in
// ascending order then gives each user seen for the first time the current
// period as cohort (the SQL's `firsts`), and counts each (user, period) pair
// for the user's cohort: the rows' users are the counts, and a cohort's size
// is its count at offset 0. One step per (user, period) pair, whatever the
// number of periods.
//
// With tz (SPEC 2.11) the periods are the zone's buckets, and the offsets
// count the local days, weeks or months between them (dateDiff in the
// zone).
#include <algorithm>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/query/endpoints.h"
#include "lib/query/users_by_bucket.h"
#include "lib/util/civil_time.h"
#include "lib/util/time_zone.h"

namespace usagedb {
namespace {

// dateDiff(unit, cohort, period) of ClickHouse for two period starts of
// DateTime(zone): the difference of their local dates' relative day, week
// (weeks start on Monday; the clamped 1970-01-01 bucket is in the week of
// Monday 1969-12-29) or month numbers.
uint64_t period_offset(Granularity g, const TimeZone& zone, int64_t cohort, int64_t period) {
  const int64_t cohort_day = zone.local_day(cohort);
  const int64_t period_day = zone.local_day(period);
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
  auto zone = query::resolve_time_zone(q.tz);
  if (!zone.ok()) return zone.status();
  const TimeZone& tz = **zone;
  const Dictionaries& dicts = snapshot.dictionaries();
  const query::ScanFilters filters{query::resolve_filter(dicts.feature, q.feature_id),
                                   query::resolve_filter(dicts.version, q.product_version),
                                   query::resolve_filter(dicts.event_type, q.event_type), *window};
  const std::map<int64_t, query::BucketUsers> acts = query::users_by_bucket(snapshot, filters, q.granularity, tz, stats);

  // cohort_of[user]: the index of the user's first period. The periods'
  // counts by cohort, one period at a time (only the cohorts it touched).
  constexpr uint32_t kNone = UINT32_MAX;
  std::vector<uint32_t> cohort_of(dicts.user.size(), kNone);
  std::vector<int64_t> periods;
  periods.reserve(acts.size());
  std::vector<uint64_t> count(acts.size(), 0);
  std::vector<uint32_t> touched;
  struct Cell {
    uint32_t cohort;
    uint32_t period;
    uint64_t users;
  };
  std::vector<Cell> cells;
  for (const auto& [period, users] : acts) {
    const auto p = static_cast<uint32_t>(periods.size());
    periods.push_back(period);
    touched.clear();
    users.get().for_each_batch([&](std::span<const uint32_t> batch) {
      for (const uint32_t u : batch) {
        uint32_t& c = cohort_of[u];
        if (c == kNone) c = p;
        if (count[c]++ == 0) touched.push_back(c);
      }
    });
    for (const uint32_t c : touched) {
      cells.push_back(Cell{c, p, count[c]});
      count[c] = 0;
    }
  }
  // ORDER BY cohort, period_offset: the offset grows with the period.
  std::sort(cells.begin(), cells.end(), [](const Cell& a, const Cell& b) {
    return a.cohort != b.cohort ? a.cohort < b.cohort : a.period < b.period;
  });
  std::vector<FeatureRetentionRow> rows;
  rows.reserve(cells.size());
  uint64_t cohort_users = 0;
  for (const Cell& c : cells) {
    if (c.period == c.cohort) cohort_users = c.users;  // every user of a cohort is in its first period
    rows.push_back(FeatureRetentionRow{query::to_timestamp(periods[c.cohort]), cohort_users,
                                       period_offset(q.granularity, tz, periods[c.cohort], periods[c.period]),
                                       c.users});
  }
  return query::page(std::move(rows), q.limit, q.skip, stats);
}

}  // namespace usagedb
