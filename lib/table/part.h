// Part: an immutable chunk of one partition's rows, sorted by (timestamp,
// feature_id, product_version) and stored column by column, with indexes
// from each user, feature and version to its row positions (ClickHouse
// MergeTree's "data part"). The user index lists each user's
// rows in one flat array (PostingIndex: thousands of users with a few rows
// each per part); features and versions, few values with many rows each
// that queries intersect, have roaring bitmaps.
//
// Low-cardinality string columns hold store-wide dictionary codes; event_id
// is a StringColumn; metadata is dictionary-encoded within the part (its
// values repeat a lot and are never filtered on).
//
// Built by PartBuilder; read by queries through spans and index lookups:
//   for (uint32_t row : part.user_rows(user_code)) { ... }
//   if (const Bitmap* rows = part.feature_rows(feature_code)) rows->for_each(...);
//   RowRange r = part.time_range(begin, end);   // binary search
//
// Resident and lazy parts. A part built in memory (a seal, a merge) holds
// its columns and indexes for its whole life. A part of a reopened store is
// lazy: it knows its id, month, row count, time range and largest arrival
// number (its file's footer), and reads its columns and indexes on first
// use through a loader (the storage layer's: read the file, verify every
// checksum, decode), accounted in a PartCache with a byte budget that
// evicts the least recently used unpinned parts. Whoever reads a part's
// columns or indexes holds a Pin for as long as it uses them:
//
//   USAGEDB_ASSIGN_OR_RETURN(Part::Pin pin, part.pin());  // DataLossError: a damaged file
//   const PartColumns& c = part.columns();                // valid while `pin` lives
//
// (A query pins through its Snapshot, which keeps the pins until it ends.)
// columns() and indexes() of a lazy part that nobody pinned load it and
// keep it resident for good, aborting if its file is damaged: a safety net
// for a reader that forgot to pin, not a way to read.
//
// Thread-safety: the data is immutable once loaded; pin() and eviction are
// synchronized (an internal Mutex), safe to share between threads.
#ifndef USAGEDB_TABLE_PART_H_
#define USAGEDB_TABLE_PART_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "lib/index/bitmap.h"
#include "lib/index/posting_index.h"
#include "lib/table/sequence_column.h"
#include "lib/table/string_column.h"
#include "lib/util/handle.h"
#include "lib/util/mutex.h"

namespace usagedb {

// Rows [begin, end) of a part.
struct RowRange {
  uint32_t begin = 0;
  uint32_t end = 0;
  uint32_t size() const { return end - begin; }
  bool empty() const { return begin >= end; }
};

// The columns of a part, in row order.
struct PartColumns {
  std::vector<uint32_t> timestamp;   // ascending Unix seconds
  std::vector<uint32_t> feature;     // DictionaryColumn::kFeature codes
  std::vector<uint32_t> version;     // DictionaryColumn::kVersion codes
  std::vector<uint32_t> user;        // DictionaryColumn::kUser codes
  std::vector<uint32_t> event_type;  // DictionaryColumn::kEventType codes
  std::vector<uint32_t> session;     // DictionaryColumn::kSession codes
  std::vector<uint32_t> metadata;    // index into metadata_values
  StringColumn metadata_values;      // the part's distinct metadata strings
  StringColumn event_id;
  SequenceColumn sequence;           // each row's arrival sequence number
};

// Value -> rows bitmaps of one column.
using BitmapIndex = absl::flat_hash_map<uint32_t, Bitmap>;

struct PartIndexes {
  PostingIndex user;
  BitmapIndex feature;
  BitmapIndex version;
};

// What a part reads on first use.
struct PartData {
  PartColumns columns;
  PartIndexes indexes;
};

// One user's rows of a part, in row order (so ascending timestamps): the
// columns a one-user question reads.
struct UserRows {
  std::vector<uint32_t> timestamp;
  std::vector<uint32_t> feature;
  std::vector<uint32_t> version;
};

class PartCache;
class UserOrderedRows;

// Memory besides parts that a PartCache's budget holds and may drop: the
// sections of a lazy rollup (lib/rollup/partition_rollup.h), read from the
// store's files on first use and read again after they were dropped, and a
// lazy part's rows by user (Part::user_ordered_rows()), built again. Its
// owner charges the bytes (PartCache::charge) and forgets them before it
// goes (PartCache::forget), neither under a lock drop_charged() takes.
class ChargedMemory {
 public:
  // Drops what it can of the memory charged: with `all`, everything
  // nothing holds now; without, only what was not used lately (the cache
  // asks for that first, of every owner). The bytes freed, 0 for none. The
  // cache's lock is held: it may take the owner's locks, never the cache's.
  virtual size_t drop_charged(bool all) const = 0;

