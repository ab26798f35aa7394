#include "tests/testutil/reference.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <tuple>

#include "tests/testutil/local_time.h"
#include "tests/testutil/plain_json.h"

namespace usagedb::testing {
namespace {

using std::chrono::days;
using std::chrono::floor;
using std::chrono::sys_days;
using std::chrono::year_month_day;

// toYYYYMM, via std::chrono rather than usagedb's own calendar code.
int yyyymm(Timestamp t) {
  const year_month_day d{floor<days>(t)};
  return static_cast<int>(d.year()) * 100 + static_cast<int>(static_cast<unsigned>(d.month()));
}

Timestamp bucket(Granularity g, Timestamp t) {
  const sys_days day = floor<days>(t);
  switch (g) {
    case Granularity::kHour: return floor<std::chrono::hours>(t);
    case Granularity::kDay: return Timestamp(day);
    case Granularity::kWeek: {
      // toMonday: back to the previous Monday (ISO weekday 1), clamped to the epoch.
      const std::chrono::weekday wd{day};
      const sys_days monday = day - days{(wd.iso_encoding() - 1)};
      return monday < sys_days{} ? Timestamp{} : Timestamp(monday);
    }
    case Granularity::kMonth: {
      const year_month_day d{day};
      return Timestamp(sys_days{d.year() / d.month() / 1});
    }
  }
  return t;
}

bool in_window(Timestamp t, const std::optional<Timestamp>& start, const std::optional<Timestamp>& end) {
  return (!start || t >= *start) && (!end || t < *end);
}

bool eq(const std::optional<std::string>& param, const std::string& value) { return !param || *param == value; }

template <typename Row>
QueryResult<Row> limit(std::vector<Row> rows, std::optional<uint64_t> limit, std::optional<uint64_t> skip) {
  QueryResult<Row> r;
  r.rows_before_limit = rows.size();
  for (uint64_t i = skip.value_or(0); i < rows.size(); ++i) {
    if (limit && r.rows.size() >= *limit) break;
    r.rows.push_back(rows[i]);
  }
  return r;
}

}  // namespace

OwnedEvent OwnedEvent::from(const Event& e) {
  return OwnedEvent{std::string(e.event_id),   std::string(e.user_id),    std::string(e.feature_id),
                    std::string(e.product_version), std::string(e.event_type), e.timestamp,
                    std::string(e.session_id), std::string(e.metadata)};
}

Event OwnedEvent::view() const {
  return Event{event_id, user_id, feature_id, product_version, event_type, timestamp, session_id, metadata};
}

bool Reference::record(const Event& e) {
  if (deduplicate_ && !e.event_id.empty() && !seen_.emplace(yyyymm(e.timestamp), std::string(e.event_id)).second) {
    return false;
  }
  events_.push_back(OwnedEvent::from(e));
  return true;
}

uint64_t Reference::delete_user(const std::string& user_id) {
  const size_t before = events_.size();
  std::erase_if(events_, [&](const OwnedEvent& e) {
    if (e.user_id != user_id) return false;
    seen_.erase({yyyymm(e.timestamp), e.event_id});  // a deleted event may be recorded again
    return true;
  });
  return before - events_.size();
}

uint64_t Reference::drop_partitions_before(int month) {
  const size_t before = events_.size();
  std::erase_if(events_, [&](const OwnedEvent& e) { return yyyymm(e.timestamp) < month; });
  std::erase_if(seen_, [&](const auto& key) { return key.first < month; });
  return before - events_.size();
}

QueryResult<UserFeatureUsageRow> Reference::user_feature_usage(const UserFeatureUsageQuery& q) const {
  if (!q.user_id) return limit<UserFeatureUsageRow>({}, q.limit, q.skip);
  std::map<std::tuple<std::string, std::string, std::string>, UserFeatureUsageRow> groups;
  for (const OwnedEvent& e : events_) {
    if (e.user_id != *q.user_id || !eq(q.feature_id, e.feature_id) || !eq(q.product_version, e.product_version)) {
      continue;
    }
    auto [it, fresh] = groups.try_emplace({e.user_id, e.feature_id, e.product_version});
    UserFeatureUsageRow& r = it->second;
    if (fresh) r = UserFeatureUsageRow{e.user_id, e.feature_id, e.product_version, 0, e.timestamp, e.timestamp};
    ++r.usage_count;
    r.first_usage = std::min(r.first_usage, e.timestamp);
    r.last_usage = std::max(r.last_usage, e.timestamp);
  }
  std::vector<UserFeatureUsageRow> rows;
  for (auto& [k, r] : groups) rows.push_back(r);
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
    return std::make_tuple(-static_cast<int64_t>(a.usage_count), a.feature_id, a.product_version) <
           std::make_tuple(-static_cast<int64_t>(b.usage_count), b.feature_id, b.product_version);
  });
  return limit(std::move(rows), q.limit, q.skip);
}

