// RollupCover: how the part of a time window inside one month splits into
// what the month's rollup answers from its cells and what its rows must
// answer.
//
// A rollup holds whole hours, days, weeks and the whole month (per feature,
// lib/rollup/partition_rollup.h). A window [begin, end) cut anywhere within
// the month becomes, in time order:
//
//   rows [begin, h0)  hours [h0, d0)  days [d0, d1)  hours [d1, h1)  rows [h1, end)
//
// where h0/h1 are the first and last whole hours inside it and d0/d1 the
// whole days: at most two short edges of rows (less than an hour each), the
// whole hours at the ends of the partial days, and the whole days. Any part
// may be empty.
//
//   const RollupCover cover = cover_month(partition.month(), window);
//   if (cover.whole_month) { ... the month's cells ... }
//   for (const TimeWindow& w : cover.rows) scan the rolled-up parts in w;
//
// Thread-safety: plain values and pure functions.
#ifndef USAGEDB_QUERY_ROLLUP_COVER_H_
#define USAGEDB_QUERY_ROLLUP_COVER_H_

#include <cstdint>

#include "lib/query/query_common.h"

namespace usagedb::query {

struct RollupCover {
  TimeWindow month;      // the window within the month (empty: none of it)
  bool whole_month = false;
  TimeWindow rows[2];    // partial hours at the start and at the end
  TimeWindow hours[2];   // whole hours outside whole days
  TimeWindow days;       // whole days
};

// The cover of `window` within month `yyyymm`.
RollupCover cover_month(uint32_t yyyymm, const TimeWindow& window);

}  // namespace usagedb::query

#endif  // USAGEDB_QUERY_ROLLUP_COVER_H_
