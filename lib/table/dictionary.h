// Dictionary: the store-wide encoding of one string column (users, features,
// versions, event types, sessions) as dense uint32 codes.
//
// Codes are assigned in first-seen order and never reused, so codes stored in
// immutable parts stay valid forever and parts of every partition share them.
// Queries work on codes and turn them back into strings only for the final
// rows.
//
//   uint32_t code = dict.intern("feature_16");
//   std::optional<uint32_t> c = dict.find("feature_16");   // == code
//   std::string_view s = dict.lookup(code);                 // "feature_16"
//
// Indexing. The hash index (string -> code) is what intern(), find() and
// erase() need; lookup() and size() never use it. Building it hashes every
// string, which dominates reopening a large store (2.8M session strings of a
// 10M-event store: ~0.6 s, serial). So a dictionary is either
//   - kEager: restore() indexes each string as it comes, and a string that
//     is already present is refused right away (the store's open fails with
//     a DataLossError). For the dictionaries that queries look up by string
//     (user, feature, version, event type: Dictionaries below), and every
//     dictionary built by intern() alone.
//   - kLazy: restore() only appends the entry; the index is built on the
//     first intern() or erase(), or the first find() after kScannedFinds
//     (under the lock; the first kScannedFinds compare the entries in code
//     order instead, as cheap as one look-up's share of building it for a
//     process that asks once), which is where the check for a string
//     restored twice happens. A duplicate found then is
//     recorded: status() and intern_many() return a DataLossError naming the
//     dictionary from then on (writers must stop: interning the string could
//     give either code), while lookup() keeps working and find()/intern()
//     answer the first code of the duplicated string. For the session
//     dictionary, which queries never look up by string (they only read
//     session codes), so a store that is only read never builds its index,
//     and the user dictionary, which a query looks up once (its user_id
//     filter): a process that answers a question about one user compares
//     the user strings once instead of hashing every one of them.
//
// Restored strings can be adopted rather than copied: restore_many() with the
// decoded segment's buffer keeps the buffer and points the entries into it.
//
// Thread-safety: intern() and find() may be called concurrently (an internal
// Mutex guards the hash index). lookup() takes no lock: it may run
// concurrently with intern() for any code the caller obtained through a
// synchronizing operation (a published part or buffer row), since entries are
// written once into storage that never moves.
#ifndef USAGEDB_TABLE_DICTIONARY_H_
#define USAGEDB_TABLE_DICTIONARY_H_

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "lib/util/huge_array.h"
#include "lib/util/mutex.h"

namespace usagedb {

class Dictionary {
 public:
  enum class Indexing { kEager, kLazy };  // see "Indexing" above
  // `name` (a column name, "session_id") is used in error messages.
  explicit Dictionary(std::string name = "", Indexing indexing = Indexing::kEager);
  Dictionary(const Dictionary&) = delete;
  Dictionary& operator=(const Dictionary&) = delete;
  ~Dictionary();

  // The code of `s`, assigning the next code when `s` is new.
  uint32_t intern(std::string_view s) ABSL_LOCKS_EXCLUDED(mu_);
  // intern() for many strings under one lock acquisition: codes[i] = intern(values[i]).
  // The DataLossError of status() (and no code assigned) when the dictionary
  // holds a string twice.
  absl::Status intern_many(std::span<const std::string_view> values, uint32_t* codes) ABSL_LOCKS_EXCLUDED(mu_);

  // Builds the hash index if it is not built yet (a lazily indexed
  // dictionary after restore()) and returns status(): writers call it before
  // they write anything.
  absl::Status prepare_for_writes() ABSL_LOCKS_EXCLUDED(mu_);
  // OK, or the DataLossError naming the dictionary and the duplicated string
  // found when the index was built (see "Indexing").
  absl::Status status() const ABSL_LOCKS_EXCLUDED(mu_);

  // The code of `s`, or nullopt when it was never interned.
  std::optional<uint32_t> find(std::string_view s) const ABSL_LOCKS_EXCLUDED(mu_);

  // The string of `code`. REQUIRES: code < size() (see thread-safety above).
  std::string_view lookup(uint32_t code) const {
    const Entry* block = blocks_[code >> kBlockBits].load(std::memory_order_acquire);
    return block[code & kBlockMask].view();
  }

  // Erases the string of `code` (GDPR): its bytes are overwritten, find()
  // no longer returns it, interning the same string again assigns a new
  // code, and lookup(code) returns "". REQUIRES: code < size(), and no
  // thread calls lookup(code) concurrently (queries never look up the codes
  // of the user dictionary, the only one erased from).
  void erase(uint32_t code) ABSL_LOCKS_EXCLUDED(mu_);
  bool erased(uint32_t code) const { return lookup(code).data() == kErased; }
  // Number of erase() calls that erased a string. Codes handed out before an
  // erase() may be erased since (intern() never hands out an erased code).
  uint64_t erasures() const { return erasures_.load(std::memory_order_acquire); }

