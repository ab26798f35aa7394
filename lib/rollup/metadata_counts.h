// MetadataCounts: the section of a rollup that property_breakdown (SPEC
// 2.9) answers from: the rows grouped by their metadata string, each
// distinct string once, with the events and distinct users of each
// (string, feature) and of each string over all features.
//
// A property's value is a function of the metadata string alone, so a
// query reads each string once (a handful per month in real data), maps
// it to its value and adds up the groups: no row is read. Metadata that
// does not repeat (a request id in it, say) would make a group per row:
// past kMaxValues distinct strings the section is not built, and the
// queries read the parts (parsing each part's distinct strings once).
//
// Thread-safety: immutable once built.
#ifndef USAGEDB_ROLLUP_METADATA_COUNTS_H_
#define USAGEDB_ROLLUP_METADATA_COUNTS_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "lib/index/bitmap.h"
#include "lib/rollup/timeline_level.h"
#include "lib/table/part.h"

namespace usagedb {

// One group: the rows whose metadata is values[value] (of `feature`, in
// `cells`; of every feature, feature 0, in `totals`).
struct MetadataCell {
  uint32_t value = 0;
  uint32_t feature = 0;
  uint64_t events = 0;
  Bitmap users;
};

struct MetadataCounts {
  // More distinct metadata strings than this in a rollup's rows: no section.
  static constexpr uint32_t kMaxValues = 4096;

  std::vector<std::string> values;  // the distinct strings, in byte order
  std::vector<MetadataCell> cells;   // by (value, feature)
  std::vector<MetadataCell> totals;  // one per value, by value

  // The section of every row of `parts`; nullopt past kMaxValues strings.
  // `month` and `month_users`, when given, are the rollup's month timeline of
  // the same rows (partition_rollup.h) and their distinct users,
  // ascending: when every row has the same metadata string (an
  // application that records none), its cells are the month's cells and
  // its total those users, taken from them instead of sorting every row
  // again (the same section).
  static std::optional<MetadataCounts> build(std::span<const std::shared_ptr<const Part>> parts,
                                             const TimelineLevel* month = nullptr,
                                             std::span<const uint32_t> month_users = {});
  // The cells of `value`, by feature.
  std::span<const MetadataCell> cells_of(uint32_t value) const;
  size_t memory_bytes() const;
};

}  // namespace usagedb

#endif  // USAGEDB_ROLLUP_METADATA_COUNTS_H_
