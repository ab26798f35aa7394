// Building a part's bitmap indexes (value -> rows) from a column, for
// PartBuilder when it seals rows and for part files, which rebuild them on
// load instead of storing them (see lib/storage/part_format.md).
//
//   BitmapIndex features = build_bitmap_index(columns.feature);
//   features.at(code).for_each([&](uint32_t row) { ... });   // rows of `code`
//
// Thread-safety: a pure function, thread-safe.
#ifndef USAGEDB_TABLE_PART_INDEX_H_
#define USAGEDB_TABLE_PART_INDEX_H_

#include <cstdint>
#include <span>

#include "lib/table/part.h"

namespace usagedb {

// The sealed bitmap of each value of `column` to the rows holding it.
BitmapIndex build_bitmap_index(std::span<const uint32_t> column);

// Every index of a part with `columns`: users' row lists, features' and
// versions' bitmaps (what PartBuilder seals and a part file without stored
// indexes is read into).
PartIndexes build_part_indexes(const PartColumns& columns);

// The sealed bitmap of strictly ascending `rows`: what an index holds for
// one value (part files write a PostingIndex's lists as these).
Bitmap bitmap_of_rows(std::span<const uint32_t> rows);

}  // namespace usagedb

#endif  // USAGEDB_TABLE_PART_INDEX_H_
