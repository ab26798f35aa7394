// DistinctGroups: events and distinct users of result groups that are fed
// by rollup cells (a count and a sorted list of user codes each) and by
// scanned rows (one user each), several sources per group: a local day of
// a time zone is 24 hour cells, a week that spans two months two week
// cells, an edge of the window a few rows.
//
// The users are kept as the cells' own lists and counted once, at the
// end, group by group, with the number of the group that last saw each
// code: no bitmap per group, no union per source. A cell may come with its
// users as a bit vector as well (cell_bits.h): a group fed by several
// sources, some with bits, is counted by uniting the bits a word at a time
// (and setting the bits of the others' codes), not code by code.
//
//   DistinctGroups groups;
//   const uint32_t g = groups.group(key);
//   groups.add_cell(g, cell.events, level.users(cell));
//   groups.add_row(groups.group(other_key), row_user);
//   const std::vector<uint64_t> users = groups.count_users();  // by group number
//
// Thread-safety: one query's; not thread-safe.
#ifndef USAGEDB_QUERY_DISTINCT_GROUPS_H_
#define USAGEDB_QUERY_DISTINCT_GROUPS_H_

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace usagedb::query {

class DistinctGroups {
 public:
  // The number of the group `key` (numbered in the order first asked for).
  uint32_t group(uint64_t key) {
    auto [it, inserted] = numbers_.try_emplace(key, static_cast<uint32_t>(keys_.size()));
    if (inserted) {
      keys_.push_back(key);
      events_.push_back(0);
    }
    return it->second;
  }
  size_t size() const { return keys_.size(); }
  uint64_t key(uint32_t g) const { return keys_[g]; }
  uint64_t events(uint32_t g) const { return events_[g]; }

  // `users` (and `bits`: the same users as a bit vector, or empty) must
  // outlive count_users() (a rollup's cells do).
  void add_cell(uint32_t g, uint64_t events, std::span<const uint32_t> users, std::span<const uint64_t> bits = {}) {
    events_[g] += events;
    cells_.push_back(Cell{g, users, bits});
  }
  void add_row(uint32_t g, uint32_t user) {
    ++events_[g];
    rows_.emplace_back(g, user);
  }
  // Users that count toward a group without events (the active users of a
  // period, whose events are counted elsewhere).
  void add_users(uint32_t g, std::span<const uint32_t> users, std::span<const uint64_t> bits = {}) {
    cells_.push_back(Cell{g, users, bits});
  }
  void add_user(uint32_t g, uint32_t user) { rows_.emplace_back(g, user); }

  // The distinct users of each group, by group number.
  std::vector<uint64_t> count_users() const;

 private:
  absl::flat_hash_map<uint64_t, uint32_t> numbers_;
  std::vector<uint64_t> keys_;
  std::vector<uint64_t> events_;
  struct Cell {
    uint32_t group;
    std::span<const uint32_t> users;  // ascending
    std::span<const uint64_t> bits;   // the same users, or empty
  };
  std::vector<Cell> cells_;
  std::vector<std::pair<uint32_t, uint32_t>> rows_;
};

}  // namespace usagedb::query

#endif  // USAGEDB_QUERY_DISTINCT_GROUPS_H_
