// parse_endpoint and parse_request (lib/api/endpoint_request.h).
//
// Parsing is driven by the catalog (lib/api/endpoint_catalog.h): each value
// is read as its ParameterSpec's type says into a ParsedValues map, and each
// endpoint's typed query is built from that map (build_query below, the only
// per-endpoint code here).
#include "lib/api/endpoint_request.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/util/text.h"
#include "lib/util/time_zone.h"

namespace usagedb::api {
namespace {

// "a, b, c": absl::StrJoin does not take std::string_view with Debian's Abseil.
template <typename Names>
std::string join(const Names& names) {
  std::string out;
  for (const std::string_view name : names) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

// A quoted, printable form of a value for an error message.
std::string quoted(std::string_view value) { return absl::StrCat("'", text::excerpt(value), "'"); }

absl::Status invalid(std::string_view name, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(text::absl_view(name), ": ", what));
}

// A parameter's value as its type reads it.
using ParsedValue = std::variant<std::string, Timestamp, std::chrono::sys_days, uint64_t, std::vector<std::string>>;

// The values given, by parameter name.
class ParsedValues {
 public:
  void set(std::string_view name, ParsedValue v) { values_.emplace(name, std::move(v)); }

  template <typename T>
  std::optional<T> get(std::string_view name) {
    auto it = values_.find(name);
    if (it == values_.end()) return std::nullopt;
    return std::get<T>(std::move(it->second));
  }
  std::optional<std::string> string(std::string_view name) { return get<std::string>(name); }
  std::optional<Timestamp> datetime(std::string_view name) { return get<Timestamp>(name); }
  std::optional<uint64_t> uint(std::string_view name) { return get<uint64_t>(name); }
  std::optional<std::chrono::sys_days> date(std::string_view name) { return get<std::chrono::sys_days>(name); }
  std::optional<std::vector<std::string>> list(std::string_view name) { return get<std::vector<std::string>>(name); }

 private:
  absl::flat_hash_map<std::string_view, ParsedValue> values_;
};

absl::StatusOr<uint64_t> parse_count(const ParameterSpec& spec, std::string_view value) {
  const bool digits_only =
      !value.empty() && std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; });
  const bool ranged = spec.min != 0 || spec.max != UINT64_MAX;
  const std::string expected = ranged ? absl::StrCat("expected an integer from ", spec.min, " to ", spec.max)
                                      : std::string("expected a non-negative integer");
  if (!digits_only) return invalid(spec.name, absl::StrCat(expected, ", got ", quoted(value)));
  uint64_t n = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (ec == std::errc::result_out_of_range) {
    if (ranged) return invalid(spec.name, absl::StrCat(expected, ", got ", quoted(value)));
    return invalid(spec.name, absl::StrCat(quoted(value), " is too large: the maximum is ", UINT64_MAX));
  }
  if (n < spec.min || n > spec.max) return invalid(spec.name, absl::StrCat(expected, ", got ", quoted(value)));
  return n;
}

absl::StatusOr<Timestamp> parse_datetime(const ParameterSpec& spec, std::string_view value) {
  absl::StatusOr<Timestamp> t = parse_date_parameter(value);
  if (!t.ok()) return invalid(spec.name, t.status().message());
  return t;
}

// `YYYY-MM-DD`, or a DateTime whose time is midnight.
absl::StatusOr<std::chrono::sys_days> parse_date(const ParameterSpec& spec, std::string_view value) {
  absl::StatusOr<Timestamp> t = parse_date_parameter(value);
  if (!t.ok()) return invalid(spec.name, t.status().message());
  const auto day = std::chrono::floor<std::chrono::days>(*t);
  if (day != *t) {
    return invalid(spec.name, absl::StrCat(quoted(value), " is not a date: expected YYYY-MM-DD (a whole day, "
                                                          "the time may only be 00:00:00)"));
  }
  return day;
}

absl::StatusOr<std::string> parse_choice(const ParameterSpec& spec, std::string_view value) {
  for (const std::string_view choice : spec.choices) {
    if (value == choice) return std::string(value);
  }
  return invalid(spec.name, absl::StrCat("expected one of ", join(spec.choices), ", got ", quoted(value)));
}

absl::StatusOr<std::vector<std::string>> parse_list(const ParameterSpec& spec, std::string_view value) {
  std::vector<std::string> items;
  absl::flat_hash_set<std::string_view> seen;
  size_t begin = 0;
  while (true) {
    const size_t comma = value.find(',', begin);
    const std::string_view item = value.substr(begin, comma == std::string_view::npos ? comma : comma - begin);
    if (item.empty()) {
      return invalid(spec.name, absl::StrCat("item ", items.size() + 1, " of ", quoted(value),
                                             " is empty: expected comma-separated non-empty values"));
    }
    if (!seen.insert(item).second) {
      return invalid(spec.name, absl::StrCat(quoted(item), " is given more than once in ", quoted(value),
                                             ": the items must be distinct"));
    }
    items.emplace_back(item);
    if (comma == std::string_view::npos) break;
    begin = comma + 1;
  }
  if (items.size() < spec.min || items.size() > spec.max) {
    return invalid(spec.name, absl::StrCat("expected ", spec.min, " to ", spec.max, " comma-separated values, got ",
                                           items.size(), " in ", quoted(value)));
  }
  return items;
}

