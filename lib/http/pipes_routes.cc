// The Pipes API (SPEC 5) and the server's own routes:
//   GET /v0/pipes                       the endpoints the token may read (the
//                                       catalog, lib/api/endpoint_catalog.h)
//   GET /v0/pipes/NAME                  one endpoint's entry
//   GET /v0/pipes/NAME.{json,csv,ndjson} an endpoint's result (SPEC 2, 3)
//   GET /v0/pipes/feature_events_quarantine.{json,csv,ndjson}
//   GET /v0/health, GET /metrics
//
// A pipe's body is exactly what `usagedb query NAME --format F` prints for
// the same parameters (lib/api's writers), but for statistics.elapsed.
#include <charconv>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "lib/api/endpoint_catalog.h"
#include "lib/api/endpoint_request.h"
#include "lib/api/format.h"
#include "lib/api/quarantine_table.h"
#include "lib/api/result_table.h"
#include "lib/http/routes.h"
#include "lib/util/json_escape.h"
#include "lib/util/text.h"

namespace usagedb::http {
namespace {

constexpr std::string_view kQuarantinePipe = "feature_events_quarantine";

// json, csv or ndjson (the table format is for terminals).
absl::StatusOr<api::OutputFormat> pipe_format(std::string_view name) {
  absl::StatusOr<api::OutputFormat> f = api::parse_output_format(name);
  if (!f.ok() || *f == api::OutputFormat::kTable) {
    return absl::InvalidArgumentError(
        absl::StrCat("format: expected .json, .csv or .ndjson, got '.", text::excerpt(name), "'"));
  }
  return f;
}

void reply_table(httplib::Response& res, api::OutputFormat format, const api::ResultTable& table) {
  std::string body;
  api::append_result(format, table, &body);
  res.status = 200;
  res.set_content(std::move(body), std::string(api::content_type(format)).c_str());
}

// The request's parameters for the endpoint: the query string's, with the
// token's fixed_params in place of any the request gave of the same name.
api::Params pipe_params(const Exchange& ex, std::string_view endpoint) {
  api::Params params = ex.state.query;
  const Scope* scope = ex.state.principal->find(ScopeType::kPipesRead, endpoint);
  if (scope == nullptr || scope->fixed_params.empty()) return params;
  std::erase_if(params, [scope](const auto& p) {
    for (const auto& [name, value] : scope->fixed_params) {
      if (p.first == name) return true;
    }
    return false;
  });
  params.insert(params.end(), scope->fixed_params.begin(), scope->fixed_params.end());
  return params;
}

// limit or skip of the quarantine, read by the endpoints' rules (their
// catalog spec) and messages.
absl::StatusOr<std::optional<uint64_t>> count_param(const Exchange& ex, std::string_view name) {
  const std::string* value = ex.param(name);
  if (value == nullptr) return std::optional<uint64_t>();
  const api::ParameterSpec* spec = api::endpoint_catalog().front().parameter(name);
  if (absl::Status s = api::check_parameter(*spec, *value); !s.ok()) return s;
  uint64_t n = 0;
  std::from_chars(value->data(), value->data() + value->size(), n);
  return std::optional<uint64_t>(n);
}

void handle_quarantine(Exchange& ex, api::OutputFormat format) {
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<std::optional<uint64_t>> limit = count_param(ex, "limit");
  if (!limit.ok()) return reply_status(ex.res, limit.status());
  absl::StatusOr<std::optional<uint64_t>> skip = count_param(ex, "skip");
  if (!skip.ok()) return reply_status(ex.res, skip.status());
  absl::StatusOr<std::vector<QuarantinedRow>> rows = ex.server.store.quarantine();
  if (!rows.ok()) return reply_status(ex.res, rows.status());
  api::ResultTable table = api::quarantine_table(std::move(*rows), *limit, *skip);
  table.statistics.elapsed_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  reply_table(ex.res, format, table);
}

// How GET /v0/pipes describes an endpoint, from its catalog entry:
// {"name","description","parameters":[{"name","type","required","default",
// "description"}],"columns":[{"name","type"}]} ("default" null when none).
void append_endpoint(const api::EndpointSpec& spec, std::string* out) {
  *out += "{\"name\":";
  text::append_json_string(spec.name, out);
  *out += ",\"description\":";
  text::append_json_string(spec.description, out);
  *out += ",\"parameters\":[";
  for (size_t i = 0; i < spec.parameters.size(); ++i) {
    const api::ParameterSpec& p = spec.parameters[i];
    if (i > 0) out->push_back(',');
    *out += "{\"name\":";
    text::append_json_string(p.name, out);
    *out += ",\"type\":";
    text::append_json_string(api::parameter_type_name(p.type), out);
    absl::StrAppend(out, ",\"required\":", p.required ? "true" : "false", ",\"default\":");
    if (p.default_value.empty()) {
      *out += "null";
    } else {
      text::append_json_string(p.default_value, out);
    }
    *out += ",\"description\":";
    text::append_json_string(p.description, out);
    out->push_back('}');
  }
  *out += "],\"columns\":[";
  for (size_t i = 0; i < spec.columns.size(); ++i) {
    if (i > 0) out->push_back(',');
    *out += "{\"name\":";
    text::append_json_string(spec.columns[i].name, out);
    *out += ",\"type\":";
    text::append_json_string(api::column_type_name(spec.columns[i].type), out);
    out->push_back('}');
  }
  *out += "]}";
}

}  // namespace

void handle_pipe(Exchange& ex) {
  absl::StatusOr<api::OutputFormat> format = pipe_format(ex.state.route.format);
  if (!format.ok()) return reply_status(ex.res, format.status());
  const std::string_view name = ex.state.route.resource;
  if (name == kQuarantinePipe) return handle_quarantine(ex, *format);
  absl::StatusOr<api::Endpoint> endpoint = api::parse_endpoint(name);
  if (!endpoint.ok()) return reply_error(ex.res, 404, message_of(endpoint.status()));
  absl::StatusOr<api::EndpointRequest> request =
      api::parse_request(*endpoint, pipe_params(ex, name), api::UnknownParameters::kIgnore);
  if (!request.ok()) return reply_status(ex.res, request.status());
  absl::StatusOr<api::ResultTable> table = api::run_request(ex.server.store, *request);
  if (!table.ok()) return reply_status(ex.res, table.status());
  reply_table(ex.res, *format, *table);
}

void handle_pipe_info(Exchange& ex) {
  const api::EndpointSpec* spec = api::find_endpoint(ex.state.route.resource);
  if (spec == nullptr) {
    return reply_error(ex.res, 404, absl::StrCat("endpoint '", text::excerpt(ex.state.route.resource), "' not found"));
  }
  std::string out;
  append_endpoint(*spec, &out);
  reply_json(ex.res, 200, std::move(out));
}

void handle_pipes_list(Exchange& ex) {
  std::string out = "{\"pipes\":[";
  bool first = true;
  for (const api::EndpointSpec& spec : api::endpoint_catalog()) {
    if (ex.state.principal->find(ScopeType::kPipesRead, spec.name) == nullptr) continue;
    if (!first) out.push_back(',');
    first = false;
    append_endpoint(spec, &out);
  }
  out += "]}";
  reply_json(ex.res, 200, std::move(out));
}

void handle_health(Exchange& ex) { reply_json(ex.res, 200, "{\"status\":\"ok\"}"); }

void handle_metrics(Exchange& ex) {
  absl::StatusOr<StoreStats> stats = ex.server.store.stats();
  if (!stats.ok()) return reply_status(ex.res, stats.status());
  ex.res.status = 200;
  ex.res.set_content(ex.server.metrics.render(*stats, ex.server.commit.flushes()), "text/plain; version=0.0.4");
}

void dispatch(Exchange& ex) {
  switch (ex.state.route.route) {
    case Route::kEvents:
      return handle_events(ex);
    case Route::kDatasourcesAppend:
      return handle_datasources_append(ex);
    case Route::kDatasourcesDelete:
      return handle_datasources_delete(ex);
    case Route::kPipesList:
      return handle_pipes_list(ex);
    case Route::kPipeInfo:
      return handle_pipe_info(ex);
    case Route::kPipe:
      return handle_pipe(ex);
    case Route::kHealth:
      return handle_health(ex);
    case Route::kMetrics:
      return handle_metrics(ex);
    case Route::kDashboard:
      return handle_dashboard(ex);
    case Route::kPreflight:
    case Route::kNotFound:
      break;
  }
  reply_error(ex.res, 404, "unknown route");
}

}  // namespace usagedb::http
