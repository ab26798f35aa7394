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
#include "usagedb/queries.h"

namespace usagedb::api {

enum class Endpoint { kUserFeatureUsage, kFeatureUsageSummary, kFeatureUsageTimeline };

// "user_feature_usage", "feature_usage_summary" or "feature_usage_timeline"
// (exact, case-sensitive). InvalidArgumentError listing the known names
// otherwise.
absl::StatusOr<Endpoint> parse_endpoint(std::string_view name);

// The name parse_endpoint accepts for `e`.
std::string_view endpoint_name(Endpoint e);

// The parameters `e` accepts: SPEC 2's, in the SPEC's order, then limit and
// skip (SPEC 2.4). The views point at static storage.
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
  std::variant<UserFeatureUsageQuery, FeatureUsageSummaryQuery, FeatureUsageTimelineQuery> query;
};

// Builds the typed request for `e` from `params`. Every error is
// InvalidArgumentError naming the parameter and saying what was expected:
// - a malformed value: `limit: expected a non-negative integer, got '-1'`,
//   `start_date: '2025-13-01' is not a valid DateTime: month must be 01..12`,
//   `granularity: expected one of hour, day, week, month, got 'minute'`;
// - limit and skip are decimal digits only (no sign, '+' or spaces) that fit
//   a uint64;
// - start_date and end_date take `YYYY-MM-DD HH:MM:SS` or `YYYY-MM-DD`;
//   end_date before start_date is an error naming end_date (equal is fine:
//   an empty window);
// - a parameter given twice, even with the same value;
// - under kReject, a parameter `e` does not accept, listing those it does.
// Parameters are checked in the order given and the first error is reported.
// An empty value is a value: `feature_id=` filters on the empty string, while
// `limit=`, `granularity=` or `start_date=` are malformed.
absl::StatusOr<EndpointRequest> parse_request(Endpoint e, const Params& params, UnknownParameters unknown);

}  // namespace usagedb::api

#endif  // USAGEDB_API_ENDPOINT_REQUEST_H_