absl::StatusOr<std::string> parse_time_zone(const ParameterSpec& spec, std::string_view value) {
  absl::StatusOr<std::shared_ptr<const TimeZone>> zone = TimeZone::load(value);
  if (!zone.ok()) return invalid(spec.name, zone.status().message());
  return std::string(value);
}

absl::StatusOr<ParsedValue> parse_value(const ParameterSpec& spec, std::string_view value) {
  auto wrap = [](auto r) -> absl::StatusOr<ParsedValue> {
    if (!r.ok()) return r.status();
    return ParsedValue(*std::move(r));
  };
  switch (spec.type) {
    case ParameterType::kString: return ParsedValue(std::string(value));
    case ParameterType::kDateTime: return wrap(parse_datetime(spec, value));
    case ParameterType::kDate: return wrap(parse_date(spec, value));
    case ParameterType::kUInt64: return wrap(parse_count(spec, value));
    case ParameterType::kEnum: return wrap(parse_choice(spec, value));
    case ParameterType::kStringList: return wrap(parse_list(spec, value));
    case ParameterType::kTimeZone: return wrap(parse_time_zone(spec, value));
  }
  return absl::InternalError("unknown parameter type");
}

Granularity granularity_of(std::optional<std::string> name, Granularity fallback) {
  if (!name) return fallback;
  if (*name == "hour") return Granularity::kHour;
  if (*name == "day") return Granularity::kDay;
  if (*name == "week") return Granularity::kWeek;
  return Granularity::kMonth;  // the catalog's choices admit nothing else
}

// The typed query of `e` from its parsed values.
EndpointRequest build_query(Endpoint e, ParsedValues& v) {
  EndpointRequest request;
  request.endpoint = e;
  switch (e) {
    case Endpoint::kUserFeatureUsage:
      request.query = UserFeatureUsageQuery{.user_id = v.string("user_id"),
                                            .feature_id = v.string("feature_id"),
                                            .product_version = v.string("product_version"),
                                            .limit = v.uint("limit"),
                                            .skip = v.uint("skip")};
      break;
    case Endpoint::kFeatureUsageSummary:
      request.query = FeatureUsageSummaryQuery{.feature_id = v.string("feature_id"),
                                               .product_version = v.string("product_version"),
                                               .event_type = v.string("event_type"),
                                               .start_date = v.datetime("start_date"),
                                               .end_date = v.datetime("end_date"),
                                               .limit = v.uint("limit"),
                                               .skip = v.uint("skip")};
      break;
    case Endpoint::kFeatureUsageTimeline:
      request.query = FeatureUsageTimelineQuery{.granularity = granularity_of(v.string("granularity"), Granularity::kDay),
                                                .feature_id = v.string("feature_id"),
                                                .product_version = v.string("product_version"),
                                                .event_type = v.string("event_type"),
                                                .start_date = v.datetime("start_date"),
                                                .end_date = v.datetime("end_date"),
                                                .tz = v.string("tz"),
                                                .limit = v.uint("limit"),
                                                .skip = v.uint("skip")};
      break;
    case Endpoint::kFeatureAdoption:
      request.query = FeatureAdoptionQuery{.feature_id = v.string("feature_id"),
                                           .product_version = v.string("product_version"),
                                           .event_type = v.string("event_type"),
                                           .start_date = v.datetime("start_date"),
                                           .end_date = v.datetime("end_date"),
                                           .limit = v.uint("limit"),
                                           .skip = v.uint("skip")};
      break;
    case Endpoint::kActiveUsers:
      // The catalog's range (1..365) bounds window_days.
      request.query = ActiveUsersQuery{.window_days = static_cast<uint32_t>(v.uint("window_days").value_or(1)),
                                       .feature_id = v.string("feature_id"),
                                       .product_version = v.string("product_version"),
                                       .event_type = v.string("event_type"),
                                       .start_date = v.date("start_date"),
                                       .end_date = v.date("end_date"),
                                       .tz = v.string("tz"),
                                       .limit = v.uint("limit"),
                                       .skip = v.uint("skip")};
      break;
    case Endpoint::kFeatureRetention:
      request.query = FeatureRetentionQuery{.feature_id = v.string("feature_id"),
                                            .granularity = granularity_of(v.string("granularity"), Granularity::kWeek),
                                            .product_version = v.string("product_version"),
                                            .event_type = v.string("event_type"),
                                            .start_date = v.datetime("start_date"),
                                            .end_date = v.datetime("end_date"),
                                            .tz = v.string("tz"),
                                            .limit = v.uint("limit"),
                                            .skip = v.uint("skip")};
      break;
    case Endpoint::kFeatureFunnel:
      request.query = FeatureFunnelQuery{.steps = v.list("steps").value_or(std::vector<std::string>{}),
                                         .window = std::chrono::seconds(v.uint("window").value_or(86400)),
                                         .product_version = v.string("product_version"),
                                         .event_type = v.string("event_type"),
                                         .start_date = v.datetime("start_date"),
                                         .end_date = v.datetime("end_date"),
                                         .limit = v.uint("limit"),
                                         .skip = v.uint("skip")};
      break;
    case Endpoint::kPropertyBreakdown:
      request.query = PropertyBreakdownQuery{.property = v.string("property").value_or(""),
                                             .feature_id = v.string("feature_id"),
                                             .product_version = v.string("product_version"),
                                             .event_type = v.string("event_type"),
                                             .start_date = v.datetime("start_date"),
                                             .end_date = v.datetime("end_date"),
                                             .limit = v.uint("limit"),
                                             .skip = v.uint("skip")};
      break;
    case Endpoint::kVersionAdoption:
      request.query = VersionAdoptionQuery{.granularity = granularity_of(v.string("granularity"), Granularity::kWeek),
                                           .feature_id = v.string("feature_id"),
                                           .event_type = v.string("event_type"),
                                           .start_date = v.datetime("start_date"),
                                           .end_date = v.datetime("end_date"),
                                           .tz = v.string("tz"),
                                           .limit = v.uint("limit"),
                                           .skip = v.uint("skip")};
      break;
  }
  return request;
}

}  // namespace

