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

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/api/endpoint_request.h"
#include "usagedb/event_store.h"
#include "usagedb/queries.h"

namespace usagedb::api {

// ClickHouse's names for the SPEC's three column types.
enum class ColumnType { kString, kUInt64, kDateTime };

// "String", "UInt64", "DateTime": the `type` of JSON output's meta.
std::string_view column_type_name(ColumnType t);

struct Column {
  std::string name;
  ColumnType type = ColumnType::kString;

  friend bool operator==(const Column&, const Column&) = default;
};

// One value; the alternative matches its column's type (std::string for
// String, uint64_t for UInt64, Timestamp for DateTime).
using Cell = std::variant<std::string, uint64_t, Timestamp>;

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

// A cell as text: the string itself, the decimal number, or the DateTime as
// "YYYY-MM-DD HH:MM:SS" (UTC).
std::string cell_text(const Cell& cell);

// The result of each endpoint, columns as its SPEC SELECT list. The rows'
// strings are moved into the table.
ResultTable to_result_table(QueryResult<UserFeatureUsageRow> result, bool limit_given);
ResultTable to_result_table(QueryResult<FeatureUsageSummaryRow> result, bool limit_given);
ResultTable to_result_table(QueryResult<FeatureUsageTimelineRow> result, bool limit_given);

// Runs `request` on `store` and converts its result. Errors are the store's
// (e.g. InvalidArgumentError for a request the store rejects).
absl::StatusOr<ResultTable> run_request(const EventStore& store, const EndpointRequest& request);

}  // namespace usagedb::api

#endif  // USAGEDB_API_RESULT_TABLE_H_
