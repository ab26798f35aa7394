// Version and Snapshot: the consistent view of a store a query reads.
//
// A Version is an immutable list of partitions, each with its sealed parts,
// the full buffers whose parts are being built in the background, and its
// current append buffer. The writer installs a new Version whenever that
// list changes (a partition appears, a buffer fills, a part is built or
// merged). A Snapshot pins one Version and the number of published rows of
// each buffer at the moment the query started, so the query sees exactly the
// events recorded before it, however long it runs and whatever writers do.
//
// Thread-safety: Version and Snapshot are immutable once built.
#ifndef USAGEDB_STORE_SNAPSHOT_H_
#define USAGEDB_STORE_SNAPSHOT_H_

#include <algorithm>
#include <cstdint>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "lib/rollup/partition_rollup.h"
#include "lib/rollup/rollup_cache.h"
#include "lib/store/append_buffer.h"
#include "lib/store/dictionary.h"
#include "lib/store/part.h"
#include "lib/store/row.h"

namespace usagedb {

// The store-wide dictionaries, one per low-cardinality string column.
// Queries look users, features, versions and event types up by string
// (filters), so those are indexed eagerly; sessions are only ever read by
// code, so the session dictionary (the largest by far) builds its hash index
// on the first write after a reopen (Dictionary's "Indexing").
struct Dictionaries {
  Dictionary user{column_name(Column::kUser)};
  Dictionary feature{column_name(Column::kFeature)};
  Dictionary version{column_name(Column::kVersion)};
  Dictionary event_type{column_name(Column::kEventType)};
  Dictionary session{column_name(Column::kSession), Dictionary::Indexing::kLazy};

  Dictionary& get(Column c) { return const_cast<Dictionary&>(std::as_const(*this).get(c)); }
  const Dictionary& get(Column c) const {
    switch (c) {
      case Column::kUser: return user;
      case Column::kFeature: return feature;
      case Column::kVersion: return version;
      case Column::kEventType: return event_type;
      case Column::kSession: return session;
    }
    return user;
  }
};

struct PartitionState {
  uint32_t month = 0;                                       // yyyymm
  std::vector<std::shared_ptr<const Part>> parts;
  std::vector<std::shared_ptr<const AppendBuffer>> sealing;  // full, becoming parts
  std::shared_ptr<const AppendBuffer> buffer;               // never null
  // The partition's rollup (may be null) and the ids of the current parts
  // whose rows it holds, ascending: exactly the rows of those parts.
  std::shared_ptr<const PartitionRollup> rollup;
  std::vector<uint64_t> rollup_parts;
};

struct Version {
  std::vector<PartitionState> partitions;  // ascending by month
};

// Rows [0, rows) of one buffer.
struct BufferView {
  const AppendBuffer* buffer;
  uint32_t rows;
};

// One partition as a query sees it.
struct PartitionView {
  const PartitionState* state;
  std::vector<BufferView> buffers;  // sealing buffers, then the active one

  uint32_t month() const { return state->month; }
  const std::vector<std::shared_ptr<const Part>>& parts() const { return state->parts; }
  const PartitionRollup* rollup() const { return state->rollup.get(); }
  // Whether the rollup holds the rows of `part`.
  bool rolled_up(const Part& part) const {
    return std::binary_search(state->rollup_parts.begin(), state->rollup_parts.end(), part.id());
  }
  uint64_t buffered_rows() const {
    uint64_t n = 0;
    for (const BufferView& b : buffers) n += b.rows;
    return n;
  }
  // Calls f(std::span<const RowCodes>) over every unsealed row.
  template <typename F>
  void for_each_buffered(F&& f) const {
    for (const BufferView& b : buffers) b.buffer->for_each_chunk(b.rows, f);
  }
};

class Snapshot {
 public:
  Snapshot(const Dictionaries* dictionaries, std::shared_ptr<const Version> version,
           RollupCache* rollup_cache = nullptr)
      : dictionaries_(dictionaries), version_(std::move(version)), rollup_cache_(rollup_cache) {
    partitions_.reserve(version_->partitions.size());
    for (const PartitionState& p : version_->partitions) {
      PartitionView view{&p, {}};
      for (const auto& b : p.sealing) view.buffers.push_back(BufferView{b.get(), b->published_rows()});
      view.buffers.push_back(BufferView{p.buffer.get(), p.buffer->published_rows()});
      partitions_.push_back(std::move(view));
    }
  }

  const Dictionaries& dictionaries() const { return *dictionaries_; }
  const std::vector<PartitionView>& partitions() const { return partitions_; }
  // Merged multi-month summaries; null when the store keeps none.
  RollupCache* rollup_cache() const { return rollup_cache_; }

 private:
  const Dictionaries* dictionaries_;
  std::shared_ptr<const Version> version_;
  RollupCache* rollup_cache_;
  std::vector<PartitionView> partitions_;
};

}  // namespace usagedb

#endif  // USAGEDB_STORE_SNAPSHOT_H_
