// AppendBuffer: the unsealed rows of one partition, before they are sorted
// into an immutable Part.
//
// A single writer appends rows and then publish()es them; readers see the
// rows published before they looked, without taking a lock: row storage is a
// fixed table of chunks that never move, and publish() is a release store of
// the row count that readers load with acquire.
//
// Metadata values repeat a lot: the buffer keeps each distinct value once and
// a 4-byte code per row (as a part does), so a row costs ~4 bytes of
// metadata rather than ~60, and sealing maps codes instead of hashing
// strings. Like the rows, the codes and values live in storage that never
// moves, so readers (property_breakdown) read a published row's metadata
// without a lock.
//
// Each row also has its arrival sequence number (docs/STORAGE.md, "The
// arrival sequence"), increasing with the row: rows are appended in the
// order they arrive.
//
// A live buffer (index_users) also indexes its rows by user as they are
// appended, so a question about one user reads that user's rows instead of
// every unsealed row: each row keeps the number of the user's row before it,
// and a fixed open-addressing table (twice the capacity in slots, so it
// never fills) keeps each user's newest row in one 64-bit word (the user's
// code and the row), stored with release after the row's link: a reader
// that finds a user's newest row follows links already written, and skips
// the rows not yet published.
//
// Thread-safety: one writer at a time (the store's write lock) may call the
// non-const methods and the writer-only accessors (event_id,
// metadata_values()); any number of readers may call published_rows(),
// row(), sequence(), for_each_chunk(), for_each_user_row(), metadata(),
// metadata_code() and metadata_value() for published rows and their codes at
// the same time.
#ifndef USAGEDB_TABLE_APPEND_BUFFER_H_
#define USAGEDB_TABLE_APPEND_BUFFER_H_

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "lib/table/row.h"
#include "lib/table/string_column.h"

namespace usagedb {

class AppendBuffer {
 public:
  // REQUIRES: capacity >= 1. index_users: keep the by-user index
  // (for_each_user_row; ~20 bytes a row of capacity): a live store's
  // buffers, not a bulk ingest's.
  explicit AppendBuffer(uint32_t capacity, bool index_users = false);
  AppendBuffer(const AppendBuffer&) = delete;
  AppendBuffer& operator=(const AppendBuffer&) = delete;

  // ---- Writer ----
  // The hash append() uses for a metadata value: a caller may compute it
  // ahead, on another thread (the file ingest's parser threads do).
  static uint64_t metadata_hash(std::string_view metadata);
  // REQUIRES: !full(); `sequence` above the last row's; `metadata_hash` == metadata_hash(metadata) when given.
  void append(const RowCodes& row, uint64_t sequence, std::string_view event_id, std::string_view metadata) {
    append(row, sequence, event_id, metadata, metadata_hash(metadata));
  }
  void append(const RowCodes& row, uint64_t sequence, std::string_view event_id, std::string_view metadata,
              uint64_t metadata_hash);
  // Makes every appended row visible to readers.
  void publish() { published_.store(size_, std::memory_order_release); }
  bool full() const { return size_ == capacity_; }
  uint32_t size() const { return size_; }
  std::string_view event_id(uint32_t i) const { return event_ids_.at(i); }
  // The number of distinct metadata values (the writer's, or anyone's once
  // the buffer is no longer appended to).
  uint32_t metadata_values() const { return metadata_value_count_; }

  // ---- Readers ----
  uint32_t published_rows() const { return published_.load(std::memory_order_acquire); }
  const RowCodes& row(uint32_t i) const { return chunks_[i >> kChunkBits][i & kChunkMask]; }
  std::string_view metadata(uint32_t i) const { return metadata_value(metadata_code(i)); }
  // Row i's arrival sequence number (ascending with i).
  uint64_t sequence(uint32_t i) const { return sequence_chunks_[i >> kChunkBits][i & kChunkMask]; }
  // Row i's metadata as an index into the distinct values [0, metadata_values()).
  uint32_t metadata_code(uint32_t i) const { return metadata_chunks_[i >> kChunkBits][i & kChunkMask]; }
  std::string_view metadata_value(uint32_t code) const {
    const char* entry = value_chunks_[code >> kChunkBits][code & kChunkMask];
    uint32_t size;
    std::memcpy(&size, entry, sizeof(size));
    return std::string_view(entry + sizeof(size), size);
  }
  bool indexes_users() const { return user_heads_ != nullptr; }
  // Calls f(uint32_t i) for each row i < n whose user is `user`, newest
  // first. REQUIRES: indexes_users(); n <= published_rows().
  template <typename F>
  void for_each_user_row(uint32_t user, uint32_t n, F&& f) const {
    const uint64_t head = find_user_head(user);
    if (head == 0) return;
    for (uint32_t i = static_cast<uint32_t>(head) - 1; i != kNoRow; i = prev_chunks_[i >> kChunkBits][i & kChunkMask]) {
      if (i < n) f(i);  // a row appended since the reader looked is skipped
    }
  }
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
  static constexpr uint32_t kNoRow = UINT32_MAX;

