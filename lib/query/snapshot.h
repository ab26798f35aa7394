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
// A query holds each part while it reads the part's columns or indexes,
// part by part (or a partition's parts at a time), so that a question over
// the year never holds more than a partition beyond the cache's budget:
//
//   for (const auto& part : partition.parts()) {
//     const HeldPart held = snapshot.hold(*part);  // a lazy part is read now
//     if (!held) continue;                         // damaged: see status()
//     ... part->columns() ...                      // valid while `held` lives
//   }                                              // evictable again
//
// The rollups a snapshot shows are held while it (or a copy) lives
// (PartitionRollup::hold): the sections a query reads stay in memory until
// it ends, and the store's cache may drop them after.
//
// Nothing read from a held part may outlive the HeldPart (copy what is kept:
// codes, counts, strings). snapshot.pin(part) instead holds the part until
// the snapshot and its copies are gone (a part several passes of a query
// come back to). A part whose file turns out damaged is skipped and its
// DataLossError kept in status(), which the store returns instead of the
// query's answer (EventStoreImpl).
//
// Thread-safety: Version and Snapshot are immutable once built; pin() is
// thread-safe.
#ifndef USAGEDB_QUERY_SNAPSHOT_H_
#define USAGEDB_QUERY_SNAPSHOT_H_

#include <algorithm>
#include <cstdint>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "lib/rollup/partition_rollup.h"
#include "lib/rollup/rollup_cache.h"
#include "lib/rollup/rollup_set.h"
#include "lib/table/append_buffer.h"
#include "lib/table/dictionaries.h"
#include "lib/table/part.h"
#include "lib/table/row.h"
#include "lib/util/mutex.h"

namespace usagedb {

struct PartitionState {
  uint32_t month = 0;                                       // yyyymm
  std::vector<std::shared_ptr<const Part>> parts;
  std::vector<std::shared_ptr<const AppendBuffer>> sealing;  // full, becoming parts
  std::shared_ptr<const AppendBuffer> buffer;               // never null
  // The partition's rollups and the parts each holds (lib/rollup/rollup_set.h).
  RollupSet rollups;
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
  // Sealing buffers, then the active one: inline (a query makes one view a
  // month, and allocated each was a cold malloc a month in a one-user look-up).
  absl::InlinedVector<BufferView, 2> buffers;

  uint32_t month() const { return state->month; }
  const std::vector<std::shared_ptr<const Part>>& parts() const { return state->parts; }
  // Every rollup of the partition: together they hold exactly the rows of
  // the parts covered() accepts. A query that answers from them reads every
  // one (combining their cells) and scans the other parts and the buffers.
  const RollupSet& rollups() const { return state->rollups; }
  // Whether one of rollups() holds the rows of `part`.
  bool covered(const Part& part) const { return state->rollups.covers(part.id()); }
  // The rollup holding the rows of `part`, or null.
  const PartitionRollup* rollup_of(const Part& part) const { return state->rollups.rollup_of(part.id()); }
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

// A part held in memory while this lives (Snapshot::hold): false when the
// part could not be read. Move-only.
class HeldPart {
 public:
  HeldPart() = default;
  HeldPart(HeldPart&&) = default;
  HeldPart& operator=(HeldPart&&) = default;
  explicit operator bool() const { return ok_; }

 private:
  friend class Snapshot;
  HeldPart(bool ok, Part::Pin pin) : ok_(ok), pin_(std::move(pin)) {}
  bool ok_ = false;
  Part::Pin pin_;
};

class Snapshot {
 public:
  Snapshot(const Dictionaries* dictionaries, std::shared_ptr<const Version> version,
           RollupCache* rollup_cache = nullptr)
      : dictionaries_(dictionaries), version_(std::move(version)), rollup_cache_(rollup_cache) {
    partitions_.reserve(version_->partitions.size());
    size_t rollups = 0;
    for (const PartitionState& p : version_->partitions) rollups += p.rollups.size();
    for (const PartitionState& p : version_->partitions) {
      const PartitionState* state = &p;
      if (std::any_of(p.rollups.entries().begin(), p.rollups.entries().end(),
                      [](const CoveredRollup& e) { return e.rollup->damaged(); })) {
        // A rollup that could not read a section is left out: its parts
        // answer instead (as a rollup file found damaged on open).
        auto copy = std::make_unique<PartitionState>(p);
        for (const CoveredRollup& e : p.rollups.entries()) {
          if (e.rollup->damaged()) copy->rollups.remove_parts(e.parts);
        }
        state = copy.get();
        if (!without_damaged_) without_damaged_ = std::make_shared<std::vector<std::unique_ptr<PartitionState>>>();
        without_damaged_->push_back(std::move(copy));
      }
      // Its rollups' sections are kept while the query runs; a rollup
      // without a budget holds them anyway (an empty Hold).
      for (const CoveredRollup& e : state->rollups.entries()) {
        PartitionRollup::Hold hold = e.rollup->hold();
        if (!hold) continue;
        if (!rollup_holds_) {
          rollup_holds_ = std::make_shared<RollupHolds>();
          rollup_holds_->version = version_;
          rollup_holds_->holds.reserve(rollups);
        }
        rollup_holds_->holds.push_back(std::move(hold));
      }
      PartitionView view{state, {}};
      for (const auto& b : p.sealing) view.buffers.push_back(BufferView{b.get(), b->published_rows()});
      view.buffers.push_back(BufferView{p.buffer.get(), p.buffer->published_rows()});
      partitions_.push_back(std::move(view));
    }
  }

