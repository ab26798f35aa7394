// The SQL of the endpoints of SPEC section 2, with their parameters substituted as literals, for
// each peer's dialect: ClickHouse (chDB) and DuckDB. Both dialects return exactly the rows,
// columns and order that SPEC section 2 defines, rendered identically by Peer::query().
//
// SPEC 2.1-2.3, 2.9 and 2.10 in both dialects; SPEC 2.5-2.7 in DuckDB only (ClickHouse runs the
// SQL of usagedb's endpoint catalog, lib/api/endpoints/, which this self-contained library does
// not link); SPEC 2.8 (feature_funnel) in neither: DuckDB has no windowFunnel (kNotApplicable).
//
// Columns (all rendered as text by Peer::query()):
//   user_feature_usage:     user_id, feature_id, product_version, usage_count, first_usage, last_usage
//   feature_usage_summary:  feature_id, product_version, total_events, unique_users,
//                           unique_sessions, first_seen, last_seen
//   feature_usage_timeline: period, feature_id, events, unique_users
//   feature_adoption:       feature_id, users, active_users, adoption_rate (a double), events
//   active_users:           day (YYYY-MM-DD), active_users
//   feature_retention:      cohort, cohort_users, period_offset, users
//   property_breakdown:     value, events, users
//   version_adoption:       period, product_version, users, active_users, share, events
//
// Self-contained: depends only on the C++20 standard library and Abseil.
#ifndef USAGEDB_BENCH_PEERS_PEER_SQL_H_
#define USAGEDB_BENCH_PEERS_PEER_SQL_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace usagedb::bench {

enum class Dialect { kClickHouse, kDuckDB };

// "chdb"/"clickhouse" -> kClickHouse, "duckdb" -> kDuckDB (a Peer's name()).
absl::StatusOr<Dialect> dialect_for_peer(std::string_view peer_name);

// The parameters of SPEC section 2, named as there. Absent = no filter. An endpoint given a
// parameter it does not take (e.g. event_type for user_feature_usage) is an error naming it.
struct EndpointParams {
  std::optional<std::string> user_id;          // user_feature_usage only; absent = empty result
  std::optional<std::string> feature_id;
  std::optional<std::string> product_version;
  std::optional<std::string> event_type;       // summary and timeline
  std::optional<std::string> start_date;       // inclusive; "YYYY-MM-DD HH:MM:SS" or "YYYY-MM-DD"
  std::optional<std::string> end_date;         // exclusive; same forms
  std::optional<std::string> granularity;      // timeline: hour | day (default) | week | month;
                                               // version_adoption: the same, default week;
                                               // retention: day | week (default) | month
  std::optional<std::string> property;         // property_breakdown only (required)
  std::optional<std::string> tz;               // an IANA zone, default UTC (DuckDB: timeline and version_adoption)
  std::optional<uint64_t> window_days;         // active_users only: 1..365 (default 1)
  std::optional<std::string> steps;            // feature_funnel only (no dialect here: see above)
  std::optional<uint64_t> window;              // feature_funnel only
  std::optional<uint64_t> limit;
  std::optional<uint64_t> skip;
};

// The message of the UnimplementedError for an endpoint a dialect cannot express starts with this
// (DuckDB has no windowFunnel): the benchmark shows the query as not applicable to that engine
// rather than as a failure.
inline constexpr std::string_view kNotApplicable = "n/a: ";

// SPEC 2.1. Errors: a parameter the endpoint does not take.
absl::StatusOr<std::string> user_feature_usage_sql(Dialect dialect, const EndpointParams& p);
// SPEC 2.2. Errors: unknown parameter, malformed start_date/end_date.
absl::StatusOr<std::string> feature_usage_summary_sql(Dialect dialect, const EndpointParams& p);
// SPEC 2.3. Errors: unknown parameter, malformed dates, granularity not hour|day|week|month.
absl::StatusOr<std::string> feature_usage_timeline_sql(Dialect dialect, const EndpointParams& p);

// SPEC 2.5, 2.6, 2.7 (DuckDB only; see above). Errors: unknown parameter, malformed dates or
// window_days, granularity not day|week|month, the ClickHouse dialect.
absl::StatusOr<std::string> feature_adoption_sql(Dialect dialect, const EndpointParams& p);
absl::StatusOr<std::string> active_users_sql(Dialect dialect, const EndpointParams& p);
absl::StatusOr<std::string> feature_retention_sql(Dialect dialect, const EndpointParams& p);
// SPEC 2.9. Errors: unknown parameter, no property, malformed dates. The DuckDB translation
// agrees with ClickHouse on well-formed JSON objects (DuckDB's JSON reader accepts numbers that
// ClickHouse's rejects).
absl::StatusOr<std::string> property_breakdown_sql(Dialect dialect, const EndpointParams& p);
// SPEC 2.10. Errors: unknown parameter, malformed dates, bad granularity. In a `tz`, the DuckDB
// translation buckets local wall-clock times, so it merges the two hours of a DST fall-back and
// does not clamp before 1970 as ClickHouse does; elsewhere the rows are the same.
absl::StatusOr<std::string> version_adoption_sql(Dialect dialect, const EndpointParams& p);

// Dispatches on the endpoint name ("user_feature_usage", "feature_usage_summary",
// "feature_usage_timeline", "feature_adoption", "active_users", "feature_retention",
// "property_breakdown", "version_adoption"); for "feature_funnel", an UnimplementedError whose
// message starts with kNotApplicable.
absl::StatusOr<std::string> endpoint_sql(Dialect dialect, std::string_view endpoint,
                                         const EndpointParams& p);

// A string literal of `value` (arbitrary bytes) in the dialect:
//   ClickHouse: '...' with \\ and \' escaped and bytes < 0x20 or 0x7F as \xHH.
//   DuckDB: '...' with '' doubled (standard SQL, no backslash escapes); a NUL byte, which the C
//   API's NUL-terminated query text cannot carry, becomes '...' || chr(0) || '...'.
std::string sql_string_literal(Dialect dialect, std::string_view value);

// Validates a SPEC 2 date parameter and returns it as "YYYY-MM-DD HH:MM:SS" (a date alone means
// midnight). Errors name the parameter, e.g. "start_date: '2025-02-30' is not a valid DateTime
// (expected YYYY-MM-DD HH:MM:SS or YYYY-MM-DD)". Range: 1970-01-01 00:00:00..2105-12-31 23:59:59.
absl::StatusOr<std::string> normalize_datetime_param(std::string_view name, std::string_view value);

}  // namespace usagedb::bench

#endif  // USAGEDB_BENCH_PEERS_PEER_SQL_H_