QueryResult<FeatureUsageSummaryRow> Reference::feature_usage_summary(const FeatureUsageSummaryQuery& q) const {
  struct Acc {
    FeatureUsageSummaryRow row;
    std::set<std::string> users, sessions;
  };
  std::map<std::pair<std::string, std::string>, Acc> groups;
  for (const OwnedEvent& e : events_) {
    if (!eq(q.feature_id, e.feature_id) || !eq(q.product_version, e.product_version) ||
        !eq(q.event_type, e.event_type) || !in_window(e.timestamp, q.start_date, q.end_date)) {
      continue;
    }
    auto [it, fresh] = groups.try_emplace({e.feature_id, e.product_version});
    Acc& a = it->second;
    if (fresh) a.row = FeatureUsageSummaryRow{e.feature_id, e.product_version, 0, 0, 0, e.timestamp, e.timestamp};
    ++a.row.total_events;
    a.users.insert(e.user_id);
    a.sessions.insert(e.session_id);
    a.row.first_seen = std::min(a.row.first_seen, e.timestamp);
    a.row.last_seen = std::max(a.row.last_seen, e.timestamp);
  }
  std::vector<FeatureUsageSummaryRow> rows;
  for (auto& [k, a] : groups) {
    a.row.unique_users = a.users.size();
    a.row.unique_sessions = a.sessions.size();
    rows.push_back(a.row);
  }
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
    return std::make_tuple(-static_cast<int64_t>(a.total_events), a.feature_id, a.product_version) <
           std::make_tuple(-static_cast<int64_t>(b.total_events), b.feature_id, b.product_version);
  });
  return limit(std::move(rows), q.limit, q.skip);
}

QueryResult<FeatureUsageTimelineRow> Reference::feature_usage_timeline(const FeatureUsageTimelineQuery& q) const {
  struct Acc {
    uint64_t events = 0;
    std::set<std::string> users;
  };
  std::map<std::pair<Timestamp, std::string>, Acc> groups;
  std::optional<GlibcLocalTime> local;
  if (q.tz) local.emplace(*q.tz);
  for (const OwnedEvent& e : events_) {
    if (!eq(q.feature_id, e.feature_id) || !eq(q.product_version, e.product_version) ||
        !eq(q.event_type, e.event_type) || !in_window(e.timestamp, q.start_date, q.end_date)) {
      continue;
    }
    Acc& a = groups[{local ? local->bucket(q.granularity, e.timestamp) : bucket(q.granularity, e.timestamp),
                     e.feature_id}];
    ++a.events;
    a.users.insert(e.user_id);
  }
  std::vector<FeatureUsageTimelineRow> rows;
  // std::map's order is already ORDER BY period ASC, feature_id ASC.
  for (auto& [k, a] : groups) rows.push_back(FeatureUsageTimelineRow{k.first, k.second, a.events, a.users.size()});
  return limit(std::move(rows), q.limit, q.skip);
}


QueryResult<FeatureAdoptionRow> Reference::feature_adoption(const FeatureAdoptionQuery& q) const {
  // {cond}: every filter but feature_id.
  auto cond = [&](const OwnedEvent& e) {
    return eq(q.product_version, e.product_version) && eq(q.event_type, e.event_type) &&
           in_window(e.timestamp, q.start_date, q.end_date);
  };
  std::set<std::string> active;  // the scalar subquery
  for (const OwnedEvent& e : events_) {
    if (cond(e)) active.insert(e.user_id);
  }
  struct Acc {
    std::set<std::string> users;
    uint64_t events = 0;
  };
  std::map<std::string, Acc> groups;
  for (const OwnedEvent& e : events_) {
    if (!cond(e) || !eq(q.feature_id, e.feature_id)) continue;
    Acc& a = groups[e.feature_id];
    a.users.insert(e.user_id);
    ++a.events;
  }
  std::vector<FeatureAdoptionRow> rows;
  for (const auto& [feature, a] : groups) {
    const auto users = static_cast<uint64_t>(a.users.size());
    rows.push_back(FeatureAdoptionRow{feature, users, active.size(),
                                      static_cast<double>(users) / static_cast<double>(active.size()), a.events});
  }
  // ORDER BY users DESC, feature_id ASC (std::map gave feature_id order).
  std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.users > b.users; });
  return limit(std::move(rows), q.limit, q.skip);
}