 protected:
  ~ChargedMemory() = default;
};

class Part {
 public:
  // What a lazy part knows before it is read (its file's footer).
  struct Summary {
    uint32_t rows = 0;
    uint32_t min_timestamp = 0;
    uint32_t max_timestamp = 0;
    uint64_t max_sequence = 0;  // the largest arrival number of its rows
  };
  // Reads the data of a lazy part: every error is a DataLossError naming
  // the file and section. Called with no lock of the part held.
  using Loader = std::function<absl::StatusOr<PartData>()>;
  // Reads one user's rows of a lazy part without its other rows (a file
  // that can seek them: part format version 3): DataLossError as Loader.
  using UserReader = std::function<absl::StatusOr<UserRows>(uint32_t user)>;
  // Reads the timestamp, feature and user columns of a lazy part alone (the
  // others left empty), for user_ordered_rows(): DataLossError as Loader.
  using ColumnsReader = std::function<absl::StatusOr<PartColumns>()>;

 private:
  struct Unpin {
    void operator()(const Part* part) const;  // part->unpin()
  };

 public:
  // Holds a part's data in memory (a lazy part cannot be evicted while
  // pinned). Move-only; an empty Pin holds nothing. It does not own the
  // Part: whoever pins keeps the Part alive (its shared_ptr) until the Pin
  // is gone.
  using Pin = Handle<Part, Unpin>;

  // A resident part. REQUIRES: columns sorted by the sorting key, all of
  // equal length >= 1, indexes built from them, every timestamp in month
  // `month` (yyyymm).
  Part(uint64_t id, uint32_t month, PartColumns columns, PartIndexes indexes);
  // A lazy part: `summary` from its file's footer, `loader` reads the rest,
  // `cache` (not null) accounts its bytes while loaded.
  // `user_reader`, when given, serves read_user() while the part is not loaded;
  // `columns_reader`, when given, user_ordered_rows() (else `loader`).
  Part(uint64_t id, uint32_t month, const Summary& summary, Loader loader, std::shared_ptr<PartCache> cache,
       UserReader user_reader = nullptr, ColumnsReader columns_reader = nullptr);
  Part(const Part&) = delete;
  Part& operator=(const Part&) = delete;
  ~Part();

  uint64_t id() const { return id_; }
  uint32_t month() const { return month_; }
  uint32_t rows() const { return summary_.rows; }
  uint32_t min_timestamp() const { return summary_.min_timestamp; }
  uint32_t max_timestamp() const { return summary_.max_timestamp; }
  uint64_t max_sequence() const { return summary_.max_sequence; }

  // Loads the data if it is not in memory and holds it there while the Pin
  // lives. A resident part's pin() always succeeds.
  absl::StatusOr<Pin> pin() const ABSL_LOCKS_EXCLUDED(mu_);
  // Pins each of `parts` into `pins`; stops at the first that cannot be
  // read (its error; *failed, when given, is its id).
  static absl::Status pin_all(std::span<const std::shared_ptr<const Part>> parts, std::vector<Pin>* pins,
                              uint64_t* failed = nullptr);
  // Whether the data is in memory now (always, for a resident part).
  bool loaded() const { return data_.load(std::memory_order_acquire) != nullptr; }
  bool lazy() const { return loader_ != nullptr; }
  // Whether read_user() can read one user's rows of this lazy part without
  // loading it: it has a UserReader and is not in memory now.
  bool reads_users_alone() const { return user_reader_ != nullptr && !loaded(); }
  // One user's rows read from the file alone (only the blocks holding them,
  // nothing kept: the cache is not involved). REQUIRES: a UserReader.
  absl::StatusOr<UserRows> read_user(uint32_t user) const { return user_reader_(user); }

