// Named endpoint requests: textual parameters turned into the typed queries
// of usagedb/queries.h.
//
// The CLI (`usagedb query NAME param=value ...`, SPEC 4) and the HTTP API
// (`GET /v0/pipes/NAME.json?param=value`, SPEC 5) both receive an endpoint
// name and name=value pairs; this is where they become a request, with one
// set of rules and error messages (SPEC 2 and 2.4).
//
//   auto endpoint = usagedb::api::parse_endpoint("feature_usage_summary");
//   if (!endpoint.ok()) return usage_error(endpoint.status());
//   auto request = usagedb::api::parse_request(
//       *endpoint, {{"feature_id", "feature_16"}, {"start_date", "2025-01-01"}, {"limit", "10"}},
//       usagedb::api::UnknownParameters::kReject);
//   if (!request.ok()) return usage_error(request.status());  // names the parameter
//   auto table = usagedb::api::run_request(*store, *request);  // lib/api/result_table.h
//
// Thread-safety: pure functions; the types are plain values.
#ifndef USAGEDB_API_ENDPOINT_REQUEST_H_
#define USAGEDB_API_ENDPOINT_REQUEST_H_

#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/api/endpoint_catalog.h"
#include "usagedb/queries.h"

namespace usagedb::api {

// The name of an endpoint of the catalog (lib/api/endpoint_catalog.h), e.g.
// "user_feature_usage" (exact, case-sensitive). InvalidArgumentError listing
// the known names otherwise.
absl::StatusOr<Endpoint> parse_endpoint(std::string_view name);

// The name parse_endpoint accepts for `e`.
std::string_view endpoint_name(Endpoint e);

// The names of the parameters `e` accepts (its catalog entry's): SPEC 2's,
// in the SPEC's order, then limit and skip (SPEC 2.4). The views point at
// static storage.
std::span<const std::string_view> parameter_names(Endpoint e);

// What parse_request does with a parameter the endpoint does not know.
enum class UnknownParameters {
  kReject,  // the CLI and the C++ API: an error naming it
  kIgnore,  // the HTTP API, as Tinybird ignores `token`, `utm_source`, ...
};

// name=value pairs in the order given, values already unescaped
// (percent-decoding is the HTTP layer's job).
using Params = std::vector<std::pair<std::string, std::string>>;

struct EndpointRequest {
  Endpoint endpoint = Endpoint::kUserFeatureUsage;
  // The alternative matching `endpoint`.
  std::variant<UserFeatureUsageQuery, FeatureUsageSummaryQuery, FeatureUsageTimelineQuery, FeatureAdoptionQuery,
               ActiveUsersQuery, FeatureRetentionQuery, FeatureFunnelQuery, PropertyBreakdownQuery, VersionAdoptionQuery>
      query;
};

// Builds the typed request for `e` from `params`, reading each value as its
// catalog ParameterSpec's type says. Every error is InvalidArgumentError
// naming the parameter and saying what was expected:
// - a malformed value: `limit: expected a non-negative integer, got '-1'`,
//   `start_date: '2025-13-01' is not a valid DateTime: month must be 01..12`,
//   `granularity: expected one of hour, day, week, month, got 'minute'`;
// - limit and skip are decimal digits only (no sign, '+' or spaces) that fit
//   a uint64;
// - a UInt64 with a range: `window_days: expected an integer from 1 to 365,
//   got '0'`;
// - DateTime parameters take `YYYY-MM-DD HH:MM:SS` or `YYYY-MM-DD`, Date
//   parameters `YYYY-MM-DD` (or with `00:00:00`); end_date before start_date
//   is an error naming end_date (equal is fine: an empty window);
// - a list (steps) is comma-separated, its items non-empty and distinct, and
//   their number within the spec's range;
// - a time zone must be in the system's tz database;
// - a parameter given twice, even with the same value;
// - a required parameter (steps, property) that is missing:
//   `steps: required: feature_funnel needs it (...)`;
// - under kReject, a parameter `e` does not accept, listing those it does.
// Parameters are checked in the order given and the first error is reported.
// An empty value is a value: `feature_id=` filters on the empty string, while
// `limit=`, `granularity=` or `start_date=` are malformed.
absl::StatusOr<EndpointRequest> parse_request(Endpoint e, const Params& params, UnknownParameters unknown);

// Whether `value` is a valid value of the parameter `spec` (the per-value
// rules above; OK or parse_request's InvalidArgumentError for it).
absl::Status check_parameter(const ParameterSpec& spec, std::string_view value);

}  // namespace usagedb::api

#endif  // USAGEDB_API_ENDPOINT_REQUEST_H_
