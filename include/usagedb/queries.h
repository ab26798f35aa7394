// usagedb/queries.h: the typed endpoints' requests, rows and results.
//
// Each endpoint of SPEC section 2 has a request struct (optional parameters
// are std::optional and impose no filter when absent; `limit` and `skip` page
// the ordered rows as ClickHouse's `LIMIT skip, limit`), a row struct whose
// fields are named as the SPEC's result columns, and returns
// QueryResult<Row>. Example:
//
//   usagedb::FeatureUsageSummaryQuery q{.feature_id = "feature_16",
//                                       .start_date = usagedb::parse_date_parameter("2025-01-01").value()};
//   auto result = store->feature_usage_summary(q);
//   for (const auto& row : result->rows) std::cout << row.unique_users << "\n";
//
// Thread-safety: plain values.
#ifndef USAGEDB_QUERIES_H_
#define USAGEDB_QUERIES_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "usagedb/event.h"

namespace usagedb {

// SPEC 2.1. Without user_id the result is empty (the seed's `AND 0=1`).
struct UserFeatureUsageQuery {
  std::optional<std::string> user_id;
  std::optional<std::string> feature_id;
  std::optional<std::string> product_version;
  std::optional<uint64_t> limit;
  std::optional<uint64_t> skip;
};

struct UserFeatureUsageRow {
  std::string user_id;
  std::string feature_id;
  std::string product_version;
  uint64_t usage_count = 0;
  Timestamp first_usage;
  Timestamp last_usage;

  friend bool operator==(const UserFeatureUsageRow&, const UserFeatureUsageRow&) = default;
};

// SPEC 2.2. start_date is inclusive, end_date exclusive.
struct FeatureUsageSummaryQuery {
  std::optional<std::string> feature_id;
  std::optional<std::string> product_version;
  std::optional<std::string> event_type;
  std::optional<Timestamp> start_date;
  std::optional<Timestamp> end_date;
  std::optional<uint64_t> limit;
  std::optional<uint64_t> skip;
};

struct FeatureUsageSummaryRow {
  std::string feature_id;
  std::string product_version;
  uint64_t total_events = 0;
  uint64_t unique_users = 0;
  uint64_t unique_sessions = 0;  // distinct session_id values, "" included
  Timestamp first_seen;
  Timestamp last_seen;

  friend bool operator==(const FeatureUsageSummaryRow&, const FeatureUsageSummaryRow&) = default;
};

// SPEC 2.3 bucket functions: toStartOfHour, toStartOfDay, toMonday (weeks
// start on Monday, never before 1970-01-01), toStartOfMonth.
enum class Granularity { kHour, kDay, kWeek, kMonth };

// "hour", "day", "week", "month".
std::string_view granularity_name(Granularity g);

// SPEC 2.3. With `tz` (SPEC 2.11: an IANA zone name such as
// "America/New_York"; absent = UTC) the periods are local hours, days,
// Monday weeks or months of that zone; start_date and end_date stay UTC
// instants.
struct FeatureUsageTimelineQuery {
  Granularity granularity = Granularity::kDay;
  std::optional<std::string> feature_id;
  std::optional<std::string> product_version;
  std::optional<std::string> event_type;
  std::optional<Timestamp> start_date;
  std::optional<Timestamp> end_date;
  std::optional<std::string> tz;
  std::optional<uint64_t> limit;
  std::optional<uint64_t> skip;
};

// `period` is the first instant of the period, a UTC instant even in a `tz`
// (the output formats print it as the zone's local time).
struct FeatureUsageTimelineRow {
  Timestamp period;
  std::string feature_id;
  uint64_t events = 0;
  uint64_t unique_users = 0;

  friend bool operator==(const FeatureUsageTimelineRow&, const FeatureUsageTimelineRow&) = default;
};

// SPEC 2.9: events and users broken down by one top-level key of the
// metadata JSON. `property` is required (1 to 256 bytes); an event's value
// is the key's string value when its metadata is a valid JSON object whose
// first `property` member holds a string, and "" otherwise.
struct PropertyBreakdownQuery {
  std::string property;
  std::optional<std::string> feature_id;
  std::optional<std::string> product_version;
  std::optional<std::string> event_type;
  std::optional<Timestamp> start_date;
  std::optional<Timestamp> end_date;
  std::optional<uint64_t> limit;
  std::optional<uint64_t> skip;
};

// Ordered by events descending, then value.
struct PropertyBreakdownRow {
  std::string value;
  uint64_t events = 0;
  uint64_t users = 0;

  friend bool operator==(const PropertyBreakdownRow&, const PropertyBreakdownRow&) = default;
};

// SPEC 2.10: per period (default a Monday week, in `tz` as in
// FeatureUsageTimelineQuery), how many of its active users used each
// product_version.
struct VersionAdoptionQuery {
  Granularity granularity = Granularity::kWeek;
  std::optional<std::string> feature_id;
  std::optional<std::string> event_type;
  std::optional<Timestamp> start_date;
  std::optional<Timestamp> end_date;
  std::optional<std::string> tz;
  std::optional<uint64_t> limit;
  std::optional<uint64_t> skip;
};

// Ordered by period, then users descending, then product_version. `share`
// is users / active_users; `period` as in FeatureUsageTimelineRow.
struct VersionAdoptionRow {
  Timestamp period;
  std::string product_version;
  uint64_t users = 0;
  uint64_t active_users = 0;  // the period's distinct users over all versions
  double share = 0;
  uint64_t events = 0;

