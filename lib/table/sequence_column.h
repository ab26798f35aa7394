// SequenceColumn: the arrival sequence number of each row of a part
// (docs/STORAGE.md, "The arrival sequence"), in the part's row order,
// bit-packed in blocks of 1024 rows: each block keeps its smallest value
// and every value minus it in the fewest bits that hold the block's span.
//
// A part sorted by time holds rows that mostly arrived in time order, so a
// block's values lie within a few thousand of each other: 10-14 bits a row
// instead of 64 (a part of events ingested in random order: ~24 bits). Each
// block also keeps its largest value, so a reader looking for the rows that
// arrived after some number skips the blocks (and parts) that hold none.
//
//   SequenceColumn seq = SequenceColumn::pack(values);     // values[i]: row i's number
//   uint64_t s = seq.at(17);
//   seq.for_each_in(after, through, [&](uint32_t row, uint64_t s) { ... });
//
// The packed blocks are also the part file's `sequence` section
// (lib/storage/part_format.md): encode() writes them, decode() reads them
// back and checks them.
//
// Thread-safety: immutable once built; safe to share between threads.
#ifndef USAGEDB_TABLE_SEQUENCE_COLUMN_H_
#define USAGEDB_TABLE_SEQUENCE_COLUMN_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace usagedb {

class SequenceColumn {
 public:
  static constexpr uint32_t kBlockRows = 1024;

  SequenceColumn() = default;

  // The column of `values` (row i's number is values[i]).
  static SequenceColumn pack(std::span<const uint64_t> values);

  size_t size() const { return size_; }
  // The smallest and largest value. REQUIRES: size() > 0.
  uint64_t min() const { return min_; }
  uint64_t max() const { return max_; }

  // Row `row`'s value. REQUIRES: row < size().
  uint64_t at(size_t row) const;
  // Every value, in row order, into `out` (resized to size()).
  void unpack(std::vector<uint64_t>* out) const;
  // The smallest value in (after, through], if any; decodes only the blocks
  // that hold both values in the range and values outside it.
  std::optional<uint64_t> smallest_in(uint64_t after, uint64_t through) const;
  // Calls f(row, value) for every row whose value is in (after, through],
  // in row order, skipping the blocks that hold none.
  template <typename F>
  void for_each_in(uint64_t after, uint64_t through, F&& f) const {
    if (size_ == 0 || max_ <= after || min_ > through || after >= through) return;
    uint64_t values[kBlockRows];
    for (size_t b = 0; b < blocks_.size(); ++b) {
      const Block& block = blocks_[b];
      if (block.max <= after || block.min > through) continue;
      const uint32_t n = block_rows(b);
      unpack_block(b, values);
      const uint32_t first = static_cast<uint32_t>(b * kBlockRows);
      for (uint32_t i = 0; i < n; ++i) {
        if (values[i] > after && values[i] <= through) f(first + i, values[i]);
      }
    }
  }

  // Heap bytes held.
  size_t memory_bytes() const { return blocks_.capacity() * sizeof(Block) + words_.capacity() * sizeof(uint64_t); }

  // ---- The part file's `sequence` section ----
  // Appends the blocks: per block, varint min, one byte width (0..64), then
  // the values minus min, `width` bits each, LSB-first (bit k of the block's
  // bit stream is bit k%8 of its byte k/8), the last byte padded with zeros.
  void encode(std::string* out) const;
  // Reads `rows` values encoded by encode() from the front of `*in`,
  // advancing it. InvalidArgumentError saying what is wrong (the caller
  // names the file) for bytes that are not such an encoding: truncated, a
  // width over 64, a value past 2^64 - 1, padding bits that are not zero.
  static absl::StatusOr<SequenceColumn> decode(std::string_view* in, size_t rows);

  friend bool operator==(const SequenceColumn& a, const SequenceColumn& b);

 private:
  struct Block {
    uint64_t min = 0;
    uint64_t max = 0;
    uint32_t first_word = 0;  // into words_
    uint8_t width = 0;
  };

  uint32_t block_rows(size_t b) const {
    const size_t begin = b * kBlockRows;
    return static_cast<uint32_t>(size_ - begin < kBlockRows ? size_ - begin : kBlockRows);
  }
  void unpack_block(size_t b, uint64_t* out) const;
  // Appends a block of `values` (1..kBlockRows of them).
  void add_block(std::span<const uint64_t> values);

  size_t size_ = 0;
  uint64_t min_ = 0;
  uint64_t max_ = 0;
  std::vector<Block> blocks_;
  std::vector<uint64_t> words_;  // each block's packed bits, from a word boundary
};

}  // namespace usagedb

#endif  // USAGEDB_TABLE_SEQUENCE_COLUMN_H_
