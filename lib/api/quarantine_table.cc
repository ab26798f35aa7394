#include "lib/api/quarantine_table.h"

#include <algorithm>

#include "absl/strings/str_join.h"

namespace usagedb::api {

ResultTable quarantine_table(std::vector<QuarantinedRow> rows, std::optional<uint64_t> limit,
                             std::optional<uint64_t> skip) {
  ResultTable t;
  t.columns = {{"inserted_at", ColumnType::kDateTime}, {"source", ColumnType::kString}, {"line", ColumnType::kUInt64},
               {"columns", ColumnType::kString},       {"error", ColumnType::kString},  {"raw", ColumnType::kString}};
  const uint64_t first = std::min<uint64_t>(skip.value_or(0), rows.size());
  const uint64_t end = limit ? first + std::min<uint64_t>(*limit, rows.size() - first) : rows.size();
  for (uint64_t i = first; i < end; ++i) {
    QuarantinedRow& r = rows[i];
    t.rows.push_back({r.inserted_at, std::move(r.source), r.line, absl::StrJoin(r.columns, ","), std::move(r.error),
                      std::move(r.raw)});
  }
  t.rows_before_limit = rows.size();
  t.limit_given = limit.has_value();
  t.statistics.rows_read = rows.size();
  return t;
}

}  // namespace usagedb::api
