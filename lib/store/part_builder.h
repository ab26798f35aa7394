// PartBuilder: collects rows in any order and turns them into an immutable
// Part: sorted by (timestamp, feature_id, product_version) with byte-wise
// string order, columns laid out, metadata dictionary-encoded, and the user,
// feature and version bitmap indexes built and sealed.
//
//   PartBuilder b(rows_expected);
//   b.add(codes, event_id, metadata);   // copies the strings
//   std::shared_ptr<const Part> part = std::move(b).finish(id, month, features, versions);
//
// Thread-safety: not thread-safe; one builder per thread. finish() reads the
// dictionaries with lookup(), which is safe concurrently with writers.
#ifndef USAGEDB_STORE_PART_BUILDER_H_
#define USAGEDB_STORE_PART_BUILDER_H_

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "lib/store/dictionary.h"
#include "lib/store/part.h"
#include "lib/store/row.h"
#include "lib/store/string_column.h"

namespace usagedb {

class PartBuilder {
 public:
  explicit PartBuilder(size_t expected_rows = 0);

  void add(const RowCodes& row, std::string_view event_id, std::string_view metadata);
  // Adds every row of `part` (used by merges).
  void add_part(const Part& part);
  size_t rows() const { return rows_.size(); }

  // REQUIRES: rows() >= 1; every row's timestamp in month `month`.
  std::shared_ptr<const Part> finish(uint64_t id, uint32_t month, const Dictionary& features,
                                     const Dictionary& versions) &&;

 private:
  std::vector<RowCodes> rows_;
  StringColumn::Builder event_ids_;
  StringColumn::Builder metadata_;
};

}  // namespace usagedb

#endif  // USAGEDB_STORE_PART_BUILDER_H_
