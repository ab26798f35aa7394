// scan(): visits every stored row of a Snapshot that passes the filters of
// feature_usage_summary and feature_usage_timeline (SPEC 2.2/2.3).
//
// Pruning, cheapest first: partitions outside the time window are skipped;
// within a part the window becomes a row range by binary search on the sorted
// timestamps; feature/version filters become a bitmap intersection restricted
// to that range; event_type is checked per candidate row. Unsealed buffer
// rows are checked one by one. The endpoints answer what they can from
// rollups (lib/rollup) first and scan only the rest.
#ifndef USAGEDB_QUERY_SCAN_H_
#define USAGEDB_QUERY_SCAN_H_

#include "lib/query/query_common.h"
#include "lib/query/snapshot.h"

namespace usagedb::query {

struct ScanFilters {
  CodeFilter feature;
  CodeFilter version;
  CodeFilter event_type;
  TimeWindow window;

  bool matches_nothing() const {
    return feature.matches_nothing || version.matches_nothing || event_type.matches_nothing || window.empty();
  }
  bool accepts(const RowCodes& r) const {
    return feature.accepts(r.feature) && version.accepts(r.version) && event_type.accepts(r.event_type) &&
           window.contains(r.timestamp);
  }
};

// Whether a scan of `part` with `f` can visit a row, and then holds it
// while the HeldPart lives (false for a damaged file: Snapshot::hold). Call
// before scan_part*(), keeping the result in a variable for as long as the
// part is read:
//   if (const HeldPart held = readable(snapshot, *part, f)) scan_part(*part, f, stats, visit);
inline HeldPart readable(const Snapshot& snapshot, const Part& part, const ScanFilters& f) {
  if (f.matches_nothing() || !f.window.overlaps(part)) return HeldPart();
  return snapshot.hold(part);
}

// Visits every part.
struct AllParts {
  bool operator()(const PartitionView&, const Part&) const { return false; }
};

// Calls visit(row) with the number of each row of `part` that passes the
// filters, ascending; counts the rows it examines in `stats`.
template <typename Visit>
void scan_part_rows(const Part& part, const ScanFilters& f, Stats& stats, Visit&& visit) {
  if (f.matches_nothing()) return;
  constexpr uint64_t kBytesPerRow = sizeof(RowCodes);
  const RowRange range = f.window.rows_of(part);
  if (range.empty()) return;
  const PartColumns& c = part.columns();
  auto visit_row = [&](uint32_t row) {
    if (f.event_type.accepts(c.event_type[row])) visit(row);
  };
  if (f.feature.active || f.version.active) {
    const Bitmap* feature_rows = f.feature.active ? part.feature_rows(f.feature.code) : nullptr;
    const Bitmap* version_rows = f.version.active ? part.version_rows(f.version.code) : nullptr;
    if ((f.feature.active && feature_rows == nullptr) || (f.version.active && version_rows == nullptr)) return;
    const Bitmap& smaller = feature_rows != nullptr ? *feature_rows : *version_rows;
    if (range.size() <= smaller.cardinality()) {
      // A short range (an hour that a local midnight cuts, say): checking
      // its rows' codes costs less than copying and intersecting bitmaps.
      stats.read_rows(range.size(), kBytesPerRow);
      for (uint32_t row = range.begin; row < range.end; ++row) {
        if (f.feature.accepts(c.feature[row]) && f.version.accepts(c.version[row])) visit_row(row);
      }
      return;
    }
    Bitmap rows = feature_rows != nullptr ? feature_rows->copy() : version_rows->copy();
    if (feature_rows != nullptr && version_rows != nullptr) rows.intersect_with(*version_rows);
    if (range.size() != part.rows()) rows.intersect_with(Bitmap::from_range(range.begin, range.end));
    stats.read_rows(rows.cardinality(), kBytesPerRow);
    rows.for_each(visit_row);
  } else {
    stats.read_rows(range.size(), kBytesPerRow);
    for (uint32_t row = range.begin; row < range.end; ++row) visit_row(row);
  }
}

// The row of a part as RowCodes.
inline RowCodes row_codes(const PartColumns& c, uint32_t row) {
  return RowCodes{c.timestamp[row], c.feature[row], c.version[row], c.user[row], c.event_type[row], c.session[row]};
}

// Calls visit(const RowCodes&) for each row of `part` that passes `f`, in
// row order (ascending timestamp). `f.window` must be the only time bound:
// rows outside it are not visited.
template <typename Visit>
void scan_part(const Part& part, const ScanFilters& f, Stats& stats, Visit&& visit) {
  const PartColumns& c = part.columns();
  scan_part_rows(part, f, stats, [&](uint32_t row) { visit(row_codes(c, row)); });
}

// Calls visit(i) for each row i of `b` that passes the filters; counts the
// rows in `stats`.
template <typename Visit>
void scan_buffer(const BufferView& b, const ScanFilters& f, Stats& stats, Visit&& visit) {
  for (uint32_t i = 0; i < b.rows; ++i) {
    if (f.accepts(b.buffer->row(i))) visit(i);
  }
  stats.read_rows(b.rows, sizeof(RowCodes));
}

// Calls visit(const RowCodes&) for each unsealed row of `partition` that
// passes `f`, in no particular order.
template <typename Visit>
void scan_buffered(const PartitionView& partition, const ScanFilters& f, Stats& stats, Visit&& visit) {
  if (f.matches_nothing()) return;
  partition.for_each_buffered([&](std::span<const RowCodes> chunk) {
    for (const RowCodes& r : chunk) {
      if (f.accepts(r)) visit(r);
    }
  });
  stats.read_rows(partition.buffered_rows(), sizeof(RowCodes));
}

// Calls visit(const RowCodes&) for each matching row, in no particular order,
// except the rows of parts for which skip(partition, part) is true (those a
// rollup answers for). A part whose file is damaged is skipped, its error
// noted in snapshot.status() (Snapshot::pin).
template <typename Visit, typename Skip = AllParts>
void scan(const Snapshot& snapshot, const ScanFilters& f, Stats& stats, Visit&& visit, Skip&& skip = Skip()) {
  if (f.matches_nothing()) return;
  for (const PartitionView& partition : snapshot.partitions()) {
    if (!f.window.overlaps_month(partition.month())) continue;
    for (const auto& part : partition.parts()) {
      if (skip(partition, *part)) continue;
      if (const HeldPart held = readable(snapshot, *part, f)) scan_part(*part, f, stats, visit);
    }
    scan_buffered(partition, f, stats, visit);
  }
}

}  // namespace usagedb::query

#endif  // USAGEDB_QUERY_SCAN_H_
