// DayUserBits: one feature's users of each day of a partition as plain bit
// vectors (bit u of a day: user code u had an event of the feature that
// day), made from the rollup's day cells - the form the funnel's day caps
// (lib/query/funnel_bounds.h) combine with word operations.
//
// The day cells hold each (day, feature)'s users as sorted arrays; a funnel
// turned those of its steps into bits on every request (1.29M entries for
// the three most used features of 10M generated events over the year, a
// quarter of the funnel's time). A feature's bits are made once per rollup
// when a funnel first asks (PartitionRollup::day_user_bits) and kept: a
// month of 20k users is 31 x 2.5 KiB per feature, and only the features
// funnels ask about are made. A feature whose bits would take more than
// kMaxBitsPerEntry bytes per entry of its cells (few users a day among
// many: bits cost what the dictionary has, not what the cells hold) gets
// none (dense false): its cells are the cheaper form. Not persisted: a
// function of the day cells, so it covers exactly the parts its rollup
// covers.
//
//   const DayUserBits& b = rollup.day_user_bits(feature);
//   if (!b.dense) ... the day cells ...
//   for (uint32_t d = 0; d < b.days; ++d) { std::span<const uint64_t> users = b.day(d); ... }
//
// Thread-safety: immutable once made; share freely.
#ifndef USAGEDB_ROLLUP_DAY_USER_BITS_H_
#define USAGEDB_ROLLUP_DAY_USER_BITS_H_

#include <cstdint>
#include <span>
#include <vector>

#include "lib/rollup/timeline_level.h"

namespace usagedb {

struct DayUserBits {
  static constexpr size_t kMaxBitsPerEntry = 16;  // bytes of bits per entry of the cells: 4x their own

  bool dense = true;      // false: no bits (days 0); read the cells
  int64_t first_day = 0;  // Unix seconds of the first day with a cell
  uint32_t days = 0;      // first_day + d * 86400 for d < days
  uint32_t words = 0;     // per day: enough for the largest user code
  std::vector<uint64_t> bits;

  // The users of day d (first_day + d * 86400); words entries.
  std::span<const uint64_t> day(uint32_t d) const {
    return std::span<const uint64_t>(bits).subspan(size_t{d} * words, words);
  }
  size_t memory_bytes() const { return sizeof(*this) + bits.capacity() * sizeof(uint64_t); }

  // From the day cells `days` (Granularity::kDay: sorted by (bucket,
  // feature), each bucket a day start) of `feature`. Empty (days 0) when
  // the feature has no cell.
  static DayUserBits from_cells(const TimelineLevel& days, uint32_t feature);
};

}  // namespace usagedb

#endif  // USAGEDB_ROLLUP_DAY_USER_BITS_H_
