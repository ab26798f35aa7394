// cover_local(): how the rows of one month inside a time window split into
// rollup cells that each lie whole inside one local bucket (SPEC 2.11), and
// the rows that no such cell holds.
//
// A rollup's timeline cells are UTC hours, days, Monday weeks (cut at the
// month's ends) and the month. A local bucket of a zone whose offsets are
// whole hours is a run of whole UTC hours, so its cells are hour cells,
// day cells for the UTC days inside it, and so on: nothing is read row by
// row. Where the offset is not a whole hour (Asia/Kolkata, +5:30), the UTC
// hour that a local boundary cuts is read from the rows, and every other
// hour still comes from a cell. In UTC the segments are the buckets' own
// cells.
//
//   for (const CoverSegment& s : cover_local(partition.month(), window, zone, Granularity::kDay)) {
//     if (s.source == CoverSource::kRows) { scan the rolled-up parts within [s.begin, s.end) }
//     else { read level(s.source).cells_between(cell_start(s.source, s.begin), s.end) }
//   }
//
// Thread-safety: pure functions.
#ifndef USAGEDB_QUERY_LOCAL_COVER_H_
#define USAGEDB_QUERY_LOCAL_COVER_H_

#include <cstdint>
#include <vector>

#include "lib/query/query_common.h"
#include "lib/util/time_zone.h"
#include "usagedb/queries.h"

namespace usagedb::query {

// Where a segment's rows are read from: the rollup's cells of a
// granularity, or the rows themselves.
enum class CoverSource { kHourCells, kDayCells, kWeekCells, kMonthCells, kRows };

struct CoverSegment {
  CoverSource source;
  int64_t begin;  // [begin, end): UTC instants
  int64_t end;
};

// The granularity of a cell source's level. REQUIRES: not kRows.
Granularity cell_granularity(CoverSource source);

// The bucket of the first cell of `source` that holds rows at or after
// `begin` (its start: a week cell's Monday may precede the month).
int64_t cell_start(CoverSource source, int64_t begin);

// The segments of month `yyyymm` within `window`, in time order, adjacent
// ones of the same source merged: every cell of a cell segment (those of
// the level whose rows lie in [begin, end)) holds instants of one bucket
// of `g` in `zone` only, and together the segments are exactly the month's
// part of the window.
std::vector<CoverSegment> cover_local(uint32_t yyyymm, const TimeWindow& window, const TimeZone& zone,
                                      Granularity g);

}  // namespace usagedb::query

#endif  // USAGEDB_QUERY_LOCAL_COVER_H_
