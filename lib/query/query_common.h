// Pieces every endpoint shares: string filters resolved to codes, the time
// window, partition pruning, statistics and paging.
#ifndef USAGEDB_QUERY_QUERY_COMMON_H_
#define USAGEDB_QUERY_QUERY_COMMON_H_

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "lib/table/dictionary.h"
#include "lib/table/part.h"
#include "lib/table/string_rank.h"
#include "lib/util/time_zone.h"
#include "usagedb/queries.h"

namespace usagedb::query {

// `column = value` on a dictionary-encoded column.
struct CodeFilter {
  bool active = false;          // false: no filter
  bool matches_nothing = false;  // the value was never stored
  uint32_t code = 0;

  bool accepts(uint32_t c) const { return !active || c == code; }
};

inline CodeFilter resolve_filter(const Dictionary& dict, const std::optional<std::string>& value) {
  CodeFilter f;
  if (!value.has_value()) return f;
  f.active = true;
  if (auto code = dict.find(*value)) {
    f.code = *code;
  } else {
    f.matches_nothing = true;
  }
  return f;
}

// `timestamp >= start_date AND timestamp < end_date`, in seconds.
struct TimeWindow {
  int64_t begin = std::numeric_limits<int64_t>::min();
  int64_t end = std::numeric_limits<int64_t>::max();

  bool bounded() const {
    return begin != std::numeric_limits<int64_t>::min() || end != std::numeric_limits<int64_t>::max();
  }
  bool contains(int64_t t) const { return t >= begin && t < end; }
  bool empty() const { return begin >= end; }
  // Whether month `yyyymm` can hold a row of the window.
  bool overlaps_month(uint32_t yyyymm) const;
  // Whether every row of `part` is inside the window.
  bool covers(const Part& part) const { return begin <= part.min_timestamp() && part.max_timestamp() < end; }
  // Whether some row of `part` may be inside the window (its time range alone).
  bool overlaps(const Part& part) const { return begin <= part.max_timestamp() && part.min_timestamp() < end; }
  // The rows of `part` inside the window (a part's rows ascend by time).
  RowRange rows_of(const Part& part) const {
    return covers(part) ? RowRange{0, part.rows()} : part.time_range(begin, end);
  }
};

// Validates start_date/end_date; InvalidArgumentError naming end_date when it
// is before start_date.
absl::StatusOr<TimeWindow> make_window(const std::optional<Timestamp>& start_date,
                                       const std::optional<Timestamp>& end_date);

// The zone of a `tz` parameter (SPEC 2.11): UTC when absent; an
// InvalidArgumentError naming `tz` when the system's tz database has no such
// zone. Zones stay loaded for the process: the pointer never dangles.
absl::StatusOr<const TimeZone*> resolve_time_zone(const std::optional<std::string>& tz);

// Measures elapsed time and the rows and bytes a query reads.
class Stats {
 public:
  Stats() : start_(std::chrono::steady_clock::now()) {}
  void read_rows(uint64_t rows, uint64_t bytes_per_row) {
    rows_read_ += rows;
    bytes_read_ += rows * bytes_per_row;
  }
  QueryStatistics finish() const {
    return QueryStatistics{std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(),
                           rows_read_, bytes_read_};
  }

 private:
  std::chrono::steady_clock::time_point start_;
  uint64_t rows_read_ = 0;
  uint64_t bytes_read_ = 0;
};

// Applies `LIMIT skip, limit` to rows already in the endpoint's order.
template <typename Row>
QueryResult<Row> page(std::vector<Row> rows, const std::optional<uint64_t>& limit,
                      const std::optional<uint64_t>& skip, const Stats& stats) {
  QueryResult<Row> result;
  result.rows_before_limit = rows.size();
  const uint64_t first = std::min<uint64_t>(skip.value_or(0), rows.size());
  const uint64_t count = std::min<uint64_t>(limit.value_or(rows.size()), rows.size() - first);
  if (first > 0 || count < rows.size()) {
    rows.erase(rows.begin() + static_cast<ptrdiff_t>(first + count), rows.end());
    rows.erase(rows.begin(), rows.begin() + static_cast<ptrdiff_t>(first));
  }
  result.rows = std::move(rows);
  result.statistics = stats.finish();
  return result;
}

// The page `LIMIT skip, limit` of `n` rows already in order, materializing
// only the rows on the page: make_row(i) builds row i.
template <typename Row, typename MakeRow>
QueryResult<Row> page_of(size_t n, const std::optional<uint64_t>& limit, const std::optional<uint64_t>& skip,
                         const Stats& stats, MakeRow&& make_row) {
  QueryResult<Row> result;
  result.rows_before_limit = n;
  const uint64_t first = std::min<uint64_t>(skip.value_or(0), n);
  const uint64_t count = std::min<uint64_t>(limit.value_or(n), n - first);
  result.rows.reserve(count);
  // Each row made in its place in the vector (emplace_back converts a
  // Maker, whose conversion returns make_row's prvalue): not made, then
  // moved string by string (a third of a 460-row answer's time).
  struct Maker {
    MakeRow& make_row;
    uint64_t i;
    operator Row() const { return make_row(i); }
  };
  for (uint64_t i = first; i < first + count; ++i) result.rows.emplace_back(Maker{make_row, i});
  result.statistics = stats.finish();
  return result;
}

// ORDER BY count DESC, feature_id ASC, product_version ASC over groups keyed
// by feature << 32 | version, comparing integers only: the (key, group)
// pairs in that order. `count(group)` gives a group's count.
template <typename Group, typename Count>
std::vector<std::pair<uint64_t, const Group*>> order_by_count_feature_version(
    const absl::flat_hash_map<uint64_t, Group>& groups, const Dictionary& feature_dict,
    const Dictionary& version_dict, Count&& count) {
  std::vector<uint32_t> features, versions;
  features.reserve(groups.size());
  versions.reserve(groups.size());
  for (const auto& [key, group] : groups) {
    features.push_back(static_cast<uint32_t>(key >> 32));
    versions.push_back(static_cast<uint32_t>(key));
  }
  const StringRank feature_rank(feature_dict, std::move(features));
  const StringRank version_rank(version_dict, std::move(versions));
  struct Sorted {
    uint64_t count;
    uint64_t rank;  // feature rank << 32 | version rank
    uint64_t key;
    const Group* group;
  };
  std::vector<Sorted> sorted;
  sorted.reserve(groups.size());
  for (const auto& [key, group] : groups) {
    const uint64_t r = (static_cast<uint64_t>(feature_rank(static_cast<uint32_t>(key >> 32))) << 32) |
                       version_rank(static_cast<uint32_t>(key));
    sorted.push_back(Sorted{count(group), r, key, &group});
  }
  std::sort(sorted.begin(), sorted.end(), [](const Sorted& a, const Sorted& b) {
    return a.count != b.count ? a.count > b.count : a.rank < b.rank;
  });
  std::vector<std::pair<uint64_t, const Group*>> out;
  out.reserve(sorted.size());
  for (const Sorted& e : sorted) out.emplace_back(e.key, e.group);
  return out;
}

inline Timestamp to_timestamp(int64_t seconds) { return Timestamp{std::chrono::seconds{seconds}}; }

}  // namespace usagedb::query

#endif  // USAGEDB_QUERY_QUERY_COMMON_H_
