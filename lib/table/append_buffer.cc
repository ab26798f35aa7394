#include "lib/table/append_buffer.h"

#include <algorithm>

#include "lib/util/hash.h"

namespace usagedb {

AppendBuffer::AppendBuffer(uint32_t capacity)
    : capacity_(capacity),
      chunks_(new std::unique_ptr<RowCodes[]>[(capacity + kChunkRows - 1) / kChunkRows]),
      sequence_chunks_(new std::unique_ptr<uint64_t[]>[(capacity + kChunkRows - 1) / kChunkRows]),
      metadata_index_(0, CodeHash{this}, CodeEq{this}) {}

uint64_t AppendBuffer::metadata_hash(std::string_view metadata) { return hash::hash64(metadata); }

void AppendBuffer::append(const RowCodes& row, uint64_t sequence, std::string_view event_id,
                          std::string_view metadata, uint64_t metadata_hash) {
  std::unique_ptr<RowCodes[]>& chunk = chunks_[size_ >> kChunkBits];
  std::unique_ptr<uint64_t[]>& sequences = sequence_chunks_[size_ >> kChunkBits];
  if (chunk == nullptr) {
    const uint32_t rows = capacity_ - (size_ & ~kChunkMask) < kChunkRows ? capacity_ - (size_ & ~kChunkMask) : kChunkRows;
    chunk.reset(new RowCodes[rows]);
    sequences.reset(new uint64_t[rows]);
  }
  chunk[size_ & kChunkMask] = row;
  sequences[size_ & kChunkMask] = sequence;
  if (size_ == 0) {
    // Room for a full buffer of strings like the first ones (up to the
    // size of a bulk ingest's buffer): growing by doubling would copy them
    // about once more and touch twice the pages. Pages reserved but never
    // written cost no memory.
    constexpr size_t kMaxReservedRows = 1 << 20;
    constexpr size_t kMaxReservedBytes = 32 << 20;
    const size_t rows = std::min<size_t>(capacity_, kMaxReservedRows);
    event_ids_.reserve(rows, std::min(rows * (event_id.size() + 8), kMaxReservedBytes));
    metadata_codes_.reserve(rows);
  }
  event_ids_.add(event_id);
  // One hash probe: the value is stored only when it is new to the buffer.
  const auto add_value = [&](const auto& construct) {
    construct(static_cast<uint32_t>(metadata_values_.size()));
    metadata_values_.add(metadata);
  };
  metadata_codes_.push_back(*metadata_index_.lazy_emplace(Hashed{metadata, metadata_hash}, add_value));
  ++size_;
}

size_t AppendBuffer::memory_bytes() const {
  const size_t chunks = (size_ + kChunkRows - 1) / kChunkRows;
  return chunks * kChunkRows * (sizeof(RowCodes) + sizeof(uint64_t)) + event_ids_.size() * 24 + metadata_codes_.capacity() * sizeof(uint32_t) +
         metadata_values_.size() * 24 + metadata_index_.capacity() * (sizeof(uint32_t) + 1);
}

}  // namespace usagedb
