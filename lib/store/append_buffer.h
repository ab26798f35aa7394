// AppendBuffer: the unsealed rows of one partition, before they are sorted
// into an immutable Part.
//
// A single writer appends rows and then publish()es them; readers see the
// rows published before they looked, without taking a lock: row storage is a
// fixed table of chunks that never move, and publish() is a release store of
// the row count that readers load with acquire.
//
// Thread-safety: one writer at a time (the store's write lock) may call the
// non-const methods and the writer-only accessors (event_id, metadata);
// any number of readers may call published_rows(), row() and for_each() at
// the same time.
#ifndef USAGEDB_STORE_APPEND_BUFFER_H_
#define USAGEDB_STORE_APPEND_BUFFER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "lib/store/row.h"
#include "lib/store/string_column.h"

namespace usagedb {

class AppendBuffer {
 public:
  // REQUIRES: capacity >= 1.
  explicit AppendBuffer(uint32_t capacity);
  AppendBuffer(const AppendBuffer&) = delete;
  AppendBuffer& operator=(const AppendBuffer&) = delete;

  // ---- Writer ----
  // REQUIRES: !full().
  void append(const RowCodes& row, std::string_view event_id, std::string_view metadata);
  // Makes every appended row visible to readers.
  void publish() { published_.store(size_, std::memory_order_release); }
  bool full() const { return size_ == capacity_; }
  uint32_t size() const { return size_; }
  std::string_view event_id(uint32_t i) const { return event_ids_.at(i); }
  std::string_view metadata(uint32_t i) const { return metadata_.at(i); }

  // ---- Readers ----
  uint32_t published_rows() const { return published_.load(std::memory_order_acquire); }
  const RowCodes& row(uint32_t i) const { return chunks_[i >> kChunkBits][i & kChunkMask]; }
  // Calls f(std::span<const RowCodes>) over rows [0, n) in storage chunks.
  template <typename F>
  void for_each_chunk(uint32_t n, F&& f) const {
    for (uint32_t begin = 0; begin < n; begin += kChunkRows) {
      const uint32_t len = n - begin < kChunkRows ? n - begin : kChunkRows;
      f(std::span<const RowCodes>(chunks_[begin >> kChunkBits].get(), len));
    }
  }

  size_t memory_bytes() const;

 private:
  static constexpr uint32_t kChunkBits = 10;
  static constexpr uint32_t kChunkRows = 1u << kChunkBits;
  static constexpr uint32_t kChunkMask = kChunkRows - 1;

  const uint32_t capacity_;
  std::unique_ptr<std::unique_ptr<RowCodes[]>[]> chunks_;
  uint32_t size_ = 0;
  std::atomic<uint32_t> published_{0};
  StringColumn::Builder event_ids_;
  StringColumn::Builder metadata_;
};

}  // namespace usagedb

#endif  // USAGEDB_STORE_APPEND_BUFFER_H_
