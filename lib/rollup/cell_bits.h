// CellBits: the users of some cells of a TimelineLevel as plain bit vectors
// (bit u of a cell: user code u is one of its users), for the cells whose
// users a query unites with another source's: the week cells of a version
// timeline that a month boundary cuts (a week of version_adoption that
// spans two months is two such cells, one in each month's rollup).
//
// The cells keep their users as sorted arrays; counting the distinct users
// of two of them walks every code (DistinctGroups::count_users): at 100M
// generated events the weeks across month boundaries were 1.3M codes, 85%
// of a year's weekly version_adoption. Two cells' bits are united and
// counted a word at a time (20k users: 313 words). Made once per rollup
// when a query first asks (PartitionRollup::version_week_edges) and kept
// until the version timeline is dropped; a cell whose bits (up to its
// largest user code) would take more than kMaxBitsPerEntry bytes per user
// it holds (few users among many codes) gets none: its array is the
// cheaper form. Not persisted: a
// function of the cells.
//
//   const CellBits& b = rollup.version_week_edges().versions;
//   std::span<const uint64_t> users = b.of(cell_index);  // empty: no bits
//
// Thread-safety: immutable once made; share freely.
#ifndef USAGEDB_ROLLUP_CELL_BITS_H_
#define USAGEDB_ROLLUP_CELL_BITS_H_

#include <cstdint>
#include <span>
#include <vector>

#include "lib/rollup/timeline_level.h"

namespace usagedb {

struct CellBits {
  static constexpr size_t kMaxBitsPerEntry = 16;  // bytes of bits per user of the cell: 4x its array

  std::vector<uint32_t> cells;   // indexes into the level's cells, ascending
  std::vector<size_t> starts{0};  // cells[k]'s bits: bits[starts[k], starts[k + 1])
  std::vector<uint64_t> bits;    // each cell's up to its largest user code

  // The bits of cell `index` of the level, or empty when it has none.
  std::span<const uint64_t> of(uint32_t index) const;
  size_t memory_bytes() const {
    return sizeof(*this) + cells.capacity() * sizeof(uint32_t) + starts.capacity() * sizeof(size_t) +
           bits.capacity() * sizeof(uint64_t);
  }

  // The bits of the cells of `level` whose bucket is before `begin` or
  // whose bucket + `length` seconds is after `end`: the cells of periods a
  // boundary at `begin` or `end` cuts.
  static CellBits cut_cells(const TimelineLevel& level, int64_t begin, int64_t end, int64_t length);
};

// The version timeline's week cells that the month's start or end cuts,
// of its versions and of its active users.
struct VersionWeekEdges {
  CellBits versions;
  CellBits active;
  size_t memory_bytes() const { return versions.memory_bytes() + active.memory_bytes(); }
};

}  // namespace usagedb

#endif  // USAGEDB_ROLLUP_CELL_BITS_H_
