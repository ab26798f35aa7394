// DedupIndex: the exact set of event_ids stored in one monthly partition, for
// SPEC 1.3's idempotent retries (first write wins).
//
// Exact, not probabilistic: the index keeps its own copy of every id in an
// arena of chunks that never move, and a hash table of 8-byte slots refers
// to it. A slot holds the top 28 bits of the id's hash and a 36-bit
// reference into the arena (64 GiB of ids a partition), so a probe compares
// an id's bytes only when 28 hash bits match, and the table is one array
// read with one load per probe (open addressing, linear probing), whose
// first slot a caller can prefetch. Slots are placed by the top bits of the
// hash, so growing up to 2^28 slots rehashes from the slots alone. Only
// the fingerprint bits below the home bits tell apart ids of the same home
// slot: with 24-bit fingerprints a table of 2^24 slots (a month of 100M
// events) had none, and a probe read the arena for every id of its home it
// passed (5% of a 100M ingest's CPU time; 4 bits more now, 8 at 2^20 slots).
// Cost per stored id: its bytes + 1-2 bytes of length + 8 bytes / load
// factor (7/16-7/8) of slots: ~10-19 bytes plus the id (see memory_bytes()).
//
//   DedupIndex ids;
//   if (ids.insert("evt_1")) { /* new: store the event */ }
//
// Thread-safety: not thread-safe; the store's write lock guards it.
#ifndef USAGEDB_TABLE_DEDUP_INDEX_H_
#define USAGEDB_TABLE_DEDUP_INDEX_H_

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "lib/util/huge_array.h"

namespace usagedb {

class DedupIndex {
 public:
  DedupIndex() = default;
  // For tests: tables of more than 2^max_bits_from_slots slots rehash by
  // hashing the ids again (normally 2^28, too many ids for a unit test).
  explicit DedupIndex(int max_bits_from_slots) : max_bits_from_slots_(max_bits_from_slots) {}
  DedupIndex(const DedupIndex&) = delete;
  DedupIndex& operator=(const DedupIndex&) = delete;

  // The hash insert() uses: a caller may compute it ahead, on another
  // thread (the file ingest's parser threads do, where the id is in cache).
  static uint64_t hash(std::string_view id);
  // Adds `id`; false when it was already present. REQUIRES: !id.empty(),
  // and `id_hash` == hash(id) when given.
  bool insert(std::string_view id) { return insert(id, hash(id)); }
  bool insert(std::string_view id, uint64_t id_hash);
  bool contains(std::string_view id) const;
  // Asks the CPU to fetch the slot insert(id, id_hash) reads first.
  void prefetch(uint64_t id_hash) const {
    if (slot_count_ != 0) __builtin_prefetch(&slots_[home(id_hash)]);
  }
  // Room for `n` ids without growing.
  void reserve(size_t n);
  // Removes `id` (its bytes stay in the arena until the index is rebuilt).
  void erase(std::string_view id);
  size_t size() const { return live_; }
  size_t memory_bytes() const;
  // Forgets every id and frees the memory.
  void clear();

 private:
  static constexpr size_t kChunkBits = 20;
  static constexpr size_t kChunkBytes = size_t{1} << kChunkBits;
  static constexpr int kRefBits = 36;  // chunk index << kChunkBits | offset: 2^16 chunks
  static constexpr uint64_t kRefMask = (uint64_t{1} << kRefBits) - 1;
  static constexpr int kFingerprintBits = 64 - kRefBits;
  static constexpr uint64_t kEmpty = ~uint64_t{0};
  static constexpr uint64_t kTombstone = ~uint64_t{0} - 1;  // an erased id
  // Neither kEmpty nor kTombstone is a real slot: their references would
  // point past 2^36 - 2 bytes of arena, which append() never reaches.

  // The first slot probed for hash `h`: its top bits.
  size_t home(uint64_t h) const { return static_cast<size_t>(h >> shift_); }
  static uint64_t slot_of(uint64_t h, uint64_t ref) { return (h >> kRefBits << kRefBits) | ref; }
  // The slot holding `id`, or the empty slot where it would go; *found says which.
  size_t probe(std::string_view id, uint64_t h, bool* found) const;
  void rehash(size_t slots);
  // The id at arena reference `ref`: a varint length followed by the bytes.
  std::string_view resolve(uint64_t ref) const;
  // Copies `id` into the arena and returns its reference.
  uint64_t append(std::string_view id);

  std::vector<std::unique_ptr<char[]>> chunks_;
  size_t chunk_used_ = 0;      // bytes used in chunks_.back()
  size_t chunk_capacity_ = 0;  // bytes allocated for chunks_.back()
  size_t arena_bytes_ = 0;
  HugeArray<uint64_t> slots_;
  size_t slot_count_ = 0;  // a power of two, or 0
  int shift_ = 64;         // 64 - log2(slot_count_)
  size_t live_ = 0;        // slots holding an id
  size_t used_ = 0;        // and tombstones
  int max_bits_from_slots_ = kFingerprintBits;
};

}  // namespace usagedb

#endif  // USAGEDB_TABLE_DEDUP_INDEX_H_