  // Rows in a chunk of `chunk` (each chunk holds kChunkRows, the last one
  // what remains of the capacity).
  uint32_t chunk_rows(uint32_t chunk) const {
    const uint32_t begin = chunk << kChunkBits;
    return capacity_ - begin < kChunkRows ? capacity_ - begin : kChunkRows;
  }
  // Where the user index's probe for `user` starts.
  size_t user_slot(uint32_t user) const { return static_cast<size_t>((user * 0x9E3779B97F4A7C15ull) >> user_shift_); }
  // The user's word in the index, (user << 32) | (newest row + 1), or 0
  // when the buffer has no row of the user.
  uint64_t find_user_head(uint32_t user) const {
    for (size_t slot = user_slot(user);; slot = (slot + 1) & user_mask_) {
      const uint64_t word = user_heads_[slot].load(std::memory_order_acquire);
      if (word == 0 || word >> 32 == user) return word;
    }
  }
  // Links row size_ into its user's list (the writer, before size_ grows).
  void index_user(uint32_t chunk, uint32_t user);
  // Stores a new distinct metadata value; returns its code.
  uint32_t add_metadata_value(std::string_view value);

  const uint32_t capacity_;
  std::unique_ptr<std::unique_ptr<RowCodes[]>[]> chunks_;
  std::unique_ptr<std::unique_ptr<uint32_t[]>[]> metadata_chunks_;  // each row's metadata code
  std::unique_ptr<std::unique_ptr<uint64_t[]>[]> sequence_chunks_;  // each row's sequence number
  // The user index (index_users): each row's previous row of its user (or
  // kNoRow), and each user's newest row by slot.
  std::unique_ptr<std::unique_ptr<uint32_t[]>[]> prev_chunks_;
  std::unique_ptr<std::atomic<uint64_t>[]> user_heads_;
  size_t user_mask_ = 0;
  int user_shift_ = 64;
  uint32_t size_ = 0;
  std::atomic<uint32_t> published_{0};
  StringColumn::Builder event_ids_;
  // Metadata: the distinct values, each row's code, and the values' codes
  // hashed by value (transparent for a value with its hash).
  struct Hashed {
    std::string_view value;
    uint64_t hash;
  };
  struct CodeHash {
    using is_transparent = void;
    const AppendBuffer* buffer;
    size_t operator()(uint32_t code) const { return metadata_hash(buffer->metadata_value(code)); }
    size_t operator()(const Hashed& h) const { return h.hash; }
  };
  struct CodeEq {
    using is_transparent = void;
    const AppendBuffer* buffer;
    bool operator()(uint32_t a, uint32_t b) const { return a == b; }
    bool operator()(uint32_t a, const Hashed& b) const { return buffer->metadata_value(a) == b.value; }
    bool operator()(const Hashed& a, uint32_t b) const { return (*this)(b, a); }
  };
  // The distinct values: each a 4-byte length and its bytes in blocks that
  // never move, found through a chunked table of pointers by code.
  std::vector<std::unique_ptr<char[]>> value_blocks_;
  size_t block_used_ = 0, block_size_ = 0;  // of value_blocks_.back()
  size_t value_bytes_ = 0;                  // allocated in blocks
  std::unique_ptr<std::unique_ptr<const char*[]>[]> value_chunks_;
  uint32_t metadata_value_count_ = 0;
  absl::flat_hash_set<uint32_t, CodeHash, CodeEq> metadata_index_;
};

}  // namespace usagedb

#endif  // USAGEDB_TABLE_APPEND_BUFFER_H_