absl::StatusOr<Endpoint> parse_endpoint(std::string_view name) {
  if (const EndpointSpec* spec = find_endpoint(name)) return spec->endpoint;
  std::vector<std::string_view> names;
  for (const EndpointSpec& spec : endpoint_catalog()) names.push_back(spec.name);
  return absl::InvalidArgumentError(absl::StrCat("unknown endpoint ", quoted(name), ": expected one of ", join(names)));
}

std::string_view endpoint_name(Endpoint e) { return endpoint_spec(e).name; }

std::span<const std::string_view> parameter_names(Endpoint e) {
  static const auto* const kNames = [] {
    auto* names = new std::vector<std::vector<std::string_view>>();
    for (const EndpointSpec& spec : endpoint_catalog()) {
      std::vector<std::string_view>& list = names->emplace_back();
      for (const ParameterSpec& p : spec.parameters) list.push_back(p.name);
    }
    return names;
  }();
  return (*kNames)[static_cast<size_t>(e)];
}

absl::Status check_parameter(const ParameterSpec& spec, std::string_view value) {
  return parse_value(spec, value).status();
}

absl::StatusOr<EndpointRequest> parse_request(Endpoint e, const Params& params, UnknownParameters unknown) {
  const EndpointSpec& spec = endpoint_spec(e);
  absl::flat_hash_set<std::string_view> seen;
  ParsedValues values;
  // The text of each DateTime/Date parameter, for the window check's message.
  std::optional<std::string_view> start_text;
  std::optional<std::string_view> end_text;
  for (const auto& [name, value] : params) {
    const ParameterSpec* p = spec.parameter(name);
    if (p == nullptr) {
      if (unknown == UnknownParameters::kIgnore) continue;
      return absl::InvalidArgumentError(absl::StrCat("unknown parameter ", quoted(name), " for ",
                                                     text::absl_view(spec.name), ": expected one of ",
                                                     join(parameter_names(e))));
    }
    if (!seen.insert(p->name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, ": given more than once; give each parameter at most once"));
    }
    absl::StatusOr<ParsedValue> parsed = parse_value(*p, value);
    if (!parsed.ok()) return parsed.status();
    values.set(p->name, *std::move(parsed));
    if (p->name == "start_date") start_text = value;
    if (p->name == "end_date") end_text = value;
  }
  for (const ParameterSpec& p : spec.parameters) {
    if (p.required && !seen.contains(p.name)) {
      return invalid(p.name, absl::StrCat("required: ", text::absl_view(spec.name), " needs it (",
                                          text::absl_view(p.description), ")"));
    }
  }
  if (start_text && end_text) {
    // Both are DateTime or both Date: compare them as instants.
    const Timestamp start = *parse_date_parameter(*start_text);
    const Timestamp end = *parse_date_parameter(*end_text);
    if (end < start) {
      return absl::InvalidArgumentError(absl::StrCat("end_date: ", quoted(*end_text), " is before start_date ",
                                                     quoted(*start_text),
                                                     " (start_date is inclusive, end_date exclusive)"));
    }
  }
  return build_query(e, values);
}

}  // namespace usagedb::api
