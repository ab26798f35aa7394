#include "lib/export/project_files.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/api/clickhouse_sql.h"
#include "lib/util/text.h"

namespace usagedb::exporting {
namespace {

using text::absl_view;

// SPEC 1's columns: name, ClickHouse type, Tinybird type.
struct Column {
  const char* name;
  const char* clickhouse_type;
  const char* tinybird_type;
};
constexpr Column kColumns[] = {
    {"event_id", "String", "String"},        {"user_id", "String", "String"},
    {"feature_id", "String", "String"},      {"product_version", "String", "String"},
    {"event_type", "String", "String"},      {"timestamp", "DateTime('UTC')", "DateTime"},
    {"session_id", "String", "String"},      {"metadata", "String", "String"},
};
constexpr std::string_view kPartitionKey = "toYYYYMM(timestamp)";
constexpr std::string_view kSortingKey = "timestamp, feature_id, product_version";

// `text` with every line indented by four spaces (a datafile's block).
std::string indented(std::string_view text) {
  std::string out;
  size_t begin = 0;
  while (begin < text.size()) {
    size_t end = text.find('\n', begin);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(begin, end - begin);
    if (!line.empty()) absl::StrAppend(&out, "    ", absl_view(line));
    out += '\n';
    begin = end + 1;
  }
  return out;
}

}  // namespace

std::string clickhouse_schema_sql() {
  std::string out = "CREATE TABLE IF NOT EXISTS feature_events\n(\n";
  for (size_t i = 0; i < std::size(kColumns); ++i) {
    absl::StrAppend(&out, "    ", kColumns[i].name, " ", kColumns[i].clickhouse_type,
                    i + 1 < std::size(kColumns) ? ",\n" : "\n");
  }
  absl::StrAppend(&out, ")\nENGINE = MergeTree\nPARTITION BY ", absl_view(kPartitionKey), "\nORDER BY (", absl_view(kSortingKey), ")\n");
  return out;
}

std::string clickhouse_endpoint_sql(const api::EndpointSpec& spec) {
  std::string out = absl::StrCat("-- ", absl_view(spec.name), ": ", absl_view(spec.description), "\n");
  out += "-- Query parameters (NULL, or \\N over the HTTP interface, when absent):\n";
  for (const api::ParameterSpec& p : spec.parameters) {
    absl::StrAppend(&out, "--   ", absl_view(p.name), " ", absl_view(api::parameter_type_name(p.type)), p.required ? " (required)" : "",
                    p.default_value.empty() ? "" : absl::StrCat(" (default ", absl_view(p.default_value), ")"), ": ",
                    absl_view(p.description), "\n");
  }
  out += std::string(spec.clickhouse_sql);
  return out;
}

std::string tinybird_datasource() {
  std::string out = "DESCRIPTION >\n    Product feature-usage events (SPEC 1), exported by usagedb.\n\nSCHEMA >\n";
  for (size_t i = 0; i < std::size(kColumns); ++i) {
    absl::StrAppend(&out, "    `", kColumns[i].name, "` ", kColumns[i].tinybird_type, " `json:$.", kColumns[i].name,
                    "`", i + 1 < std::size(kColumns) ? ",\n" : "\n");
  }
  absl::StrAppend(&out, "\nENGINE \"MergeTree\"\nENGINE_PARTITION_KEY \"", absl_view(kPartitionKey), "\"\nENGINE_SORTING_KEY \"",
                  absl_view(kSortingKey), "\"\n");
  return out;
}

std::string tinybird_parameter_call(api::ParameterType t, std::string_view name) {
  switch (t) {
    case api::ParameterType::kDateTime: return absl::StrCat("DateTime(", absl_view(name), ")");
    case api::ParameterType::kDate: return absl::StrCat("Date(", absl_view(name), ")");
    case api::ParameterType::kUInt64: return absl::StrCat("UInt64(", absl_view(name), ")");
    case api::ParameterType::kStringList: return absl::StrCat("Array(", absl_view(name), ", 'String')");
    case api::ParameterType::kString:
    case api::ParameterType::kEnum:
    case api::ParameterType::kTimeZone: return absl::StrCat("String(", absl_view(name), ")");
  }
  return absl::StrCat("String(", absl_view(name), ")");
}

absl::StatusOr<std::string> tinybird_pipe(const api::EndpointSpec& spec) {
  absl::StatusOr<std::string> templated =
      api::replace_query_parameters(spec, [](const api::ParameterSpec& p, std::string_view type) {
        return absl::StrCat("CAST({% if defined(", absl_view(p.name), ") %}{{", tinybird_parameter_call(p.type, p.name),
                            "}}{% else %}NULL{% end %}, ", api::clickhouse_string_literal(type), ")");
      });
  if (!templated.ok()) return templated.status();
  return absl::StrCat("DESCRIPTION >\n    ", absl_view(spec.description), "\n\nNODE endpoint\nSQL >\n",
                      indented(absl::StrCat("%\n", *templated)), "\nTYPE endpoint\n");
}

std::string clickhouse_readme() {
  return R"(# feature_events for ClickHouse (exported by `usagedb export clickhouse`)

- `schema.sql`: the MergeTree table `feature_events` (SPEC 1).
- `events.ndjson`: the store's events, one JSON object a line, for `FORMAT JSONEachRow`.
- `NAME.sql`: one query per endpoint, with ClickHouse query parameters `{name:Type}`. An absent
  parameter is NULL (`\N`): no filter, or its default. Run on these events, each returns exactly
  what `usagedb query NAME` returns on the store.

Load and query with clickhouse-client:

    clickhouse-client --queries-file schema.sql
    clickhouse-client --query 'INSERT INTO feature_events FORMAT JSONEachRow' < events.ndjson
    clickhouse-client --param_feature_id=feature_16 --param_product_version='\N' \
        --param_event_type='\N' --param_start_date='\N' --param_end_date='\N' \
        --param_limit='\N' --param_skip='\N' --queries-file feature_usage_summary.sql

Over the HTTP interface, pass `param_<name>=<value>` (URL-encoded, `\N` for absent) with the
SQL as the body.
)";
}

std::string tinybird_readme() {
  return R"(# feature_events as a Tinybird project (exported by `usagedb export tinybird`)

- `datasources/feature_events.datasource`: the table (SPEC 1), its JSON paths, engine and keys.
- `endpoints/NAME.pipe`: one API endpoint per usagedb endpoint, with the same parameters; each
  returns what `usagedb query NAME` (or `/v0/pipes/NAME.json` of `usagedb serve`) returns.
- `fixtures/feature_events.ndjson`: the store's events.

Deploy with the Tinybird CLI (`pip install tinybird-cli`), from this directory:

    tb login
    tb --cloud deploy
    tb --cloud datasource append feature_events fixtures/feature_events.ndjson

To try it first on Tinybird Local: `tb local start`, then `tb build` (fixtures are appended to
the local workspace) and query `http://localhost:7181/v0/pipes/NAME.json?token=...`. To keep
sending new events after the move, run `usagedb forward --store DIR --to https://api.tinybird.co
--token <an append token> --follow`.
)";
}

}  // namespace usagedb::exporting
