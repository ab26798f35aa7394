#include "lib/table/dedup_index.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <new>

#include "lib/util/coding.h"
#include "lib/util/hash.h"
#include "lib/util/text.h"

namespace usagedb {

uint64_t DedupIndex::hash(std::string_view id) { return hash::hash64(id); }

std::string_view DedupIndex::resolve(uint64_t ref) const {
  const char* p = chunks_[ref >> kChunkBits].get() + (ref & (kChunkBytes - 1));
  std::string_view in(p, coding::kMaxVarint64Bytes);
  uint64_t len = 0;
  coding::get_varint64(&in, &len);
  return std::string_view(in.data(), len);
}

size_t DedupIndex::probe(std::string_view id, uint64_t h, bool* found) const {
  *found = false;
  const size_t mask = slot_count_ - 1;
  const uint64_t fingerprint = h >> kRefBits;
  for (size_t i = home(h);; i = (i + 1) & mask) {
    const uint64_t slot = slots_[i];
    if (slot == kEmpty) return i;
    if ((slot >> kRefBits) == fingerprint && slot != kTombstone && text::equal(resolve(slot & kRefMask), id)) {
      *found = true;
      return i;
    }
  }
}

bool DedupIndex::contains(std::string_view id) const {
  if (slot_count_ == 0) return false;
  bool found;
  probe(id, hash(id), &found);
  return found;
}

bool DedupIndex::insert(std::string_view id, uint64_t id_hash) {
  if (slot_count_ == 0) rehash(16);
  bool found;
  const size_t at = probe(id, id_hash, &found);
  if (found) return false;
  slots_[at] = slot_of(id_hash, append(id));
  ++live_;
  ++used_;
  // At most 7/8 of the slots used, as an absl table: a month of ~850k ids
  // fits 2^20 slots (at 70% it took 2^21: +7 MB per partition at 10M
  // events), and a probe's slots are adjacent, 8 to a cache line.
  if (used_ * 8 > slot_count_ * 7) rehash(2 * slot_count_);
  return true;
}

void DedupIndex::reserve(size_t n) {
  size_t slots = std::max<size_t>(slot_count_, 16);
  while ((used_ - live_ + n) * 8 > slots * 7) slots *= 2;
  if (slots != slot_count_) rehash(slots);
}

void DedupIndex::rehash(size_t slots) {
  HugeArray<uint64_t> old = std::move(slots_);
  const size_t old_count = slot_count_;
  slots_ = allocate_huge_array<uint64_t>(slots);
  std::fill_n(slots_.get(), slots, kEmpty);
  slot_count_ = slots;
  shift_ = 64 - std::countr_zero(slots);
  used_ = live_;  // tombstones are dropped
  const size_t mask = slots - 1;
  // A slot's fingerprint is the top 24 bits of its hash, all a table of up
  // to 2^24 slots places by; a larger one hashes the id again.
  const bool from_slot = std::countr_zero(slots) <= max_bits_from_slots_;
  for (size_t j = 0; j < old_count; ++j) {
    const uint64_t slot = old[j];
    if (slot == kEmpty || slot == kTombstone) continue;
    const uint64_t h = from_slot ? slot : hash(resolve(slot & kRefMask));
    size_t i = home(h);
    while (slots_[i] != kEmpty) i = (i + 1) & mask;
    slots_[i] = slot;
  }
}

uint64_t DedupIndex::append(std::string_view id) {
  const size_t need = coding::varint_length(id.size()) + id.size();
  // resolve() reads up to kMaxVarint64Bytes of length prefix: keep that much
  // slack after every id.
  const size_t reserve = need + coding::kMaxVarint64Bytes;
  if (chunks_.empty() || chunk_used_ + reserve > chunk_capacity_) {
    // References have kRefBits: 2^16 - 1 chunks (64 GiB of ids in one
    // month's index) are all there can be; past that, as when memory runs out.
    if (chunks_.size() + 1 >= (size_t{1} << (kRefBits - kChunkBits))) throw std::bad_alloc();
    chunk_capacity_ = reserve > kChunkBytes ? reserve : kChunkBytes;  // oversized ids get their own chunk
    chunks_.emplace_back(new char[chunk_capacity_]);
    arena_bytes_ += chunk_capacity_;
    chunk_used_ = 0;
  }
  // An id starts within the first kChunkBytes of its chunk (an oversized
  // one at 0), so its reference fits kRefBits for 2^16 chunks: 64 GiB of ids
  // in one partition.
  const uint64_t ref = (static_cast<uint64_t>(chunks_.size() - 1) << kChunkBits) | chunk_used_;
  char* p = coding::encode_varint64(chunks_.back().get() + chunk_used_, id.size());
  std::memcpy(p, id.data(), id.size());
  chunk_used_ += need;
  return ref;
}

void DedupIndex::erase(std::string_view id) {
  if (slot_count_ == 0) return;
  bool found;
  const size_t at = probe(id, hash(id), &found);
  if (!found) return;
  slots_[at] = kTombstone;
  --live_;
}

size_t DedupIndex::memory_bytes() const { return arena_bytes_ + slot_count_ * sizeof(uint64_t); }

void DedupIndex::clear() {
  std::vector<std::unique_ptr<char[]>>().swap(chunks_);
  chunk_used_ = chunk_capacity_ = arena_bytes_ = 0;
  slots_.reset();
  slot_count_ = live_ = used_ = 0;
  shift_ = 64;
}

}  // namespace usagedb
