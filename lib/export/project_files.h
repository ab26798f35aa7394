// The text of the files `usagedb export` writes besides the events (SPEC 8,
// docs/EXPORT.md): the ClickHouse table and the Tinybird project, each
// endpoint GENERATED from its entry of the endpoint catalog
// (lib/api/endpoint_catalog.h), so an endpoint added to the catalog is
// exported with no change here.
//
//   std::string ddl = clickhouse_schema_sql();
//   std::string sql = clickhouse_endpoint_sql(spec);        // the catalog's SQL as is
//   absl::StatusOr<std::string> pipe = tinybird_pipe(spec);  // the same SQL as a template
//
// The pipe's SQL is the catalog's with each query parameter `{name:T}`
// replaced by
//   CAST({% if defined(name) %}{{F(name)}}{% else %}NULL{% end %}, 'T')
// where F is the Tinybird template function of the parameter's type
// (String, DateTime, Date, UInt64, or Array(name, 'String') for a list).
// Rendered by Tinybird with a set of parameters it is, byte for byte, the
// SQL lib/api/clickhouse_sql.h renders for them (each value a literal of
// the same text), so both engines run the same query.
//
// Thread-safety: pure functions.
#ifndef USAGEDB_EXPORT_PROJECT_FILES_H_
#define USAGEDB_EXPORT_PROJECT_FILES_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "lib/api/endpoint_catalog.h"

namespace usagedb::exporting {

// schema.sql: CREATE TABLE feature_events (SPEC 1's columns, DateTime('UTC'))
// ENGINE = MergeTree PARTITION BY toYYYYMM(timestamp) ORDER BY (timestamp,
// feature_id, product_version). One statement, no trailing semicolon.
std::string clickhouse_schema_sql();

// NAME.sql: the endpoint's catalog SQL, preceded by comment lines saying
// what it answers and its parameters.
std::string clickhouse_endpoint_sql(const api::EndpointSpec& spec);

// datasources/feature_events.datasource: the seed's schema block (each
// column with its `json:$.` path), ENGINE "MergeTree", partition and sorting
// keys.
std::string tinybird_datasource();

// endpoints/NAME.pipe: DESCRIPTION, one NODE whose SQL is the catalog's as a
// template (above), TYPE endpoint. InternalError when the catalog's SQL has
// a placeholder that is malformed or names no parameter of the endpoint.
absl::StatusOr<std::string> tinybird_pipe(const api::EndpointSpec& spec);

// The Tinybird template function that reads a parameter of type `t`, as
// called in a pipe: "String(name)", "DateTime(name)", "Array(name, 'String')".
std::string tinybird_parameter_call(api::ParameterType t, std::string_view name);

// The README.md of each export: what is in it and the commands that load
// and deploy it.
std::string clickhouse_readme();
std::string tinybird_readme();

}  // namespace usagedb::exporting

#endif  // USAGEDB_EXPORT_PROJECT_FILES_H_