  // The part's rows by user (lib/table/user_ordered_rows.h: each row's
  // timestamp and feature, 4 bytes): for a question about a few users of
  // many parts. Built from the part's data on first use (pinning it, read
  // from the file if need be) and kept in the PartCache's budget on its own
  // (a charge, ChargedMemory): it stays after the part's data is evicted,
  // until the cache drops it in turn, least recently used first, when no
  // caller holds it. Null for a resident part (its user index serves) and
  // when the rows do not pack in 32 bits. DataLossError as pin().
  absl::StatusOr<std::shared_ptr<const UserOrderedRows>> user_ordered_rows() const ABSL_LOCKS_EXCLUDED(mu_);

  // REQUIRES: a Pin of this part is alive (or the part is resident).
  const PartColumns& columns() const { return data().columns; }
  const PartIndexes& indexes() const { return data().indexes; }

  // Rows whose timestamp is in [begin, end) seconds (binary search).
  RowRange time_range(int64_t begin, int64_t end) const;

  // Rows of one user, ascending; empty when the part has none.
  std::span<const uint32_t> user_rows(uint32_t code) const { return indexes().user.rows(code); }
  // Rows of one feature / version; nullptr when the part has none.
  const Bitmap* feature_rows(uint32_t code) const { return find(indexes().feature, code); }
  const Bitmap* version_rows(uint32_t code) const { return find(indexes().version, code); }

  std::string_view metadata(uint32_t row) const { return columns().metadata_values.at(columns().metadata[row]); }
  std::string_view event_id(uint32_t row) const { return columns().event_id.at(row); }
  uint64_t sequence(uint32_t row) const { return columns().sequence.at(row); }

  // Heap bytes held by columns and indexes (0 for a lazy part not loaded)
  // and by the rows by user (user_ordered_rows()) while kept.
  size_t memory_bytes() const;
  static size_t memory_bytes(const PartData& data);

 private:
  friend class PartCache;
  static const Bitmap* find(const BitmapIndex& index, uint32_t code) {
    auto it = index.find(code);
    return it == index.end() ? nullptr : &it->second;
  }
  const PartData& data() const {
    const PartData* d = data_.load(std::memory_order_acquire);
    return d != nullptr ? *d : load_for_good();
  }
  // The safety net of columns() (see the top of this file).
  const PartData& load_for_good() const;
  void unpin() const ABSL_LOCKS_EXCLUDED(mu_);
  // Drops the data when no Pin holds it; the bytes freed (0 if pinned).
  size_t evict() const ABSL_LOCKS_EXCLUDED(mu_);

  // What the cache drops of user_ordered_rows() (the part's own data is
  // evicted through evict()).
  class UserRowsMemory final : public ChargedMemory {
   public:
    explicit UserRowsMemory(const Part* part) : part_(part) {}
    size_t drop_charged(bool all) const override;

   private:
    const Part* const part_;
  };

