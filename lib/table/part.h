// Part: an immutable chunk of one partition's rows, sorted by (timestamp,
// feature_id, product_version) and stored column by column, with indexes
// from each user, feature and version to its row positions (ClickHouse
// MergeTree's "data part"). The user index lists each user's
// rows in one flat array (PostingIndex: thousands of users with a few rows
// each per part); features and versions, few values with many rows each
// that queries intersect, have roaring bitmaps.
//
// Low-cardinality string columns hold store-wide dictionary codes; event_id
// is a StringColumn; metadata is dictionary-encoded within the part (its
// values repeat a lot and are never filtered on).
//
// Built by PartBuilder; read by queries through spans and index lookups:
//   for (uint32_t row : part.user_rows(user_code)) { ... }
//   if (const Bitmap* rows = part.feature_rows(feature_code)) rows->for_each(...);
//   RowRange r = part.time_range(begin, end);   // binary search
//
// Thread-safety: immutable after construction, safe to share between threads.
#ifndef USAGEDB_TABLE_PART_H_
#define USAGEDB_TABLE_PART_H_

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "lib/index/bitmap.h"
#include "lib/index/posting_index.h"
#include "lib/table/sequence_column.h"
#include "lib/table/string_column.h"

namespace usagedb {

// Rows [begin, end) of a part.
struct RowRange {
  uint32_t begin = 0;
  uint32_t end = 0;
  uint32_t size() const { return end - begin; }
  bool empty() const { return begin >= end; }
};

// The columns of a part, in row order.
struct PartColumns {
  std::vector<uint32_t> timestamp;   // ascending Unix seconds
  std::vector<uint32_t> feature;     // DictionaryColumn::kFeature codes
  std::vector<uint32_t> version;     // DictionaryColumn::kVersion codes
  std::vector<uint32_t> user;        // DictionaryColumn::kUser codes
  std::vector<uint32_t> event_type;  // DictionaryColumn::kEventType codes
  std::vector<uint32_t> session;     // DictionaryColumn::kSession codes
  std::vector<uint32_t> metadata;    // index into metadata_values
  StringColumn metadata_values;      // the part's distinct metadata strings
  StringColumn event_id;
  SequenceColumn sequence;           // each row's arrival sequence number
};

// Value -> rows bitmaps of one column.
using BitmapIndex = absl::flat_hash_map<uint32_t, Bitmap>;

struct PartIndexes {
  PostingIndex user;
  BitmapIndex feature;
  BitmapIndex version;
};

class Part {
 public:
  // REQUIRES: columns sorted by the sorting key, all of equal length >= 1,
  // indexes built from them, every timestamp in month `month` (yyyymm).
  Part(uint64_t id, uint32_t month, PartColumns columns, PartIndexes indexes);
  Part(const Part&) = delete;
  Part& operator=(const Part&) = delete;

  uint64_t id() const { return id_; }
  uint32_t month() const { return month_; }
  uint32_t rows() const { return static_cast<uint32_t>(columns_.timestamp.size()); }
  uint32_t min_timestamp() const { return columns_.timestamp.front(); }
  uint32_t max_timestamp() const { return columns_.timestamp.back(); }
  const PartColumns& columns() const { return columns_; }
  const PartIndexes& indexes() const { return indexes_; }

  // Rows whose timestamp is in [begin, end) seconds (binary search).
  RowRange time_range(int64_t begin, int64_t end) const;

  // Rows of one user, ascending; empty when the part has none.
  std::span<const uint32_t> user_rows(uint32_t code) const { return indexes_.user.rows(code); }
  // Rows of one feature / version; nullptr when the part has none.
  const Bitmap* feature_rows(uint32_t code) const { return find(indexes_.feature, code); }
  const Bitmap* version_rows(uint32_t code) const { return find(indexes_.version, code); }

  std::string_view metadata(uint32_t row) const { return columns_.metadata_values.at(columns_.metadata[row]); }
  std::string_view event_id(uint32_t row) const { return columns_.event_id.at(row); }
  uint64_t sequence(uint32_t row) const { return columns_.sequence.at(row); }

  // Heap bytes held by columns and indexes.
  size_t memory_bytes() const;

 private:
  static const Bitmap* find(const BitmapIndex& index, uint32_t code) {
    auto it = index.find(code);
    return it == index.end() ? nullptr : &it->second;
  }

  const uint64_t id_;
  const uint32_t month_;
  const PartColumns columns_;
  const PartIndexes indexes_;
};

}  // namespace usagedb

#endif  // USAGEDB_TABLE_PART_H_
