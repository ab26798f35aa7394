#include "lib/table/append_buffer.h"

#include <algorithm>

#include "lib/util/hash.h"

namespace usagedb {

AppendBuffer::AppendBuffer(uint32_t capacity, bool index_users)
    : capacity_(capacity),
      chunks_(new std::unique_ptr<RowCodes[]>[(capacity + kChunkRows - 1) / kChunkRows]),
      metadata_chunks_(new std::unique_ptr<uint32_t[]>[(capacity + kChunkRows - 1) / kChunkRows]),
      sequence_chunks_(new std::unique_ptr<uint64_t[]>[(capacity + kChunkRows - 1) / kChunkRows]),
      value_chunks_(new std::unique_ptr<const char*[]>[(capacity + kChunkRows - 1) / kChunkRows]),
      metadata_index_(0, CodeHash{this}, CodeEq{this}) {
  if (index_users) {
    // At least twice the capacity, so the table is at most half full.
    int bits = 1;
    while ((size_t{1} << bits) < 2 * static_cast<size_t>(capacity)) ++bits;
    user_heads_.reset(new std::atomic<uint64_t>[size_t{1} << bits]);
    for (size_t i = 0; i < (size_t{1} << bits); ++i) user_heads_[i].store(0, std::memory_order_relaxed);
    user_mask_ = (size_t{1} << bits) - 1;
    user_shift_ = 64 - bits;
    prev_chunks_.reset(new std::unique_ptr<uint32_t[]>[(capacity + kChunkRows - 1) / kChunkRows]);
  }
}

uint64_t AppendBuffer::metadata_hash(std::string_view metadata) { return hash::hash64(metadata); }

void AppendBuffer::index_user(uint32_t chunk, uint32_t user) {
  std::unique_ptr<uint32_t[]>& prev = prev_chunks_[chunk];
  if (prev == nullptr) prev.reset(new uint32_t[chunk_rows(chunk)]);
  size_t slot = user_slot(user);
  uint64_t word;
  // Only this thread writes the table: relaxed loads see its own stores.
  while ((word = user_heads_[slot].load(std::memory_order_relaxed)) != 0 && word >> 32 != user) {
    slot = (slot + 1) & user_mask_;
  }
  prev[size_ & kChunkMask] = word == 0 ? kNoRow : static_cast<uint32_t>(word) - 1;
  // The link is written before a reader can find the row.
  user_heads_[slot].store((static_cast<uint64_t>(user) << 32) | (size_ + 1), std::memory_order_release);
}

uint32_t AppendBuffer::add_metadata_value(std::string_view value) {
  // Blocks of 64 KiB (a value larger than that gets its own), so a buffer
  // of a few distinct values costs one small block.
  constexpr size_t kBlockBytes = 64 << 10;
  const size_t need = sizeof(uint32_t) + value.size();
  if (value_blocks_.empty() || block_size_ - block_used_ < need) {
    block_size_ = std::max(kBlockBytes, need);
    value_blocks_.emplace_back(new char[block_size_]);
    block_used_ = 0;
    value_bytes_ += block_size_;
  }
  char* entry = value_blocks_.back().get() + block_used_;
  const auto size = static_cast<uint32_t>(value.size());
  std::memcpy(entry, &size, sizeof(size));
  if (!value.empty()) std::memcpy(entry + sizeof(size), value.data(), value.size());
  block_used_ += need;
  const uint32_t code = metadata_value_count_++;
  std::unique_ptr<const char*[]>& chunk = value_chunks_[code >> kChunkBits];
  if (chunk == nullptr) chunk.reset(new const char*[chunk_rows(code >> kChunkBits)]);
  chunk[code & kChunkMask] = entry;
  return code;
}

void AppendBuffer::append(const RowCodes& row, uint64_t sequence, std::string_view event_id,
                          std::string_view metadata, uint64_t metadata_hash) {
  const uint32_t chunk = size_ >> kChunkBits;
  if (chunks_[chunk] == nullptr) {
    chunks_[chunk].reset(new RowCodes[chunk_rows(chunk)]);
    metadata_chunks_[chunk].reset(new uint32_t[chunk_rows(chunk)]);
    sequence_chunks_[chunk].reset(new uint64_t[chunk_rows(chunk)]);
  }
  chunks_[chunk][size_ & kChunkMask] = row;
  sequence_chunks_[chunk][size_ & kChunkMask] = sequence;
  if (user_heads_ != nullptr) index_user(chunk, row.user);
  if (size_ == 0) {
    // Room for a full buffer of strings like the first ones (up to the
    // size of a bulk ingest's buffer): growing by doubling would copy them
    // about once more and touch twice the pages. Pages reserved but never
    // written cost no memory.
    constexpr size_t kMaxReservedRows = 1 << 20;
    constexpr size_t kMaxReservedBytes = 32 << 20;
    const size_t rows = std::min<size_t>(capacity_, kMaxReservedRows);
    event_ids_.reserve(rows, std::min(rows * (event_id.size() + 8), kMaxReservedBytes));
  }
  event_ids_.add(event_id);
  // One hash probe: the value is stored only when it is new to the buffer.
  metadata_chunks_[chunk][size_ & kChunkMask] = *metadata_index_.lazy_emplace(
      Hashed{metadata, metadata_hash}, [&](const auto& construct) { construct(add_metadata_value(metadata)); });
  ++size_;
}

size_t AppendBuffer::memory_bytes() const {
  const size_t chunks = (size_ + kChunkRows - 1) / kChunkRows;
  const size_t value_chunks = (metadata_value_count_ + kChunkRows - 1) / kChunkRows;
  return chunks * kChunkRows * (sizeof(RowCodes) + sizeof(uint32_t) + sizeof(uint64_t)) + event_ids_.size() * 24 +
         value_chunks * kChunkRows * sizeof(const char*) + value_bytes_ +
         metadata_index_.capacity() * (sizeof(uint32_t) + 1) +
         (user_heads_ != nullptr ? (user_mask_ + 1) * sizeof(uint64_t) + chunks * kChunkRows * sizeof(uint32_t) : 0);
}

}  // namespace usagedb
