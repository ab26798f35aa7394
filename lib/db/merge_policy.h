// The merge policy: which parts of one partition to merge next, MergeTree
// style, so a partition keeps O(log n) parts while writes keep sealing small
// ones.
//
// Parts are grouped in tiers by size: tier k holds parts of at least
// base_rows * fan_in^k rows (and fewer than the next tier). When a tier holds
// `fan_in` parts, its `fan_in` smallest are merged into one part of the next
// tier, so every row is rewritten about log_fan_in(n / base_rows) times.
//
// Thread-safety: pure function.
#ifndef USAGEDB_DB_MERGE_POLICY_H_
#define USAGEDB_DB_MERGE_POLICY_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace usagedb {

inline constexpr size_t kMergeFanIn = 4;

// Indexes into `part_rows` of the parts to merge, or empty when no tier is
// full. REQUIRES: base_rows >= 1.
std::vector<size_t> pick_merge(std::span<const uint32_t> part_rows, size_t base_rows, size_t fan_in = kMergeFanIn);

}  // namespace usagedb

#endif  // USAGEDB_DB_MERGE_POLICY_H_
