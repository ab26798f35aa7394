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
  // Two ways to count a group's distinct codes: set their bits in a bitset
  // spanning the group's codes, then count and clear the words it spans
  // (a store per code, no branch: best when the codes are dense in that
  // span, as a day's users of a feature are), or remember the group that
  // last saw each code (a load, compare and store per code, whatever their
  // spread).
  std::vector<uint64_t> bits(static_cast<size_t>(max_user) / 64 + 1, 0);
  std::vector<uint32_t> seen_by;
  for (uint32_t g = 0; g < n; ++g) {
    const auto group_cells = std::span(cells).subspan(cell_start[g], cell_start[g + 1] - cell_start[g]);
    const auto group_rows = std::span(rows).subspan(row_start[g], row_start[g + 1] - row_start[g]);
    if (group_cells.size() == 1 && group_rows.empty()) {  // a sorted list of distinct codes
      users[g] = group_cells[0].size();
      continue;
    }
    uint32_t lo = UINT32_MAX, hi = 0;
    size_t codes = group_rows.size();
    for (const std::span<const uint32_t> list : group_cells) {
      if (list.empty()) continue;
      lo = std::min(lo, list.front());
      hi = std::max(hi, list.back());
      codes += list.size();
    }
    for (const uint32_t u : group_rows) {
      lo = std::min(lo, u);
      hi = std::max(hi, u);
    }
    if (codes == 0) continue;
    const size_t first_word = lo >> 6, words = (hi >> 6) - first_word + 1;
    uint64_t count = 0;
    if (words <= codes) {
      const auto set = [&](uint32_t u) { bits[u >> 6] |= uint64_t{1} << (u & 63); };
      for (const std::span<const uint32_t> list : group_cells) {
        for (const uint32_t u : list) set(u);
      }
      for (const uint32_t u : group_rows) set(u);
      for (size_t w = first_word; w < first_word + words; ++w) {
        count += static_cast<uint64_t>(__builtin_popcountll(bits[w]));
        bits[w] = 0;
      }
    } else {
      if (seen_by.empty()) seen_by.assign(static_cast<size_t>(max_user) + 1, UINT32_MAX);
      const auto see = [&](uint32_t u) {
        count += seen_by[u] != g;
        seen_by[u] = g;
      };
      for (const std::span<const uint32_t> list : group_cells) {
        for (const uint32_t u : list) see(u);
      }
      for (const uint32_t u : group_rows) see(u);
    }
    users[g] = count;
  }
  return users;
}

}  // namespace usagedb::query
