// FeatureHours: one feature's hour cells of a partition in one place (their
// hours, and their users one cell after the other), the form the funnel's
// hour walks (lib/query/funnel_bounds.h) read.
//
// The hour timeline keeps every feature's cells in (hour, feature) order, so
// one feature's users lie in short runs (~90 codes a cell at 10M events)
// between the other features': a walk of three features' cells over a year
// waited on those scattered lines and their pages (half of the funnel's time
// at 10M events went to the loads of the cells' users and the prefetches of
// them). A feature's copy is made once per rollup when a funnel first asks
// (PartitionRollup::feature_hours) and kept until the hour section is
// dropped: 2 bytes per entry of the feature's cells (4 when a user code
// reaches 2^16; a month of the most used feature of 10M events: ~64k
// entries, 128 KiB), and only the features funnels ask about are made. Not
// persisted: a function of the hour cells, so it covers exactly the parts
// its rollup covers.
//
//   const FeatureHours& h = rollup.feature_hours(feature);
//   for (size_t i = 0; i < h.cells(); ++i) use(h.hours[i], h.users_of(i), h.narrow_users_of(i));
//
// Thread-safety: immutable once made; share freely.
#ifndef USAGEDB_ROLLUP_FEATURE_HOURS_H_
#define USAGEDB_ROLLUP_FEATURE_HOURS_H_

#include <cstdint>
#include <span>
#include <vector>

#include "lib/rollup/timeline_level.h"

namespace usagedb {

struct FeatureHours {
  std::vector<uint32_t> hours;  // per cell: its bucket / 3600, ascending
  std::vector<uint32_t> ends;   // per cell: where its users end in `users` or `narrow` (begin: the end before)
  // Each cell's users, ascending, one cell after the other: in `narrow`
  // when every code is below 2^16 (half the bytes a walk streams: the
  // funnel's bounds read every entry of the steps' cells, 62 MB a query at
  // 100M events in 32 bits), else in `users`; the other is empty.
  std::vector<uint32_t> users;
  std::vector<uint16_t> narrow;

  size_t cells() const { return hours.size(); }
  // Cell i's users: one of the two spans, the other empty.
  std::span<const uint32_t> users_of(size_t i) const {
    const uint32_t begin = i == 0 ? 0 : ends[i - 1];
    return users.empty() ? std::span<const uint32_t>() : std::span<const uint32_t>(users).subspan(begin, ends[i] - begin);
  }
  std::span<const uint16_t> narrow_users_of(size_t i) const {
    const uint32_t begin = i == 0 ? 0 : ends[i - 1];
    return narrow.empty() ? std::span<const uint16_t>() : std::span<const uint16_t>(narrow).subspan(begin, ends[i] - begin);
  }
  // The cells whose hour is in [first, last), as [begin, end) indexes.
  std::pair<size_t, size_t> cells_between(uint32_t first, uint32_t last) const;
  size_t memory_bytes() const {
    return sizeof(*this) + (hours.capacity() + ends.capacity() + users.capacity()) * sizeof(uint32_t) +
           narrow.capacity() * sizeof(uint16_t);
  }

  // From the hour cells `hours` (Granularity::kHour), those of one feature
  // given as indexes into hours.cells ascending by bucket
  // (PartitionRollup::hour_cells_of). Cells without users are left out.
  static FeatureHours from_cells(const TimelineLevel& hours, std::span<const uint32_t> cells);
};

}  // namespace usagedb

#endif  // USAGEDB_ROLLUP_FEATURE_HOURS_H_
