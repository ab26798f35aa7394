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
