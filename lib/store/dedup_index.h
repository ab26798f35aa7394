// DedupIndex: the exact set of event_ids stored in one monthly partition, for
// SPEC 1.3's idempotent retries (first write wins).
//
// Exact, not probabilistic: the index keeps its own copy of every id in an
// arena of chunks that never move, and the hash set holds 8-byte references
// into it, hashed and compared through the bytes. Cost per stored id: the id's
// bytes + 1-2 bytes of length + ~9-14 bytes of hash slot (see memory_bytes()).
//
//   DedupIndex ids;
//   if (ids.insert("evt_1")) { /* new: store the event */ }
//
// Thread-safety: not thread-safe; the store's write lock guards it.
#ifndef USAGEDB_STORE_DEDUP_INDEX_H_
#define USAGEDB_STORE_DEDUP_INDEX_H_

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"

namespace usagedb {

class DedupIndex {
 public:
  DedupIndex();
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
  // Room for `n` ids without growing (growing re-reads every id).
  void reserve(size_t n) { set_.reserve(n); }
  // Removes `id` (its bytes stay in the arena until the index is rebuilt).
  void erase(std::string_view id);
  size_t size() const { return set_.size(); }
  size_t memory_bytes() const;

 private:
  static constexpr size_t kChunkBytes = 1 << 20;

  // A reference: chunk index in the high 32 bits, offset in the low 32; the
  // bytes there are a varint length followed by the id.
  std::string_view resolve(uint64_t ref) const;
  // Copies `id` into the arena and returns its reference.
  uint64_t append(std::string_view id);

  // A lookup key: an id with its hash.
  struct Hashed {
    std::string_view id;
    uint64_t hash;
  };
  struct RefHash {
    using is_transparent = void;
    const DedupIndex* index;
    size_t operator()(uint64_t ref) const { return hash(index->resolve(ref)); }
    size_t operator()(const Hashed& h) const { return h.hash; }
  };
  struct RefEq {
    using is_transparent = void;
    const DedupIndex* index;
    bool operator()(uint64_t a, uint64_t b) const { return a == b; }
    bool operator()(uint64_t a, const Hashed& b) const { return index->resolve(a) == b.id; }
    bool operator()(const Hashed& a, uint64_t b) const { return a.id == index->resolve(b); }
  };

  std::vector<std::unique_ptr<char[]>> chunks_;
  size_t chunk_used_ = 0;      // bytes used in chunks_.back()
  size_t chunk_capacity_ = 0;  // bytes allocated for chunks_.back()
  size_t arena_bytes_ = 0;
  absl::flat_hash_set<uint64_t, RefHash, RefEq> set_;
};

}  // namespace usagedb

#endif  // USAGEDB_STORE_DEDUP_INDEX_H_