  // Holds `part`'s data in memory for as long as this snapshot (or a copy)
  // lives, reading it first if needed; false when the part's file is
  // damaged (status() says how). hold() is the way to read a part; pin() is
  // for the few that a query reads in passes far apart (every part pinned
  // this way stays past the cache's budget until the query ends).
  bool pin(const Part& part) const {
    if (!part.lazy()) return true;
    {
      MutexLock l(&pins_->mu);
      if (pins_->parts.contains(&part)) return true;
    }
    absl::StatusOr<Part::Pin> pin = part.pin();
    MutexLock l(&pins_->mu);
    if (!pin.ok()) {
      if (pins_->error.ok()) pins_->error = pin.status();
      return false;
    }
    if (pins_->parts.insert(&part).second) pins_->pins.push_back(*std::move(pin));
    return true;
  }
  // Holds `part`'s data in memory while the HeldPart lives (reading it
  // first if needed); a false HeldPart when the part's file is damaged
  // (status() says how). A part this snapshot pin()ned is held already.
  HeldPart hold(const Part& part) const {
    if (!part.lazy()) return HeldPart(true, Part::Pin());
    {
      MutexLock l(&pins_->mu);
      if (pins_->parts.contains(&part)) return HeldPart(true, Part::Pin());
    }
    absl::StatusOr<Part::Pin> pin = part.pin();
    if (!pin.ok()) {
      MutexLock l(&pins_->mu);
      if (pins_->error.ok()) pins_->error = pin.status();
      return HeldPart();
    }
    return HeldPart(true, *std::move(pin));
  }
  // Whether a rollup this snapshot shows turned out damaged (a section
  // read as empty while the query ran): the query must be asked again of a
  // new snapshot, which leaves that rollup out.
  bool read_damaged_rollup() const {
    for (const PartitionView& p : partitions_) {
      for (const CoveredRollup& e : p.rollups().entries()) {
        if (e.rollup->damaged()) return true;
      }
    }
    return false;
  }
  // One user's rows of `part` into *out. A lazy part not in memory whose
  // file can seek users is not pinned: only the blocks holding the rows are
  // read (Part::read_user); other parts are pinned and their columns read.
  // False, with the error kept in status(), when the file is damaged.
  bool user_rows(const Part& part, uint32_t user, UserRows* out) const {
    if (part.lazy() && part.reads_users_alone()) {
      absl::StatusOr<UserRows> rows = part.read_user(user);
      if (!rows.ok()) {
        MutexLock l(&pins_->mu);
        if (pins_->error.ok()) pins_->error = rows.status();
        return false;
      }
      *out = *std::move(rows);
      return true;
    }
    const HeldPart held = hold(part);
    if (!held) return false;
    const PartColumns& c = part.columns();
    const std::span<const uint32_t> rows = part.user_rows(user);
    out->timestamp.resize(rows.size());
    out->feature.resize(rows.size());
    out->version.resize(rows.size());
    for (size_t i = 0; i < rows.size(); ++i) {
      out->timestamp[i] = c.timestamp[rows[i]];
      out->feature[i] = c.feature[rows[i]];
      out->version[i] = c.version[rows[i]];
    }
    return true;
  }
  // OK, or the error of the first part pin() could not read.
  absl::Status status() const {
    MutexLock l(&pins_->mu);
    return pins_->error;
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
  // The partitions whose damaged rollups partitions_ leaves out (null when
  // none is damaged).
  std::shared_ptr<std::vector<std::unique_ptr<PartitionState>>> without_damaged_;
  // The rollups shown, held until the snapshot and its copies are gone;
  // with the version that keeps them alive until then (let go after them).
  // Null while no rollup has a budget to hold against (an in-memory store's
  // rollups hold nothing): a snapshot then allocates nothing for them.
  struct RollupHolds {
    std::shared_ptr<const Version> version;
    std::vector<PartitionRollup::Hold> holds;
  };
  std::shared_ptr<RollupHolds> rollup_holds_;
  struct Pins {
    Mutex mu;
    absl::flat_hash_set<const Part*> parts ABSL_GUARDED_BY(mu);
    std::vector<Part::Pin> pins ABSL_GUARDED_BY(mu);
    absl::Status error ABSL_GUARDED_BY(mu);
  };
  std::shared_ptr<Pins> pins_ = std::make_shared<Pins>();
};

}  // namespace usagedb

#endif  // USAGEDB_QUERY_SNAPSHOT_H_