QueryResult<ActiveUsersRow> Reference::active_users(const ActiveUsersQuery& q) const {
  auto matches = [&](const OwnedEvent& e) {
    return eq(q.feature_id, e.feature_id) && eq(q.product_version, e.product_version) &&
           eq(q.event_type, e.event_type);
  };
  // toDate(timestamp, tz): the local date, at least 1970-01-01.
  std::optional<GlibcLocalTime> local;
  if (q.tz) local.emplace(*q.tz);
  auto date_of = [&](Timestamp t) { return local ? local->date(t) : floor<days>(t); };
  // S and E: the dates given, else the first matching day and the day after
  // the last one.
  std::optional<sys_days> first, last;
  for (const OwnedEvent& e : events_) {
    if (!matches(e)) continue;
    const sys_days d0 = date_of(e.timestamp);
    if (!first || d0 < *first) first = d0;
    if (!last || d0 > *last) last = d0;
  }
  std::optional<sys_days> s = q.start_date ? q.start_date : first;
  std::optional<sys_days> e = q.end_date;
  if (!e && last) e = *last + days{1};
  if (!s || !e || *s >= *e) return limit<ActiveUsersRow>({}, q.limit, q.skip);
  const days window{q.window_days};
  // The events whose day is in some window of [S, E), spread over the
  // window_days days they count for (the SQL's ARRAY JOIN).
  std::map<sys_days, std::set<std::string>> by_day;
  for (const OwnedEvent& ev : events_) {
    if (!matches(ev)) continue;
    const sys_days d0 = date_of(ev.timestamp);
    if (d0 + (window - days{1}) < *s || d0 >= *e) continue;
    for (days i{0}; i < window; ++i) {
      const sys_days day = d0 + i;
      if (day >= *s && day < *e) by_day[day].insert(ev.user_id);
    }
  }
  // WITH FILL FROM S TO E.
  std::vector<ActiveUsersRow> rows;
  for (sys_days d = *s; d < *e; d += days{1}) {
    auto it = by_day.find(d);
    rows.push_back(ActiveUsersRow{d, it == by_day.end() ? 0 : it->second.size()});
  }
  return limit(std::move(rows), q.limit, q.skip);
}

namespace {

// ClickHouse's toRelativeDayNum / toRelativeWeekNum / toRelativeMonthNum
// of a period start whose local date is `day`, whose differences are
// dateDiff's: weeks start on Monday, counted as (day number + 8 - ISO day
// of week) / 7.
int64_t relative_number(Granularity g, sys_days day) {
  const int64_t n = day.time_since_epoch().count();
  switch (g) {
    case Granularity::kWeek: return (n + 8 - std::chrono::weekday{day}.iso_encoding()) / 7;
    case Granularity::kMonth: {
      const year_month_day d{day};
      return static_cast<int>(d.year()) * 12 + static_cast<int>(static_cast<unsigned>(d.month()));
    }
    default: return n;
  }
}

}  // namespace

QueryResult<FeatureRetentionRow> Reference::feature_retention(const FeatureRetentionQuery& q) const {
  // With tz, periods are local buckets, and dateDiff counts in the zone:
  // the local dates of the two period starts.
  std::optional<GlibcLocalTime> local;
  if (q.tz) local.emplace(*q.tz);
  auto period_of = [&](Timestamp t) { return local ? local->bucket(q.granularity, t) : bucket(q.granularity, t); };
  auto relative = [&](Timestamp period) {
    const sys_days day =
        local ? sys_days{days{local->local_day(period.time_since_epoch().count())}} : floor<days>(period);
    return relative_number(q.granularity, day);
  };
  // acts: the distinct (user, period) of the matching events.
  std::set<std::pair<std::string, Timestamp>> acts;
  for (const OwnedEvent& e : events_) {
    if (!eq(q.feature_id, e.feature_id) || !eq(q.product_version, e.product_version) ||
        !eq(q.event_type, e.event_type) || !in_window(e.timestamp, q.start_date, q.end_date)) {
      continue;
    }
    acts.emplace(e.user_id, period_of(e.timestamp));
  }
  // firsts and sizes.
  std::map<std::string, Timestamp> firsts;
  for (const auto& [user, period] : acts) {
    auto [it, fresh] = firsts.try_emplace(user, period);
    if (!fresh) it->second = std::min(it->second, period);
  }
  std::map<Timestamp, uint64_t> sizes;
  for (const auto& [user, cohort] : firsts) ++sizes[cohort];
  // acts JOIN firsts JOIN sizes, GROUP BY cohort, period_offset.
  std::map<std::pair<Timestamp, uint64_t>, uint64_t> groups;
  for (const auto& [user, period] : acts) {
    const Timestamp cohort = firsts.at(user);
    ++groups[{cohort, static_cast<uint64_t>(relative(period) - relative(cohort))}];
  }
  std::vector<FeatureRetentionRow> rows;
  for (const auto& [key, users] : groups) {
    rows.push_back(FeatureRetentionRow{key.first, sizes.at(key.first), key.second, users});
  }
  return limit(std::move(rows), q.limit, q.skip);
}

