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