  // Restores the next code from a persisted dictionary segment: `s` gets
  // code size(), or the code is kept unused when `erased`. false (nothing
  // added) when a live `s` is already present, which a valid segment never
  // contains; a kLazy dictionary does not check here (it does when it
  // builds its index) and always returns true.
  bool restore(std::string_view s, bool erased) ABSL_LOCKS_EXCLUDED(mu_);
  // restore() of each string in turn under one lock; the index of the
  // first string already present (nothing after it is added), or -1.
  // With `owner` (the buffer `strings` view into), the dictionary keeps the
  // buffer and its entries point into it instead of copying the bytes.
  ptrdiff_t restore_many(std::span<const std::string_view> strings, const std::vector<bool>& erased,
                         std::unique_ptr<std::string> owner = nullptr) ABSL_LOCKS_EXCLUDED(mu_);

  // Number of codes assigned so far.
  uint32_t size() const { return size_.load(std::memory_order_acquire); }

  // Heap bytes held: strings (copied or adopted), code table and hash index.
  size_t memory_bytes() const ABSL_LOCKS_EXCLUDED(mu_);

  // The rank of every code [0, size()) in the byte order of the strings,
  // by code; null when size() > max_size. Made on the first call at this
  // size and kept until the dictionary grows or erases a string: queries
  // order their answers by the feature and version strings, two small
  // dictionaries asked on every query (sorting them was 8% of a 460-row
  // user_feature_usage answer).
  std::shared_ptr<const std::vector<uint32_t>> ranks(uint32_t max_size) const ABSL_LOCKS_EXCLUDED(ranks_mu_);

 private:
  static constexpr uint32_t kBlockBits = 16;
  static constexpr uint32_t kBlockSize = 1u << kBlockBits;
  static constexpr uint32_t kBlockMask = kBlockSize - 1;
  static constexpr uint32_t kMaxBlocks = 1u << (32 - kBlockBits);
  static constexpr size_t kArenaChunk = 256 * 1024;

  static const char kErased[];

  // A code's string. One of up to kInlineBytes bytes is held in the entry
  // itself: a probe compares it without chasing a pointer (two dependent
  // loads instead of three), and it takes no arena bytes (the session
  // strings of a 10M-event store, ~42 MB). A longer string, and the erased
  // marker, point elsewhere. The last byte tells which: the inline size, or
  // kFar.
  class Entry {
   public:
    static constexpr size_t kInlineBytes = 15;
    // REQUIRES: s.size() <= kInlineBytes.
    static Entry inline_copy(std::string_view s) {
      Entry e;
      std::memset(e.raw_, 0, sizeof(e.raw_));
      if (!s.empty()) std::memcpy(e.raw_, s.data(), s.size());  // an empty view's data() may be null
      e.raw_[15] = static_cast<char>(s.size());
      return e;
    }
    static Entry far(const char* data, uint32_t size) {
      Entry e;
      std::memset(e.raw_, 0, sizeof(e.raw_));
      std::memcpy(e.raw_, &data, sizeof(data));
      std::memcpy(e.raw_ + 8, &size, sizeof(size));
      e.raw_[15] = static_cast<char>(kFar);
      return e;
    }
    bool is_inline() const { return static_cast<uint8_t>(raw_[15]) != kFar; }
    std::string_view view() const {
      const auto tag = static_cast<uint8_t>(raw_[15]);
      if (tag != kFar) return {raw_, tag};
      const char* data;
      uint32_t size;
      std::memcpy(&data, raw_, sizeof(data));
      std::memcpy(&size, raw_ + 8, sizeof(size));
      return {data, size};
    }

   private:
    static constexpr uint8_t kFar = 0xFF;
    alignas(8) char raw_[16];
  };

  // The hash index: open addressing with linear probing over one array of
  // 8-byte slots, (upper half of the string's hash) << 32 | code. A probe
  // reads one slot array (no separate control bytes), compares the string
  // only when the hash halves match, and its first slot's address is known
  // from the hash alone, so intern_many() prefetches it several strings
  // ahead. Growing rehashes from the slots alone. Erased codes leave a
  // tombstone until the next growth.
  static uint32_t hash_half(std::string_view s);
  static uint64_t slot_of(uint32_t half, uint32_t code) { return (static_cast<uint64_t>(half) << 32) | code; }
  static constexpr uint64_t kEmptySlot = ~uint64_t{0};
  // Neither is a real slot as long as codes stay below UINT32_MAX - 1: a
  // dictionary that large would need 64 GiB for its code table alone.
  static constexpr uint64_t kTombstone = ~uint64_t{0} - 1;
  // The first slot probed for a string whose hash's upper half is `half`.
  size_t home_locked(uint32_t half) const ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return static_cast<uint32_t>(half * 0x9E3779B1u) >> slot_shift_;
  }
  // The slot holding `s`, or the empty slot where it would go; *found says which.
  // (Gives the index its first slots when it has none.)
  size_t probe_locked(std::string_view s, uint32_t half, bool* found) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Stores the slot of a new `code` at empty slot `at` (from probe_locked) and grows when full.
  void insert_slot_locked(size_t at, uint32_t half, uint32_t code) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Room for `live` strings without growing.
  void reserve_slots_locked(size_t live) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void rehash_locked(size_t slots) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // A direct-mapped cache of recently interned short strings, held inline:
  // a hit costs one hash and one cache-resident compare instead of the three
  // dependent memory loads of a probe into a large index (hash slot, code
  // table, string bytes). Users and sessions repeat in bursts, so most
  // lookups of those large dictionaries hit.
  struct CacheSlot {
    uint64_t hash = 0;
    uint32_t code = UINT32_MAX;  // UINT32_MAX: empty
    uint8_t size = 0;
    char bytes[19];
  };
  static constexpr size_t kMinCacheSlots = 4096;
  static constexpr size_t kMaxCacheSlots = 1 << 16;  // 2 MiB
  static constexpr size_t kCacheMaxBytes = sizeof(CacheSlot::bytes);

