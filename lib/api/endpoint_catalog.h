// The endpoint catalog: the one definition of every endpoint of SPEC section
// 2 that the CLI (`usagedb query`), the HTTP API (`/v0/pipes`), the
// dashboard (through `/v0/pipes`) and the exports (SPEC 8) share.
//
// Each EndpointSpec says what the endpoint is called and answers, the
// parameters it takes (name, type, required, default, description: what
// Tinybird's `GET /v0/pipes` lists), the columns it returns (its SQL's SELECT
// list), and its ClickHouse SQL with query parameters (`{name:Type}`), whose
// result on the same data is exactly usagedb's rows. A new endpoint is one
// new entry here (lib/api/endpoints/*.cc) plus its typed query in
// usagedb/queries.h; nothing else keeps a list of names or parameters.
//
//   for (const EndpointSpec& spec : endpoint_catalog()) {
//     std::cout << spec.name << ": " << spec.description << "\n";
//     for (const ParameterSpec& p : spec.parameters) std::cout << "  " << p.name << "\n";
//   }
//   const EndpointSpec* spec = find_endpoint("feature_usage_summary");
//
// Thread-safety: the catalog is immutable static data.
#ifndef USAGEDB_API_ENDPOINT_CATALOG_H_
#define USAGEDB_API_ENDPOINT_CATALOG_H_

#include <cstdint>
#include <span>
#include <string_view>

namespace usagedb::api {

// The endpoints, in SPEC order.
enum class Endpoint {
  kUserFeatureUsage,
  kFeatureUsageSummary,
  kFeatureUsageTimeline,
  kFeatureAdoption,
  kActiveUsers,
  kFeatureRetention,
  kFeatureFunnel,
  kPropertyBreakdown,
  kVersionAdoption,
};

// How a parameter's text is read (lib/api/endpoint_request.h has the exact
// rules and error messages).
enum class ParameterType {
  kString,      // any text, "" included (`feature_id=` filters on the empty string)
  kDateTime,    // `YYYY-MM-DD HH:MM:SS` or `YYYY-MM-DD` (midnight), UTC
  kDate,        // `YYYY-MM-DD` (or with the time `00:00:00`)
  kUInt64,      // decimal digits within [min, max]
  kEnum,        // one of `choices`
  kStringList,  // comma-separated, [min, max] distinct non-empty items
  kTimeZone,    // an IANA zone name of the system's tz database
};

// The type as Tinybird's `GET /v0/pipes` and ClickHouse name it: String,
// DateTime, Date, UInt64, String, Array(String), String.
std::string_view parameter_type_name(ParameterType t);

struct ParameterSpec {
  std::string_view name;
  ParameterType type = ParameterType::kString;
  bool required = false;
  // The value used when absent, as text ("" = none: absent imposes no filter).
  std::string_view default_value;
  std::string_view description;
  // kEnum: the accepted values.
  std::span<const std::string_view> choices;
  // kUInt64: the accepted range; kStringList: the number of items.
  uint64_t min = 0;
  uint64_t max = UINT64_MAX;
};

// ClickHouse's names for the column types of the endpoints' results.
enum class ColumnType { kString, kUInt64, kFloat64, kDate, kDateTime };

// "String", "UInt64", "Float64", "Date", "DateTime": the `type` of JSON
// output's meta (a DateTime shown in a time zone is `DateTime('Zone')`).
std::string_view column_type_name(ColumnType t);

struct ColumnSpec {
  std::string_view name;
  ColumnType type = ColumnType::kString;
};

struct EndpointSpec {
  Endpoint endpoint;
  std::string_view name;         // `usagedb query NAME`, `/v0/pipes/NAME.json`
  std::string_view description;  // the question it answers, one sentence
  // SPEC 2's parameters in its order, then limit and skip (SPEC 2.4).
  std::span<const ParameterSpec> parameters;
  std::span<const ColumnSpec> columns;  // the result's columns, in order
  // The endpoint as ClickHouse SQL over the `feature_events` table, each
  // parameter a query parameter `{name:Nullable(T)}` (NULL = absent: no
  // filter, or the default), ending with the LIMIT of limit/skip. Rendered
  // with values by lib/api/clickhouse_sql.h; exported by SPEC 8.
  std::string_view clickhouse_sql;

  // The parameter called `name`, or null.
  const ParameterSpec* parameter(std::string_view name) const;
};

// Every endpoint, in SPEC order.
std::span<const EndpointSpec> endpoint_catalog();

// The spec of `e`.
const EndpointSpec& endpoint_spec(Endpoint e);

// The spec named `name` (exact, case-sensitive), or null.
const EndpointSpec* find_endpoint(std::string_view name);

}  // namespace usagedb::api

#endif  // USAGEDB_API_ENDPOINT_CATALOG_H_