  const uint64_t id_;
  const uint32_t month_;
  const Summary summary_;
  const Loader loader_;                    // null: resident
  const UserReader user_reader_;           // null: none
  const ColumnsReader columns_reader_;     // null: none
  const std::shared_ptr<PartCache> cache_;  // null: resident
  mutable Mutex mu_;
  mutable std::unique_ptr<const PartData> owned_ ABSL_GUARDED_BY(mu_);
  mutable uint32_t pins_ ABSL_GUARDED_BY(mu_) = 0;
  mutable std::atomic<const PartData*> data_{nullptr};  // owned_.get()
  const UserRowsMemory user_rows_memory_{this};
  mutable std::shared_ptr<const UserOrderedRows> user_rows_ ABSL_GUARDED_BY(mu_);
  mutable bool user_rows_unpacked_ ABSL_GUARDED_BY(mu_) = false;  // build() said no
};

// The loaded lazy parts of a store and their bytes, least recently loaded
// or pinned first: when they exceed the budget, the oldest unpinned ones
// are evicted (their next use reads the file again). Pinned parts are never
// evicted, so the bytes may exceed the budget while queries hold them.
//
// Other memory read from the store's files on first use (the sections of
// lazy rollups) is charged to the same budget by its owner (charge()) and
// takes its place in the same order (by its last charge or touch()): when
// the parts and charges exceed the budget, what the charges' owners have
// not used lately goes first (oldest owner first), then the oldest of the
// parts and charges that nothing holds (a charge through
// ChargedMemory::drop_charged: a rollup's sections that a query running now
// asked for stay).
// Thread-safe. Lock order: the cache, then a part or a charge's owner.
class PartCache {
 public:
  // 0: no budget (nothing is evicted).
  explicit PartCache(size_t budget_bytes) : budget_(budget_bytes) {}
  PartCache(const PartCache&) = delete;
  PartCache& operator=(const PartCache&) = delete;

  size_t budget() const { return budget_; }
  // Bytes of the loaded lazy parts.
  size_t bytes() const ABSL_LOCKS_EXCLUDED(mu_);
  // Bytes charged by others (charge()).
  size_t charged() const ABSL_LOCKS_EXCLUDED(mu_);
  // Adds `bytes` (negative: gives them back; nothing below zero) to what
  // `owner` holds within the budget; a positive charge makes it the newest
  // use. Then evicts or drops the oldest over the budget (not `owner`,
  // unless it lets go). Not under a lock owner->drop_charged() takes.
  void charge(const ChargedMemory* owner, int64_t bytes) ABSL_LOCKS_EXCLUDED(mu_);
  // `owner`'s memory was used again: it becomes the newest use.
  void touch(const ChargedMemory* owner) ABSL_LOCKS_EXCLUDED(mu_);
  // `owner` is being destroyed: what it charged is given back (first in
  // its destructor: the cache may be dropping it on another thread).
  void forget(const ChargedMemory* owner) ABSL_LOCKS_EXCLUDED(mu_);
  // Evicts the oldest unpinned parts and drops the oldest charges nothing
  // holds while over the budget (a holder that lets go calls it).
  void trim() ABSL_LOCKS_EXCLUDED(mu_);
  uint64_t loads() const { return loads_.load(std::memory_order_relaxed); }
  uint64_t evictions() const { return evictions_.load(std::memory_order_relaxed); }
  // How many times a charge was dropped.
  uint64_t drops() const { return drops_.load(std::memory_order_relaxed); }

 private:
  friend class Part;
  // A loaded part, or the memory of a charge's owner (exactly one).
  struct Entry {
    const Part* part;
    const ChargedMemory* owner;
    size_t bytes;
  };
  // `part` was loaded (`bytes` > 0) or pinned again (0): it moves to the
  // newest end; then evicts over the budget.
  void used(const Part* part, size_t bytes) ABSL_LOCKS_EXCLUDED(mu_);
  void trim_locked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // `part` is being destroyed, or dropped its data (bytes it held).
  void forget(const Part* part) ABSL_LOCKS_EXCLUDED(mu_);
  // The entry of `owner`, or end().
  std::vector<Entry>::iterator find_owner(const ChargedMemory* owner) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const size_t budget_;
  mutable Mutex mu_;
  std::vector<Entry> entries_ ABSL_GUARDED_BY(mu_);  // oldest use first
  size_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
  size_t charged_ ABSL_GUARDED_BY(mu_) = 0;
  std::atomic<uint64_t> loads_{0};
  std::atomic<uint64_t> evictions_{0};
  std::atomic<uint64_t> drops_{0};
};

}  // namespace usagedb

#endif  // USAGEDB_TABLE_PART_H_
