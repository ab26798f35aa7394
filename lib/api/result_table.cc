#include "lib/api/result_table.h"

#include <type_traits>
#include <utility>

#include "absl/strings/str_cat.h"

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

std::string_view column_type_name(ColumnType t) {
  switch (t) {
    case ColumnType::kString: return "String";
    case ColumnType::kUInt64: return "UInt64";
    case ColumnType::kDateTime: return "DateTime";
  }
  return "String";
}

std::string cell_text(const Cell& cell) {
  if (const auto* s = std::get_if<std::string>(&cell)) return *s;
  if (const auto* n = std::get_if<uint64_t>(&cell)) return absl::StrCat(*n);
  return format_timestamp(std::get<Timestamp>(cell));
}

ResultTable to_result_table(QueryResult<UserFeatureUsageRow> result, bool limit_given) {
  return convert(std::move(result), limit_given,
                 {{"user_id", ColumnType::kString},
                  {"feature_id", ColumnType::kString},
                  {"product_version", ColumnType::kString},
                  {"usage_count", ColumnType::kUInt64},
                  {"first_usage", ColumnType::kDateTime},
                  {"last_usage", ColumnType::kDateTime}});
}

ResultTable to_result_table(QueryResult<FeatureUsageSummaryRow> result, bool limit_given) {
  return convert(std::move(result), limit_given,
                 {{"feature_id", ColumnType::kString},
                  {"product_version", ColumnType::kString},
                  {"total_events", ColumnType::kUInt64},
                  {"unique_users", ColumnType::kUInt64},
                  {"unique_sessions", ColumnType::kUInt64},
                  {"first_seen", ColumnType::kDateTime},
                  {"last_seen", ColumnType::kDateTime}});
}

ResultTable to_result_table(QueryResult<FeatureUsageTimelineRow> result, bool limit_given) {
  return convert(std::move(result), limit_given,
                 {{"period", ColumnType::kDateTime},
                  {"feature_id", ColumnType::kString},
                  {"events", ColumnType::kUInt64},
                  {"unique_users", ColumnType::kUInt64}});
}

absl::StatusOr<ResultTable> run_request(const EventStore& store, const EndpointRequest& request) {
  return std::visit(
      [&store](const auto& query) -> absl::StatusOr<ResultTable> {
        using Query = std::decay_t<decltype(query)>;
        if constexpr (std::is_same_v<Query, UserFeatureUsageQuery>) {
          auto result = store.user_feature_usage(query);
          if (!result.ok()) return result.status();
          return to_result_table(std::move(result).value(), query.limit.has_value());
        } else if constexpr (std::is_same_v<Query, FeatureUsageSummaryQuery>) {
          auto result = store.feature_usage_summary(query);
          if (!result.ok()) return result.status();
          return to_result_table(std::move(result).value(), query.limit.has_value());
        } else {
          static_assert(std::is_same_v<Query, FeatureUsageTimelineQuery>);
          auto result = store.feature_usage_timeline(query);
          if (!result.ok()) return result.status();
          return to_result_table(std::move(result).value(), query.limit.has_value());
        }
      },
      request.query);
}

}  // namespace usagedb::api
