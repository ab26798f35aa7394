// ResultTable: any endpoint's result as named, typed columns and rows of
// cells, the shape the output formats (lib/api/format.h) write.
//
// The typed results of usagedb/queries.h convert to it with the SPEC's column
// names and order (its SELECT lists); run_request runs a parsed request and
// converts in one step:
//
//   auto request = usagedb::api::parse_request(endpoint, params, UnknownParameters::kReject);
//   absl::StatusOr<ResultTable> table = usagedb::api::run_request(*store, *request);
//   std::string out;
//   usagedb::api::append_result(OutputFormat::kJson, *table, &out);
//
// Other tabular output (the quarantine listing) can fill a ResultTable by
// hand and reuse the formats.
//
// Thread-safety: plain values; run_request is as safe as the EventStore
// (safe to call concurrently).
#ifndef USAGEDB_API_RESULT_TABLE_H_
#define USAGEDB_API_RESULT_TABLE_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/api/endpoint_catalog.h"
#include "lib/api/endpoint_request.h"
#include "usagedb/event_store.h"
#include "usagedb/queries.h"

namespace usagedb::api {

struct Column {
  std::string name;
  ColumnType type = ColumnType::kString;
  // DateTime columns: the IANA zone its values are shown in ("" = UTC). JSON
  // meta then says `DateTime('Zone')` (SPEC 2.11).
  std::string time_zone;

  friend bool operator==(const Column&, const Column&) = default;
};

// The columns of `spec`, each DateTime shown in `time_zone` ("" = UTC).
std::vector<Column> columns_of(const EndpointSpec& spec, std::string_view time_zone = "");

// One value; the alternative matches its column's type (std::string for
// String, uint64_t for UInt64, double for Float64, sys_days for Date,
// Timestamp for DateTime).
using Cell = std::variant<std::string, uint64_t, double, std::chrono::sys_days, Timestamp>;

struct ResultTable {
  std::vector<Column> columns;
  // Each row has one cell per column, of the column's type.
  std::vector<std::vector<Cell>> rows;
  // Rows the query produced before skip/limit.
  uint64_t rows_before_limit = 0;
  // Whether the request gave `limit`: JSON output then reports
  // rows_before_limit_at_least (SPEC 3).
  bool limit_given = false;
  QueryStatistics statistics;
};

// A cell as text: the string itself, the decimal number, a Float64 as
// ClickHouse prints it (format_float64), the Date as "YYYY-MM-DD", the
// DateTime as "YYYY-MM-DD HH:MM:SS" in `time_zone` (UTC when "", absent or
// not a zone TimeZone::load() knows).
std::string cell_text(const Cell& cell, std::string_view time_zone = "");

// A Float64 as ClickHouse (and JavaScript) prints it: the shortest digits
// that read back as the same double, in plain notation when 1e-6 <= |x| <
// 1e21 and as `1e-7`, `1.5e21` otherwise (no `+`, no leading zeros in the
// exponent); `nan`, `inf`, `-inf` for the non-finite.
std::string format_float64(double value);

// The result of each endpoint, columns as its catalog entry lists them (its
// SPEC SELECT list). The rows' strings are moved into the table.
// `time_zone` ("" = UTC) is the request's tz: its DateTime columns show
// local times (SPEC 2.11).
ResultTable to_result_table(QueryResult<UserFeatureUsageRow> result, bool limit_given);
ResultTable to_result_table(QueryResult<FeatureUsageSummaryRow> result, bool limit_given);
ResultTable to_result_table(QueryResult<FeatureUsageTimelineRow> result, bool limit_given,
                            std::string_view time_zone = "");
ResultTable to_result_table(QueryResult<FeatureAdoptionRow> result, bool limit_given);
// (active_users' days are Dates, local dates already: no column takes the zone.)
ResultTable to_result_table(QueryResult<ActiveUsersRow> result, bool limit_given, std::string_view time_zone = "");
ResultTable to_result_table(QueryResult<FeatureRetentionRow> result, bool limit_given, std::string_view time_zone = "");
ResultTable to_result_table(QueryResult<FeatureFunnelRow> result, bool limit_given);
ResultTable to_result_table(QueryResult<PropertyBreakdownRow> result, bool limit_given);
ResultTable to_result_table(QueryResult<VersionAdoptionRow> result, bool limit_given, std::string_view time_zone = "");

// The typed EventStore method of `query`'s endpoint (one of the Query
// alternatives of EndpointRequest), called: what run_request converts and
// what bench/compare times.
template <typename Query>
auto call_endpoint(const EventStore& store, const Query& query) {
  if constexpr (std::is_same_v<Query, UserFeatureUsageQuery>) {
    return store.user_feature_usage(query);
  } else if constexpr (std::is_same_v<Query, FeatureUsageSummaryQuery>) {
    return store.feature_usage_summary(query);
  } else if constexpr (std::is_same_v<Query, FeatureUsageTimelineQuery>) {
    return store.feature_usage_timeline(query);
  } else if constexpr (std::is_same_v<Query, FeatureAdoptionQuery>) {
    return store.feature_adoption(query);
  } else if constexpr (std::is_same_v<Query, ActiveUsersQuery>) {
    return store.active_users(query);
  } else if constexpr (std::is_same_v<Query, FeatureRetentionQuery>) {
    return store.feature_retention(query);
  } else if constexpr (std::is_same_v<Query, FeatureFunnelQuery>) {
    return store.feature_funnel(query);
  } else if constexpr (std::is_same_v<Query, PropertyBreakdownQuery>) {
    return store.property_breakdown(query);
  } else {
    static_assert(std::is_same_v<Query, VersionAdoptionQuery>);
    return store.version_adoption(query);
  }
}

// Runs `request` on `store` and converts its result. Errors are the store's
// (e.g. InvalidArgumentError for a request the store rejects).
absl::StatusOr<ResultTable> run_request(const EventStore& store, const EndpointRequest& request);

}  // namespace usagedb::api

#endif  // USAGEDB_API_RESULT_TABLE_H_
