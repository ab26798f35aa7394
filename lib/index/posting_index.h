// PostingIndex: the rows of each value of a column, as one flat array of row
// numbers grouped by value (an inverted index's posting lists in compressed
// sparse row form: Lucene's postings, a CSR matrix).
//
// A part's user index. A part holds thousands of users with a few rows each,
// and a roaring bitmap per user cost ~250 bytes of small allocations (the
// bitmap, its key, type and container arrays, the container) plus its hash
// table slot: 16-41 bytes per row of a part, the largest item of a 10M-event
// ingest's memory. Here a row costs 4 bytes plus 4 bytes per value of the
// column's code range, and a look-up is two array reads.
//
//   PostingIndex users = PostingIndex::build(columns.user);
//   for (uint32_t row : users.rows(code)) { ... }   // ascending
//
// Two layouts, chosen when built: dense (the usual case: dictionary codes
// are assigned densely) keeps an offset for every code in [lo, hi]; sparse
// keeps the sorted distinct codes and their offsets, and a look-up is a
// binary search.
//
// Thread-safety: immutable once built, safe to share between threads.
#ifndef USAGEDB_INDEX_POSTING_INDEX_H_
#define USAGEDB_INDEX_POSTING_INDEX_H_

#include <cstdint>
#include <span>
#include <vector>

#include "lib/index/bitmap.h"

namespace usagedb {

class PostingIndex {
 public:
  // Builds an index entry by entry, in strictly ascending value order.
  class Builder {
   public:
    void reserve(size_t entries, size_t rows);
    // The rows of `code`, ascending. REQUIRES: `code` above every code added before.
    void add(uint32_t code, std::span<const uint32_t> rows);
    void add(uint32_t code, const Bitmap& rows);
    PostingIndex finish() &&;

   private:
    std::vector<uint32_t> codes_;
    std::vector<uint32_t> starts_{0};
    std::vector<uint32_t> rows_;
    bool has_empty_ = false;
  };

  PostingIndex() = default;
  PostingIndex(PostingIndex&&) noexcept = default;
  PostingIndex& operator=(PostingIndex&&) noexcept = default;

  // The rows of each value of `column` (a counting sort).
  static PostingIndex build(std::span<const uint32_t> column);

  // The rows holding `code`, ascending; empty when none do.
  std::span<const uint32_t> rows(uint32_t code) const {
    size_t i;
    if (codes_.empty()) {  // dense
      if (code < lo_ || static_cast<uint64_t>(code - lo_) + 1 >= starts_.size()) return {};
      i = code - lo_;
    } else {
      i = sparse_find(code);
      if (i == codes_.size()) return {};
    }
    return {rows_.data() + starts_[i], starts_[i + 1] - starts_[i]};
  }

  // Number of values with rows.
  size_t size() const { return entries_; }
  // Number of rows listed (each row once in a well-formed index).
  size_t total_rows() const { return rows_.size(); }

  // Calls f(uint32_t code, std::span<const uint32_t> rows) for each value in
  // ascending order. (An entry added to a Builder without rows, which only
  // a test of a corrupt file does, is kept and visited.)
  template <typename F>
  void for_each(F&& f) const {
    const size_t n = starts_.empty() ? 0 : starts_.size() - 1;
    for (size_t i = 0; i < n; ++i) {
      if (codes_.empty() && starts_[i] == starts_[i + 1]) continue;
      f(codes_.empty() ? lo_ + static_cast<uint32_t>(i) : codes_[i],
        std::span<const uint32_t>(rows_.data() + starts_[i], starts_[i + 1] - starts_[i]));
    }
  }

  // Heap bytes held.
  size_t memory_bytes() const { return (codes_.capacity() + starts_.capacity() + rows_.capacity()) * sizeof(uint32_t); }

 private:
  // The position of `code` in codes_, or codes_.size().
  size_t sparse_find(uint32_t code) const;

  uint32_t lo_ = 0;               // dense: the code of starts_[0]
  std::vector<uint32_t> codes_;   // sparse: the values, ascending; empty when dense
  std::vector<uint32_t> starts_;  // entry i's rows are rows_[starts_[i], starts_[i + 1])
  std::vector<uint32_t> rows_;
  size_t entries_ = 0;
};

}  // namespace usagedb

#endif  // USAGEDB_INDEX_POSTING_INDEX_H_
