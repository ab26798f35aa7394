#include "lib/api/result_table.h"

#include <charconv>
#include <cmath>
#include <type_traits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "lib/util/time_zone.h"

namespace usagedb::api {
namespace {

// Each row's cells in its SPEC SELECT order.
std::vector<Cell> make_row(UserFeatureUsageRow&& r) {
  std::vector<Cell> cells;
  cells.reserve(6);
  cells.emplace_back(std::move(r.user_id));
  cells.emplace_back(std::move(r.feature_id));
  cells.emplace_back(std::move(r.product_version));
  cells.emplace_back(r.usage_count);
  cells.emplace_back(r.first_usage);
  cells.emplace_back(r.last_usage);
  return cells;
}

std::vector<Cell> make_row(FeatureUsageSummaryRow&& r) {
  std::vector<Cell> cells;
  cells.reserve(7);
  cells.emplace_back(std::move(r.feature_id));
  cells.emplace_back(std::move(r.product_version));
  cells.emplace_back(r.total_events);
  cells.emplace_back(r.unique_users);
  cells.emplace_back(r.unique_sessions);
  cells.emplace_back(r.first_seen);
  cells.emplace_back(r.last_seen);
  return cells;
}

std::vector<Cell> make_row(FeatureUsageTimelineRow&& r) {
  std::vector<Cell> cells;
  cells.reserve(4);
  cells.emplace_back(r.period);
  cells.emplace_back(std::move(r.feature_id));
  cells.emplace_back(r.events);
  cells.emplace_back(r.unique_users);
  return cells;
}

std::vector<Cell> make_row(FeatureAdoptionRow&& r) {
  std::vector<Cell> cells;
  cells.reserve(5);
  cells.emplace_back(std::move(r.feature_id));
  cells.emplace_back(r.users);
  cells.emplace_back(r.active_users);
  cells.emplace_back(r.adoption_rate);
  cells.emplace_back(r.events);
  return cells;
}

std::vector<Cell> make_row(PropertyBreakdownRow&& r) {
  std::vector<Cell> cells;
  cells.reserve(3);
  cells.emplace_back(std::move(r.value));
  cells.emplace_back(r.events);
  cells.emplace_back(r.users);
  return cells;
}

std::vector<Cell> make_row(VersionAdoptionRow&& r) {
  std::vector<Cell> cells;
  cells.reserve(6);
  cells.emplace_back(r.period);
  cells.emplace_back(std::move(r.product_version));
  cells.emplace_back(r.users);
  cells.emplace_back(r.active_users);
  cells.emplace_back(r.share);
  cells.emplace_back(r.events);
  return cells;
}

std::vector<Cell> make_row(ActiveUsersRow&& r) {
  std::vector<Cell> cells;
  cells.reserve(2);
  cells.emplace_back(r.day);
  cells.emplace_back(r.active_users);
  return cells;
}

std::vector<Cell> make_row(FeatureRetentionRow&& r) {
  std::vector<Cell> cells;
  cells.reserve(4);
  cells.emplace_back(r.cohort);
  cells.emplace_back(r.cohort_users);
  cells.emplace_back(r.period_offset);
  cells.emplace_back(r.users);
  return cells;
}

std::vector<Cell> make_row(FeatureFunnelRow&& r) {
  std::vector<Cell> cells;
  cells.reserve(3);
  cells.emplace_back(r.step);
  cells.emplace_back(std::move(r.feature_id));
  cells.emplace_back(r.users);
  return cells;
}

template <typename Row>
ResultTable convert(QueryResult<Row> result, bool limit_given, std::vector<Column> columns) {
  ResultTable table;
  table.columns = std::move(columns);
  table.rows.reserve(result.rows.size());
  for (Row& row : result.rows) table.rows.push_back(make_row(std::move(row)));
  table.rows_before_limit = result.rows_before_limit;
  table.limit_given = limit_given;
  table.statistics = result.statistics;
  return table;
}

}  // namespace

std::vector<Column> columns_of(const EndpointSpec& spec, std::string_view time_zone) {
  std::vector<Column> columns;
  columns.reserve(spec.columns.size());
  for (const ColumnSpec& c : spec.columns) {
    columns.push_back(Column{std::string(c.name), c.type,
                             c.type == ColumnType::kDateTime ? std::string(time_zone) : std::string()});
  }
  return columns;
}

std::string format_float64(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value < 0 ? "-inf" : "inf";
  if (value == 0) return std::signbit(value) ? "-0" : "0";
  // The shortest round-trip digits, as d.ddde±x.
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::scientific);
  const std::string_view sci(buf, static_cast<size_t>(end - buf));
  std::string out;
  size_t i = 0;
  if (sci[0] == '-') {
    out.push_back('-');
    i = 1;
  }
  const size_t e_pos = sci.find('e');
  std::string digits;
  for (size_t j = i; j < e_pos; ++j) {
    if (sci[j] != '.') digits.push_back(sci[j]);
  }
  int exponent = 0;
  std::from_chars(sci.data() + e_pos + (sci[e_pos + 1] == '+' ? 2 : 1), sci.data() + sci.size(), exponent);
  const int k = static_cast<int>(digits.size());
  const int n = exponent + 1;  // where the decimal point goes, after n digits
  if (k <= n && n <= 21) {
    out += digits;
    out.append(static_cast<size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out.append(digits, 0, static_cast<size_t>(n));
    out.push_back('.');
    out.append(digits, static_cast<size_t>(n));
  } else if (-6 < n && n <= 0) {
    out += "0.";
    out.append(static_cast<size_t>(-n), '0');
    out += digits;
  } else {
    out.push_back(digits[0]);
    if (k > 1) {
      out.push_back('.');
      out.append(digits, 1);
    }
    absl::StrAppend(&out, "e", n - 1);
  }
  return out;
}

std::string cell_text(const Cell& cell, std::string_view time_zone) {
  if (const auto* s = std::get_if<std::string>(&cell)) return *s;
  if (const auto* n = std::get_if<uint64_t>(&cell)) return absl::StrCat(*n);
  if (const auto* d = std::get_if<double>(&cell)) return format_float64(*d);
  if (const auto* day = std::get_if<std::chrono::sys_days>(&cell)) {
    return format_timestamp(Timestamp(*day)).substr(0, 10);
  }
  const Timestamp t = std::get<Timestamp>(cell);
  if (time_zone.empty() || time_zone == "UTC") return format_timestamp(t);
  absl::StatusOr<std::shared_ptr<const TimeZone>> zone = TimeZone::load(time_zone);
  if (!zone.ok()) return format_timestamp(t);
  // The local wall-clock time, printed as format_timestamp prints UTC.
  const int64_t seconds = t.time_since_epoch().count();
  return format_timestamp(Timestamp{std::chrono::seconds{seconds + (*zone)->offset_at(seconds)}});
}

ResultTable to_result_table(QueryResult<UserFeatureUsageRow> result, bool limit_given) {
  return convert(std::move(result), limit_given, columns_of(endpoint_spec(Endpoint::kUserFeatureUsage)));
}

ResultTable to_result_table(QueryResult<FeatureUsageSummaryRow> result, bool limit_given) {
  return convert(std::move(result), limit_given, columns_of(endpoint_spec(Endpoint::kFeatureUsageSummary)));
}

ResultTable to_result_table(QueryResult<FeatureUsageTimelineRow> result, bool limit_given,
                            std::string_view time_zone) {
  return convert(std::move(result), limit_given,
                 columns_of(endpoint_spec(Endpoint::kFeatureUsageTimeline), time_zone));
}

ResultTable to_result_table(QueryResult<PropertyBreakdownRow> result, bool limit_given) {
  return convert(std::move(result), limit_given, columns_of(endpoint_spec(Endpoint::kPropertyBreakdown)));
}

ResultTable to_result_table(QueryResult<VersionAdoptionRow> result, bool limit_given, std::string_view time_zone) {
  return convert(std::move(result), limit_given, columns_of(endpoint_spec(Endpoint::kVersionAdoption), time_zone));
}

ResultTable to_result_table(QueryResult<FeatureAdoptionRow> result, bool limit_given) {
  return convert(std::move(result), limit_given, columns_of(endpoint_spec(Endpoint::kFeatureAdoption)));
}

ResultTable to_result_table(QueryResult<ActiveUsersRow> result, bool limit_given, std::string_view time_zone) {
  return convert(std::move(result), limit_given, columns_of(endpoint_spec(Endpoint::kActiveUsers), time_zone));
}

ResultTable to_result_table(QueryResult<FeatureRetentionRow> result, bool limit_given, std::string_view time_zone) {
  return convert(std::move(result), limit_given, columns_of(endpoint_spec(Endpoint::kFeatureRetention), time_zone));
}

ResultTable to_result_table(QueryResult<FeatureFunnelRow> result, bool limit_given) {
  return convert(std::move(result), limit_given, columns_of(endpoint_spec(Endpoint::kFeatureFunnel)));
}

absl::StatusOr<ResultTable> run_request(const EventStore& store, const EndpointRequest& request) {
  return std::visit(
      [&store](const auto& query) -> absl::StatusOr<ResultTable> {
        auto result = call_endpoint(store, query);
        if (!result.ok()) return result.status();
        if constexpr (requires { query.tz; }) {
          // DateTime columns print in the request's zone.
          return to_result_table(std::move(result).value(), query.limit.has_value(), query.tz.value_or(""));
        } else {
          return to_result_table(std::move(result).value(), query.limit.has_value());
        }
      },
      request.query);
}

}  // namespace usagedb::api
