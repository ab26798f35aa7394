// SPEC 2.6: active users per day over a window of window_days days.
//
// The users of each day of [S - window_days + 1, E) (users_by_bucket.h: the
// rollups' day bitmaps, rows for the rest); then one pass over the days in
// order keeps each user's last active day and how many users were last
// active on each day: a user counts on day d while their last active day is
// in [d - w + 1, d], so the count moves by the users seen again after
// leaving the window (+1 each) and by those whose last day just left it.
// The cost is one step per (day, user) pair, whatever the window (a union
// of w day bitmaps per day would cost w times the bitmaps, and unions of
// small bitmaps are slow); with w = 1 a day's count is its bitmap's size.
//
// With tz (SPEC 2.11) the days are local dates, toDate(timestamp, tz): the
// users of the zone's day buckets, each bucket keyed by its date (the
// dates S and E are local too).
#include <algorithm>
#include <map>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/query/endpoints.h"
#include "lib/query/users_by_bucket.h"
#include "lib/query/window_counts.h"
#include "lib/util/civil_time.h"
#include "lib/util/time_zone.h"

namespace usagedb {
namespace {

// Local date -> the users with a matching event (filters' window) that
// day. A zone's day bucket is a date's first instant (TimeZone), but a date
// can begin before its bucket: at the epoch in a zone east of UTC,
// 1970-01-01's rows are in 1970-01-02's bucket (ClickHouse's clamp), so
// they are read apart.
//
// In UTC a bucket is its date, and the rollups' day bitmaps are used as
// they are (BucketUsers); in a zone, several buckets can make one date and
// are united.
std::map<int64_t, query::BucketUsers> users_by_date(const Snapshot& snapshot, const query::ScanFilters& filters,
                                                    const TimeZone& zone, query::Stats& stats) {
  if (zone.is_utc()) {
    std::map<int64_t, query::BucketUsers> by_date;
    for (auto& [bucket, users] : query::users_by_bucket(snapshot, filters, Granularity::kDay, zone, stats)) {
      by_date.emplace_hint(by_date.end(), zone.date_of(bucket), std::move(users));
    }
    return by_date;
  }
  std::map<int64_t, Bitmap> by_date;
  query::ScanFilters rest = filters;
  const int64_t second_day = zone.day_start(1);
  if (zone.day_start(0) < 0 && filters.window.begin < second_day) {
    query::ScanFilters head = filters;
    head.window.end = std::min(filters.window.end, second_day);
    rest.window.begin = second_day;
    for (auto& [bucket, users] : query::users_by_bucket(snapshot, head, Granularity::kDay, zone, stats)) {
      by_date[0].union_with(users.get());
    }
  }
  if (!rest.window.empty()) {
    for (auto& [bucket, users] : query::users_by_bucket(snapshot, rest, Granularity::kDay, zone, stats)) {
      Bitmap& day = by_date[zone.date_of(bucket)];
      if (day.empty()) {
        day = std::move(users).take();
      } else {
        day.union_with(users.get());
      }
    }
  }
  std::map<int64_t, query::BucketUsers> out;
  for (auto& [date, users] : by_date) {
    if (!users.empty()) out.emplace_hint(out.end(), date, query::BucketUsers(std::move(users)));
  }
  return out;
}

}  // namespace

absl::StatusOr<QueryResult<ActiveUsersRow>> run_active_users(const Snapshot& snapshot, const ActiveUsersQuery& q) {
  query::Stats stats;
  if (q.window_days < 1 || q.window_days > 365) {
    return absl::InvalidArgumentError(
        absl::StrCat("window_days: expected an integer from 1 to 365, got '", q.window_days, "'"));
  }
  std::optional<Timestamp> start, end;
  if (q.start_date) start = Timestamp(*q.start_date);
  if (q.end_date) end = Timestamp(*q.end_date);
  if (absl::StatusOr<query::TimeWindow> checked = query::make_window(start, end); !checked.ok()) {
    return checked.status();
  }
  auto zone = query::resolve_time_zone(q.tz);
  if (!zone.ok()) return zone.status();
  const TimeZone& tz = **zone;
  const int64_t w = q.window_days;
  // Days, as day numbers since 1970-01-01.
  std::optional<int64_t> first_day, end_day;
  if (q.start_date) first_day = q.start_date->time_since_epoch().count();
  if (q.end_date) end_day = q.end_date->time_since_epoch().count();

  const Dictionaries& dicts = snapshot.dictionaries();
  query::TimeWindow window;
  if (tz.is_utc()) {
    if (first_day) window.begin = std::max<int64_t>(0, *first_day - (w - 1)) * civil::kSecondsPerDay;
    if (end_day) window.end = *end_day * civil::kSecondsPerDay;
  } else {
    // Where a DST change at midnight repeats an hour of the day before
    // (America/St_Johns until 2011), a date's instants are not one run: a
    // day's margin each side, and the dates outside are dropped below.
    if (first_day && *first_day - (w - 1) > 0) {
      window.begin = std::max<int64_t>(0, tz.day_start(*first_day - (w - 1)) - civil::kSecondsPerDay);
    }
    if (end_day) window.end = std::max<int64_t>(0, tz.day_start(*end_day) + civil::kSecondsPerDay);
  }
  const query::ScanFilters filters{query::resolve_filter(dicts.feature, q.feature_id),
                                   query::resolve_filter(dicts.version, q.product_version),
                                   query::resolve_filter(dicts.event_type, q.event_type), window};
  const std::map<int64_t, query::BucketUsers> days = users_by_date(snapshot, filters, tz, stats);

  // Defaults: the first day with a matching event, the day after the last.
  if (!first_day || !end_day) {
    if (days.empty()) return query::page<ActiveUsersRow>({}, q.limit, q.skip, stats);
    if (!first_day) first_day = days.begin()->first;
    if (!end_day) end_day = days.rbegin()->first + 1;
  }
  if (*first_day >= *end_day) return query::page<ActiveUsersRow>({}, q.limit, q.skip, stats);

  const int64_t base = *first_day - (w - 1);
  std::vector<const Bitmap*> by_day(static_cast<size_t>(*end_day - base), nullptr);
  for (const auto& [d, users] : days) {
    if (d >= base && d < *end_day) by_day[static_cast<size_t>(d - base)] = &users.get();
  }
  std::vector<uint64_t> counts(static_cast<size_t>(*end_day - *first_day), 0);
  query::window_counts(by_day, q.window_days, dicts.user.size(), &counts);
  return query::page_of<ActiveUsersRow>(counts.size(), q.limit, q.skip, stats, [&](size_t i) {
    return ActiveUsersRow{std::chrono::sys_days{std::chrono::days{*first_day + static_cast<int64_t>(i)}}, counts[i]};
  });
}

}  // namespace usagedb
