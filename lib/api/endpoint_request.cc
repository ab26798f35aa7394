// parse_endpoint and parse_request (lib/api/endpoint_request.h).
//
// Every endpoint's parameters are a subset of one list, so parsing fills one
// struct of optional values (Values) and each endpoint's query is built from
// it; the per-endpoint tables only say which names are accepted.
#include "lib/api/endpoint_request.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/util/text.h"

namespace usagedb::api {
namespace {

constexpr std::string_view kEndpointNames[] = {"user_feature_usage", "feature_usage_summary",
                                               "feature_usage_timeline"};

// SPEC 2.1, 2.2 and 2.3, in the SPEC's order, then SPEC 2.4.
constexpr std::string_view kUserFeatureUsageParams[] = {"user_id", "feature_id", "product_version", "limit",
                                                        "skip"};
constexpr std::string_view kFeatureUsageSummaryParams[] = {
    "feature_id", "product_version", "event_type", "start_date", "end_date", "limit", "skip"};
constexpr std::string_view kFeatureUsageTimelineParams[] = {
    "granularity", "feature_id", "product_version", "event_type", "start_date", "end_date", "limit", "skip"};

constexpr std::string_view kGranularityNames[] = {"hour", "day", "week", "month"};
constexpr Granularity kGranularities[] = {Granularity::kHour, Granularity::kDay, Granularity::kWeek,
                                          Granularity::kMonth};

// "a, b, c": absl::StrJoin does not take std::string_view with Debian's Abseil.
std::string join(std::span<const std::string_view> names) {
  std::string out;
  for (const std::string_view name : names) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

// A quoted, printable form of a value for an error message.
std::string quoted(std::string_view value) { return absl::StrCat("'", text::excerpt(value), "'"); }

// The union of every endpoint's parameters, as parsed so far.
struct Values {
  std::optional<std::string> user_id;
  std::optional<std::string> feature_id;
  std::optional<std::string> product_version;
  std::optional<std::string> event_type;
  std::optional<Granularity> granularity;
  std::optional<Timestamp> start_date;
  std::optional<Timestamp> end_date;
  std::optional<uint64_t> limit;
  std::optional<uint64_t> skip;
};

absl::StatusOr<uint64_t> parse_count(std::string_view name, std::string_view value) {
  const bool digits_only =
      !value.empty() && std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!digits_only) {
    return absl::InvalidArgumentError(
        absl::StrCat(text::absl_view(name), ": expected a non-negative integer, got ", quoted(value)));
  }
  uint64_t n = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (ec == std::errc::result_out_of_range) {
    return absl::InvalidArgumentError(absl::StrCat(text::absl_view(name), ": ", quoted(value),
                                                   " is too large: the maximum is ", UINT64_MAX));
  }
  return n;
}

absl::StatusOr<Timestamp> parse_date(std::string_view name, std::string_view value) {
  absl::StatusOr<Timestamp> t = parse_date_parameter(value);
  if (!t.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(text::absl_view(name), ": ", t.status().message()));
  }
  return t;
}

absl::StatusOr<Granularity> parse_granularity(std::string_view value) {
  for (size_t i = 0; i < std::size(kGranularityNames); ++i) {
    if (value == kGranularityNames[i]) return kGranularities[i];
  }
  return absl::InvalidArgumentError(
      absl::StrCat("granularity: expected one of ", join(kGranularityNames), ", got ", quoted(value)));
}

// Parses one accepted parameter into `v`. REQUIRES: `name` is one of the
// parameter names above and was not given before.
absl::Status parse_value(std::string_view name, const std::string& value, Values* v) {
  if (name == "user_id") {
    v->user_id = value;
  } else if (name == "feature_id") {
    v->feature_id = value;
  } else if (name == "product_version") {
    v->product_version = value;
  } else if (name == "event_type") {
    v->event_type = value;
  } else if (name == "granularity") {
    absl::StatusOr<Granularity> g = parse_granularity(value);
    if (!g.ok()) return g.status();
    v->granularity = *g;
  } else if (name == "start_date" || name == "end_date") {
    absl::StatusOr<Timestamp> t = parse_date(name, value);
    if (!t.ok()) return t.status();
    (name == "start_date" ? v->start_date : v->end_date) = *t;
  } else {  // limit or skip
    absl::StatusOr<uint64_t> n = parse_count(name, value);
    if (!n.ok()) return n.status();
    (name == "limit" ? v->limit : v->skip) = *n;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Endpoint> parse_endpoint(std::string_view name) {
  for (const Endpoint e :
       {Endpoint::kUserFeatureUsage, Endpoint::kFeatureUsageSummary, Endpoint::kFeatureUsageTimeline}) {
    if (name == endpoint_name(e)) return e;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown endpoint ", quoted(name), ": expected one of ", join(kEndpointNames)));
}

std::string_view endpoint_name(Endpoint e) { return kEndpointNames[static_cast<size_t>(e)]; }

std::span<const std::string_view> parameter_names(Endpoint e) {
  switch (e) {
    case Endpoint::kUserFeatureUsage: return kUserFeatureUsageParams;
    case Endpoint::kFeatureUsageSummary: return kFeatureUsageSummaryParams;
    case Endpoint::kFeatureUsageTimeline: return kFeatureUsageTimelineParams;
  }
  return {};
}

absl::StatusOr<EndpointRequest> parse_request(Endpoint e, const Params& params, UnknownParameters unknown) {
  const std::span<const std::string_view> accepted = parameter_names(e);
  std::vector<bool> seen(accepted.size(), false);
  Values v;
  std::string_view start_text;
  std::string_view end_text;
  for (const auto& [name, value] : params) {
    const auto it = std::find(accepted.begin(), accepted.end(), name);
    if (it == accepted.end()) {
      if (unknown == UnknownParameters::kIgnore) continue;
      return absl::InvalidArgumentError(absl::StrCat("unknown parameter ", quoted(name), " for ",
                                                     text::absl_view(endpoint_name(e)), ": expected one of ",
                                                     join(accepted)));
    }
    const size_t index = static_cast<size_t>(it - accepted.begin());
    if (seen[index]) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, ": given more than once; give each parameter at most once"));
    }
    seen[index] = true;
    if (absl::Status s = parse_value(*it, value, &v); !s.ok()) return s;
    if (name == "start_date") start_text = value;
    if (name == "end_date") end_text = value;
  }
  if (v.start_date && v.end_date && *v.end_date < *v.start_date) {
    return absl::InvalidArgumentError(
        absl::StrCat("end_date: ", quoted(end_text), " is before start_date ", quoted(start_text),
                     " (start_date is inclusive, end_date exclusive)"));
  }

  EndpointRequest request;
  request.endpoint = e;
  switch (e) {
    case Endpoint::kUserFeatureUsage:
      request.query = UserFeatureUsageQuery{.user_id = std::move(v.user_id),
                                            .feature_id = std::move(v.feature_id),
                                            .product_version = std::move(v.product_version),
                                            .limit = v.limit,
                                            .skip = v.skip};
      break;
    case Endpoint::kFeatureUsageSummary:
      request.query = FeatureUsageSummaryQuery{.feature_id = std::move(v.feature_id),
                                               .product_version = std::move(v.product_version),
                                               .event_type = std::move(v.event_type),
                                               .start_date = v.start_date,
                                               .end_date = v.end_date,
                                               .limit = v.limit,
                                               .skip = v.skip};
      break;
    case Endpoint::kFeatureUsageTimeline:
      request.query = FeatureUsageTimelineQuery{.granularity = v.granularity.value_or(Granularity::kDay),
                                                .feature_id = std::move(v.feature_id),
                                                .product_version = std::move(v.product_version),
                                                .event_type = std::move(v.event_type),
                                                .start_date = v.start_date,
                                                .end_date = v.end_date,
                                                .limit = v.limit,
                                                .skip = v.skip};
      break;
  }
  return request;
}

}  // namespace usagedb::api