  // REQUIRES: the index is complete (intern() and intern_many() build it
  // once per call, not once per string), `h` == hash::hash64(s).
  uint32_t intern_locked(std::string_view s, uint64_t h) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Asks the CPU to fetch what intern_locked() will read first for hash
  // `h`: its cache slot and its home slot of the index.
  void prefetch_locked(uint64_t h) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // The second step, a few strings later, once the home slot has arrived:
  // asks for the entry of the code that slot holds, which the probe
  // compares next (a large dictionary's entries are not in the CPU's cache
  // either: without it, each probe waited for two memory loads in turn).
  void prefetch_entry_locked(uint64_t h) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  bool restore_locked(std::string_view s, bool erased, bool copy) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Indexes codes [indexed_, size()): the lazy build. Records the first
  // duplicate in error_ (the index keeps the string's first code).
  // Const: the index is a cache of the entries (find() may build it).
  void build_index_locked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool index_complete_locked() const ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return indexed_ == size_.load(std::memory_order_relaxed);
  }
  // Stores entry `e` as the next code and publishes it.
  uint32_t append_locked(Entry e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A copy of `s` in the arena, for a string too long for its entry.
  const char* copy_bytes(std::string_view s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string name_;
  const Indexing indexing_;
  mutable Mutex mu_;
  // The index (see above; mutable: find() may build it): a power-of-two
  // number of slots, slot_shift_ = 32 - log2(slots).
  mutable HugeArray<uint64_t> slots_ ABSL_GUARDED_BY(mu_);
  mutable size_t slot_count_ ABSL_GUARDED_BY(mu_) = 0;
  mutable uint32_t slot_shift_ ABSL_GUARDED_BY(mu_) = 32;
  mutable size_t live_slots_ ABSL_GUARDED_BY(mu_) = 0;  // slots holding a code
  mutable size_t used_slots_ ABSL_GUARDED_BY(mu_) = 0;  // and tombstones
  // Codes [0, indexed_) are in the index (or erased); only restore() of a
  // kLazy dictionary leaves codes past it.
  mutable uint32_t indexed_ ABSL_GUARDED_BY(mu_) = 0;
  mutable absl::Status error_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<CacheSlot[]> cache_ ABSL_GUARDED_BY(mu_);  // allocated once the dictionary is large
  size_t cache_slots_ ABSL_GUARDED_BY(mu_) = 0;              // a power of two
  // Two-level code table: fixed array of block pointers, blocks never move.
  std::unique_ptr<std::atomic<Entry*>[]> blocks_;
  std::atomic<uint32_t> size_{0};
  std::atomic<uint64_t> erasures_{0};
  // find() calls answered by comparing entries (kLazy, before the index).
  static constexpr uint32_t kScannedFinds = 8;
  mutable std::atomic<uint32_t> scanned_finds_{0};
  // ranks(), and the size and erasures it was made at.
  mutable Mutex ranks_mu_;
  mutable std::shared_ptr<const std::vector<uint32_t>> ranks_ ABSL_GUARDED_BY(ranks_mu_);
  mutable uint64_t ranks_erasures_ ABSL_GUARDED_BY(ranks_mu_) = 0;
  // String bytes: chunks that never move; large strings get their own chunk.
  std::vector<std::unique_ptr<char[]>> chunks_ ABSL_GUARDED_BY(mu_);
  // Adopted segment buffers (restore_many with an owner).
  std::vector<std::unique_ptr<std::string>> adopted_ ABSL_GUARDED_BY(mu_);
  char* chunk_pos_ ABSL_GUARDED_BY(mu_) = nullptr;
  size_t chunk_left_ ABSL_GUARDED_BY(mu_) = 0;
  size_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace usagedb

#endif  // USAGEDB_TABLE_DICTIONARY_H_
