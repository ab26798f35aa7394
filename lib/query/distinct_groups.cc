#include "lib/query/distinct_groups.h"

#include <algorithm>
#include <bit>

namespace usagedb::query {

std::vector<uint64_t> DistinctGroups::count_users() const {
  const size_t n = keys_.size();
  std::vector<uint64_t> users(n, 0);
  // Each group's sources next to each other: a counting sort by group.
  std::vector<uint32_t> cell_start(n + 1, 0), row_start(n + 1, 0);
  uint32_t max_user = 0;
  for (const Cell& c : cells_) {
    ++cell_start[c.group + 1];
    if (!c.users.empty()) max_user = std::max(max_user, c.users.back());  // lists ascend
  }
  for (const auto& [g, user] : rows_) {
    ++row_start[g + 1];
    max_user = std::max(max_user, user);
  }
  for (size_t g = 0; g < n; ++g) {
    cell_start[g + 1] += cell_start[g];
    row_start[g + 1] += row_start[g];
  }
  std::vector<const Cell*> cells(cells_.size());
  std::vector<uint32_t> rows(rows_.size());
  {
    std::vector<uint32_t> next(cell_start.begin(), cell_start.end() - 1);
    for (const Cell& c : cells_) cells[next[c.group]++] = &c;
    next.assign(row_start.begin(), row_start.end() - 1);
    for (const auto& [g, user] : rows_) rows[next[g]++] = user;
  }
  // The group that last saw each code: a load, compare and store per code,
  // with nothing to clear between groups. (Measured against a bitset per
  // group, counted as set or by popcount: 1.3-1.4 ms against 1.8-2.4 ms
  // for the 1.1M codes of a year of one feature's hour cells at 10M events.)
  std::vector<uint32_t> seen_by(static_cast<size_t>(max_user) + 1, UINT32_MAX);
  // A group's users as bits, when some of its cells come with bits.
  std::vector<uint64_t> bits;
  for (uint32_t g = 0; g < n; ++g) {
    const auto group_cells = std::span(cells).subspan(cell_start[g], cell_start[g + 1] - cell_start[g]);
    const auto group_rows = std::span(rows).subspan(row_start[g], row_start[g + 1] - row_start[g]);
    if (group_cells.size() == 1 && group_rows.empty()) {  // a sorted list of distinct codes
      users[g] = group_cells[0]->users.size();
      continue;
    }
    if (std::any_of(group_cells.begin(), group_cells.end(), [](const Cell* c) { return !c->bits.empty(); })) {
      // Codes past the bits' words (rows, cells without bits) widen them.
      bits.assign(static_cast<size_t>(max_user) / 64 + 1, 0);
      for (const Cell* c : group_cells) {
        if (c->bits.empty()) continue;
        if (c->bits.size() > bits.size()) bits.resize(c->bits.size(), 0);
        for (size_t w = 0; w < c->bits.size(); ++w) bits[w] |= c->bits[w];
      }
      const auto set = [&](uint32_t u) { bits[u / 64] |= uint64_t{1} << (u % 64); };
      for (const Cell* c : group_cells) {
        if (!c->bits.empty()) continue;
        for (const uint32_t u : c->users) set(u);
      }
      for (const uint32_t u : group_rows) set(u);
      uint64_t count = 0;
      for (const uint64_t w : bits) count += static_cast<uint64_t>(std::popcount(w));
      users[g] = count;
      continue;
    }
    uint64_t count = 0;
    const auto see = [&](uint32_t u) {
      count += seen_by[u] != g;
      seen_by[u] = g;
    };
    for (const Cell* c : group_cells) {
      for (const uint32_t u : c->users) see(u);
    }
    for (const uint32_t u : group_rows) see(u);
    users[g] = count;
  }
  return users;
}

}  // namespace usagedb::query