  friend bool operator==(const VersionAdoptionRow&, const VersionAdoptionRow&) = default;
};

// SPEC 2.5: per feature, its users among the active users. Active users
// are the distinct users with an event matching every filter but feature_id
// (product_version, event_type and the window), over all features;
// feature_id only picks the output row.
struct FeatureAdoptionQuery {
  std::optional<std::string> feature_id;
  std::optional<std::string> product_version;
  std::optional<std::string> event_type;
  std::optional<Timestamp> start_date;
  std::optional<Timestamp> end_date;
  std::optional<uint64_t> limit;
  std::optional<uint64_t> skip;
};

struct FeatureAdoptionRow {
  std::string feature_id;
  uint64_t users = 0;         // distinct users of the feature
  uint64_t active_users = 0;  // distinct users of any feature
  double adoption_rate = 0;   // users / active_users
  uint64_t events = 0;

  friend bool operator==(const FeatureAdoptionRow&, const FeatureAdoptionRow&) = default;
};

// SPEC 2.6: DAU/WAU/MAU as a daily series. Each day d of [start_date,
// end_date) counts the distinct users with a matching event on a day in
// [d - window_days + 1, d] (events before start_date count toward the first
// days); days with nobody are rows of 0. The dates default to the first day
// with a matching event and the day after the last one.
struct ActiveUsersQuery {
  uint32_t window_days = 1;  // 1..365: 1 DAU, 7 WAU, 28 or 30 MAU
  std::optional<std::string> feature_id;
  std::optional<std::string> product_version;
  std::optional<std::string> event_type;
  std::optional<std::chrono::sys_days> start_date;  // inclusive
  std::optional<std::chrono::sys_days> end_date;    // exclusive
  std::optional<std::string> tz;                    // SPEC 2.11: days and dates local to it (absent: UTC)
  std::optional<uint64_t> limit;
  std::optional<uint64_t> skip;
};

struct ActiveUsersRow {
  std::chrono::sys_days day;
  uint64_t active_users = 0;

  friend bool operator==(const ActiveUsersRow&, const ActiveUsersRow&) = default;
};

// SPEC 2.7: cohort retention. A user's cohort is the first period (day,
// week or month, as in SPEC 2.3) in which they have a matching event; each
// row counts the cohort's users with a matching event period_offset periods
// later. Every filter applies, feature_id included (absent: any feature).
struct FeatureRetentionQuery {
  std::optional<std::string> feature_id;
  Granularity granularity = Granularity::kWeek;  // kDay, kWeek or kMonth
  std::optional<std::string> product_version;
  std::optional<std::string> event_type;
  std::optional<Timestamp> start_date;
  std::optional<Timestamp> end_date;
  std::optional<std::string> tz;  // SPEC 2.11: local periods (absent: UTC)
  std::optional<uint64_t> limit;
  std::optional<uint64_t> skip;
};

struct FeatureRetentionRow {
  Timestamp cohort;  // the start of the cohort's period (with tz: the local period's first instant)
  uint64_t cohort_users = 0;
  uint64_t period_offset = 0;
  uint64_t users = 0;

  friend bool operator==(const FeatureRetentionRow&, const FeatureRetentionRow&) = default;
};

// SPEC 2.8: how many users go through `steps` in order, as ClickHouse's
// windowFunnel(window) in its default mode: a user reaches step k with
// events of steps 1..k at t1 <= t2 <= .. <= tk and tk - t1 <= window
// (events of the same second count in step order).
struct FeatureFunnelQuery {
  std::vector<std::string> steps;           // 2 to 8 distinct, non-empty feature_ids
  std::chrono::seconds window{86400};       // 1 s to 365 days
  std::optional<std::string> product_version;
  std::optional<std::string> event_type;
  std::optional<Timestamp> start_date;
  std::optional<Timestamp> end_date;
  std::optional<uint64_t> limit;
  std::optional<uint64_t> skip;
};

struct FeatureFunnelRow {
  uint64_t step = 0;  // 1-based
  std::string feature_id;
  uint64_t users = 0;  // users who reached at least this step

  friend bool operator==(const FeatureFunnelRow&, const FeatureFunnelRow&) = default;
};

// What a query cost, reported as Tinybird does in its `statistics` object.
struct QueryStatistics {
  double elapsed_seconds = 0;
  uint64_t rows_read = 0;   // stored rows the query examined
  uint64_t bytes_read = 0;  // bytes of column data those rows occupy
};

template <typename Row>
struct QueryResult {
  std::vector<Row> rows;          // after skip/limit, in the SPEC's order
  uint64_t rows_before_limit = 0;  // rows the query produced before skip/limit
  QueryStatistics statistics;
};

}  // namespace usagedb

#endif  // USAGEDB_QUERIES_H_
