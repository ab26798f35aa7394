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
// The heavy users (those in kHeavyHours or more of the feature's cells)
// are kept apart, each with its own hours, and the cells hold the others:
// the funnel's walk reads a heavy user's hours only while the user's level
// is not known (on 100M generated events the heavy users own over half of
// the entries, and most of them are known on their first day; their
// entries read and dropped on every query were a third of the funnel's
// time).
//
//   const FeatureHours& h = rollup.feature_hours(feature);
//   for (size_t i = 0; i < h.cells(); ++i) use(h.hours[i], h.users_of(i), h.narrow_users_of(i));
//   for (size_t j = 0; j < h.heavy_users.size(); ++j) use(h.heavy_users[j], h.heavy_hours_of(j));
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
  // A user in at least this many of the feature's cells is heavy (on
  // 100M generated events, 64 made the funnel fastest of 16, 64 and 256;
  // at 10M it left the funnel as it was, where 16 slowed it).
  static constexpr uint32_t kHeavyHours = 64;

  std::vector<uint32_t> hours;  // per cell: its bucket / 3600, ascending
  std::vector<uint32_t> ends;   // per cell: where its users end in `users` or `narrow` (begin: the end before)
  // Each cell's users, ascending, one cell after the other: in `narrow`
  // when every code is below 2^16 (half the bytes a walk streams: the
  // funnel's bounds read every entry of the steps' cells, 62 MB a query at
  // 100M events in 32 bits), else in `users`; the other is empty.
  std::vector<uint32_t> users;
  std::vector<uint16_t> narrow;

  // The heavy users, ascending, and each one's hours (its cells' hours,
  // ascending, as offsets from heavy_base: a rollup's hours span a month)
  // in heavy_hours, ending at heavy_ends[j] (begin: the end before). They
  // are in no cell.
  std::vector<uint32_t> heavy_users;
  std::vector<uint32_t> heavy_ends;
  std::vector<uint16_t> heavy_hours;
  uint32_t heavy_base = 0;
  uint32_t heavy_last = 0;  // no offset in heavy_hours is larger

  size_t cells() const { return hours.size(); }
  std::span<const uint16_t> heavy_hours_of(size_t j) const {
    const uint32_t begin = j == 0 ? 0 : heavy_ends[j - 1];
    return std::span<const uint16_t>(heavy_hours).subspan(begin, heavy_ends[j] - begin);
  }
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
    return sizeof(*this) +
           (hours.capacity() + ends.capacity() + users.capacity() + heavy_users.capacity() + heavy_ends.capacity()) *
               sizeof(uint32_t) +
           (narrow.capacity() + heavy_hours.capacity()) * sizeof(uint16_t);
  }

  // From the hour cells `hours` (Granularity::kHour), those of one feature
  // given as indexes into hours.cells ascending by bucket
  // (PartitionRollup::hour_cells_of). A user in `heavy` or more of them is
  // heavy (none when the cells span more hours than 16 bits count). Cells
  // without users (or only heavy ones) are left out.
  static FeatureHours from_cells(const TimelineLevel& hours, std::span<const uint32_t> cells,
                                 uint32_t heavy = kHeavyHours);
};

}  // namespace usagedb

#endif  // USAGEDB_ROLLUP_FEATURE_HOURS_H_
