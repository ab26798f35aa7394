#include "lib/query/distinct_groups.h"

#include <algorithm>

namespace usagedb::query {

std::vector<uint64_t> DistinctGroups::count_users() const {
  const size_t n = keys_.size();
  std::vector<uint64_t> users(n, 0);
  // Each group's sources next to each other: a counting sort by group.
  std::vector<uint32_t> cell_start(n + 1, 0), row_start(n + 1, 0);
  uint32_t max_user = 0;
  for (const auto& [g, list] : cells_) {
    ++cell_start[g + 1];
    if (!list.empty()) max_user = std::max(max_user, list.back());  // lists ascend
  }
  for (const auto& [g, user] : rows_) {
    ++row_start[g + 1];
    max_user = std::max(max_user, user);
  }
  for (size_t g = 0; g < n; ++g) {
    cell_start[g + 1] += cell_start[g];
    row_start[g + 1] += row_start[g];
  }
  std::vector<std::span<const uint32_t>> cells(cells_.size());
  std::vector<uint32_t> rows(rows_.size());
  {
    std::vector<uint32_t> next(cell_start.begin(), cell_start.end() - 1);
    for (const auto& [g, list] : cells_) cells[next[g]++] = list;
    next.assign(row_start.begin(), row_start.end() - 1);
    for (const auto& [g, user] : rows_) rows[next[g]++] = user;
  }
  // The group that last saw each code: a load, compare and store per code,
  // with nothing to clear between groups. (Measured against a bitset per
  // group, counted as set or by popcount: 1.3-1.4 ms against 1.8-2.4 ms
  // for the 1.1M codes of a year of one feature's hour cells at 10M events.)
  std::vector<uint32_t> seen_by(static_cast<size_t>(max_user) + 1, UINT32_MAX);
  for (uint32_t g = 0; g < n; ++g) {
    const auto group_cells = std::span(cells).subspan(cell_start[g], cell_start[g + 1] - cell_start[g]);
    const auto group_rows = std::span(rows).subspan(row_start[g], row_start[g + 1] - row_start[g]);
    if (group_cells.size() == 1 && group_rows.empty()) {  // a sorted list of distinct codes
      users[g] = group_cells[0].size();
      continue;
    }
    uint64_t count = 0;
    const auto see = [&](uint32_t u) {
      count += seen_by[u] != g;
      seen_by[u] = g;
    };
    for (const std::span<const uint32_t> list : group_cells) {
      for (const uint32_t u : list) see(u);
    }
    for (const uint32_t u : group_rows) see(u);
    users[g] = count;
  }
  return users;
}

}  // namespace usagedb::query
