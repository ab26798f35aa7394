// PartBuilder: collects rows in any order and turns them into an immutable
// Part: sorted by (timestamp, feature_id, product_version) with byte-wise
// string order, columns laid out, metadata dictionary-encoded, and the user,
// feature and version bitmap indexes built and sealed.
//
//   PartBuilder b(rows_expected);
//   b.add(codes, sequence, event_id, metadata);   // copies the strings
//   b.add_part(*old_part);              // borrows them: old_part must outlive finish()
//   std::shared_ptr<const Part> part = std::move(b).finish(id, month, features, versions);
//
// Borrowing (add_part, add_buffer) keeps a seal or merge from copying every
// event_id and metadata string twice (into the builder, then into the
// part): finish() reads them where they are, and maps a borrowed part's
// metadata codes instead of hashing its strings row by row.
//
// Thread-safety: not thread-safe; one builder per thread. finish() reads the
// dictionaries with lookup(), which is safe concurrently with writers.
#ifndef USAGEDB_TABLE_PART_BUILDER_H_
#define USAGEDB_TABLE_PART_BUILDER_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "lib/table/append_buffer.h"
#include "lib/table/dictionary.h"
#include "lib/table/part.h"
#include "lib/table/row.h"
#include "lib/table/sequence_column.h"
#include "lib/table/string_column.h"

namespace usagedb {

class PartBuilder {
 public:
  explicit PartBuilder(size_t expected_rows = 0);

  // `sequence`: the row's arrival sequence number (lib/table/sequence_column.h).
  void add(const RowCodes& row, uint64_t sequence, std::string_view event_id, std::string_view metadata);
  // Adds every row of `part` (merges) / the first `rows` rows of `buffer`
  // (seals), with their sequence numbers, borrowing their strings. REQUIRES: `part` / `buffer` lives,
  // unchanged in those rows, until finish() returns.
  void add_part(const Part& part);
  void add_buffer(const AppendBuffer& buffer, uint32_t rows);
  size_t rows() const { return rows_.size(); }

  // REQUIRES: rows() >= 1; every row's timestamp in month `month`.
  std::shared_ptr<const Part> finish(uint64_t id, uint32_t month, const Dictionary& features,
                                     const Dictionary& versions) &&;

  // The part a builder given each of `parts` (add_part, in this order) would
  // finish, made by merging their sorted rows instead of sorting them: it
  // holds the merged columns and no per-row state of the inputs (a builder
  // holds their codes, sequence numbers, strings and sort keys: about twice
  // the merged part while it sorts a month of 8M rows). REQUIRES: at least
  // one part, each of month `month`, its columns readable (pinned if lazy).
  static std::shared_ptr<const Part> merge(std::span<const Part* const> parts, uint64_t id, uint32_t month,
                                           const Dictionary& features, const Dictionary& versions);

 private:
  // Consecutive rows of rows_ whose strings come from one place: add()'s
  // own copies (part and buffer null), a borrowed part or a borrowed buffer.
  struct Segment {
    const Part* part = nullptr;
    const AppendBuffer* buffer = nullptr;
    size_t first = 0;  // first row in the source (in event_ids_ for add()'s rows)
    size_t rows = 0;
  };

  size_t expected_rows_;  // add()'s string columns are reserved on its first call
  std::vector<RowCodes> rows_;
  std::vector<uint64_t> sequences_;  // each row's, as rows_
  std::vector<Segment> segments_;  // covering rows_ in order
  StringColumn::Builder event_ids_;  // add()'s strings
  StringColumn::Builder metadata_;
};

}  // namespace usagedb

#endif  // USAGEDB_TABLE_PART_BUILDER_H_
