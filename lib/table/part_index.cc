#include "lib/table/part_index.h"

#include <utility>

namespace usagedb {

Bitmap bitmap_of_rows(std::span<const uint32_t> rows) {
  Bitmap b = Bitmap::from_strictly_ascending(rows);
  b.seal();
  return b;
}

BitmapIndex build_bitmap_index(std::span<const uint32_t> column) {
  // The rows grouped by value (PostingIndex's counting sort), then one
  // bitmap per group.
  const PostingIndex lists = PostingIndex::build(column);
  BitmapIndex index;
  index.reserve(lists.size());
  lists.for_each([&](uint32_t code, std::span<const uint32_t> rows) { index.emplace(code, bitmap_of_rows(rows)); });
  return index;
}

PartIndexes build_part_indexes(const PartColumns& columns) {
  PartIndexes indexes;
  indexes.user = PostingIndex::build(columns.user);
  indexes.feature = build_bitmap_index(columns.feature);
  indexes.version = build_bitmap_index(columns.version);
  return indexes;
}

}  // namespace usagedb
