// An endpoint's ClickHouse SQL (EndpointSpec::clickhouse_sql) with its query
// parameters filled in, as ClickHouse's server substitutes them: for running
// the very SQL the exports publish on ClickHouse itself (chDB in the
// benchmark and the conformance tests).
//
//   absl::StatusOr<std::string> sql = usagedb::api::render_clickhouse_sql(
//       endpoint_spec(Endpoint::kFeatureUsageSummary),
//       {{"feature_id", "feature_16"}, {"start_date", "2025-01-01"}});
//   // ... WHERE (CAST('feature_16', 'Nullable(String)') IS NULL OR feature_id = ...
//
// Thread-safety: pure functions.
#ifndef USAGEDB_API_CLICKHOUSE_SQL_H_
#define USAGEDB_API_CLICKHOUSE_SQL_H_

#include <functional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "lib/api/endpoint_catalog.h"
#include "lib/api/endpoint_request.h"

namespace usagedb::api {

// A ClickHouse string literal of arbitrary bytes: '...' with \\ and \'
// escaped and bytes < 0x20 or 0x7F as \xHH.
std::string clickhouse_string_literal(std::string_view value);

// `spec.clickhouse_sql` with every placeholder `{name:Type}` replaced by
// `CAST(<literal>, '<Type>')`, the literal made from `params`' text for that
// name as the endpoint reads it (SPEC 2: a DateTime given as a date is
// midnight; a list `a,b` becomes ['a','b']), or NULL when the parameter is
// absent. `params` are first checked by parse_request (unknown parameters
// are ignored, as the HTTP API does), so the SQL is never given a value the
// endpoint would reject. Errors: parse_request's.
absl::StatusOr<std::string> render_clickhouse_sql(const EndpointSpec& spec, const Params& params);

// `spec.clickhouse_sql` with each placeholder `{name:Type}` replaced by
// `replace(the parameter's spec, "Type")`: render_clickhouse_sql's values,
// the Tinybird export's template calls (lib/export/project_files.h).
// InternalError for a placeholder that is malformed or names no parameter
// of the endpoint.
absl::StatusOr<std::string> replace_query_parameters(
    const EndpointSpec& spec, const std::function<std::string(const ParameterSpec&, std::string_view type)>& replace);

}  // namespace usagedb::api

#endif  // USAGEDB_API_CLICKHOUSE_SQL_H_