QueryResult<FeatureFunnelRow> Reference::feature_funnel(const FeatureFunnelQuery& q) const {
  // levels: one row per user with an event matching {cond}.
  std::map<std::string, std::vector<std::pair<Timestamp, size_t>>> by_user;  // (t, step index)
  for (const OwnedEvent& e : events_) {
    if (!eq(q.product_version, e.product_version) || !eq(q.event_type, e.event_type) ||
        !in_window(e.timestamp, q.start_date, q.end_date)) {
      continue;
    }
    auto& steps = by_user[e.user_id];
    for (size_t i = 0; i < q.steps.size(); ++i) {
      if (e.feature_id == q.steps[i]) steps.emplace_back(e.timestamp, i);
    }
  }
  if (by_user.empty()) return limit<FeatureFunnelRow>({}, q.limit, q.skip);
  std::vector<uint64_t> reached(q.steps.size() + 1, 0);
  for (const auto& [user, steps] : by_user) {
    size_t level = 0;
    for (const auto& [t1, step] : steps) {
      if (step != 0) continue;
      // From this first step, the earliest possible event of each next step
      // leaves the most room for the ones after it.
      size_t k = 1;
      Timestamp at = t1;
      while (k < q.steps.size()) {
        std::optional<Timestamp> next;
        for (const auto& [t, s] : steps) {
          if (s == k && t >= at && t - t1 <= q.window && (!next || t < *next)) next = t;
        }
        if (!next) break;
        at = *next;
        ++k;
      }
      level = std::max(level, k);
    }
    ++reached[level];
  }
  std::vector<FeatureFunnelRow> rows;
  for (size_t step = 1; step <= q.steps.size(); ++step) {
    uint64_t users = 0;
    for (size_t l = step; l < reached.size(); ++l) users += reached[l];
    rows.push_back(FeatureFunnelRow{step, q.steps[step - 1], users});
  }
  return limit(std::move(rows), q.limit, q.skip);
}

QueryResult<PropertyBreakdownRow> Reference::property_breakdown(const PropertyBreakdownQuery& q) const {
  struct Acc {
    uint64_t events = 0;
    std::set<std::string> users;
  };
  std::map<std::string, Acc> groups;
  for (const OwnedEvent& e : events_) {
    if (!eq(q.feature_id, e.feature_id) || !eq(q.product_version, e.product_version) ||
        !eq(q.event_type, e.event_type) || !in_window(e.timestamp, q.start_date, q.end_date)) {
      continue;
    }
    Acc& a = groups[plain_json::property_value(e.metadata, q.property)];
    ++a.events;
    a.users.insert(e.user_id);
  }
  std::vector<PropertyBreakdownRow> rows;
  for (auto& [value, a] : groups) rows.push_back(PropertyBreakdownRow{value, a.events, a.users.size()});
  // ORDER BY events DESC, value ASC (std::map gave value order; the sort is stable).
  std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.events > b.events; });
  return limit(std::move(rows), q.limit, q.skip);
}

QueryResult<VersionAdoptionRow> Reference::version_adoption(const VersionAdoptionQuery& q) const {
  struct Acc {
    uint64_t events = 0;
    std::set<std::string> users;
  };
  // The two subqueries of SPEC 2.10, v and a, joined on period.
  std::map<std::pair<Timestamp, std::string>, Acc> v;
  std::map<Timestamp, std::set<std::string>> a;
  std::optional<GlibcLocalTime> local;
  if (q.tz) local.emplace(*q.tz);
  for (const OwnedEvent& e : events_) {
    if (!eq(q.feature_id, e.feature_id) || !eq(q.event_type, e.event_type) ||
        !in_window(e.timestamp, q.start_date, q.end_date)) {
      continue;
    }
    const Timestamp period = local ? local->bucket(q.granularity, e.timestamp) : bucket(q.granularity, e.timestamp);
    Acc& acc = v[{period, e.product_version}];
    ++acc.events;
    acc.users.insert(e.user_id);
    a[period].insert(e.user_id);
  }
  std::vector<VersionAdoptionRow> rows;
  for (auto& [key, acc] : v) {
    const uint64_t users = acc.users.size(), active = a.at(key.first).size();
    rows.push_back(VersionAdoptionRow{key.first, key.second, users, active,
                                      static_cast<double>(users) / static_cast<double>(active), acc.events});
  }
  // ORDER BY period ASC, users DESC, product_version ASC.
  std::sort(rows.begin(), rows.end(), [](const auto& x, const auto& y) {
    return std::make_tuple(x.period, -static_cast<int64_t>(x.users), x.product_version) <
           std::make_tuple(y.period, -static_cast<int64_t>(y.users), y.product_version);
  });
  return limit(std::move(rows), q.limit, q.skip);
}

}  // namespace usagedb::testing
