// RollupSet: the rollups of one partition and the parts each one covers,
// the coverage model every endpoint relies on.
//
// A partition's rollups follow its parts LSM-style: the part that a seal or
// a merge builds gets its own rollup, built by the same background task
// before the part is installed (PartitionRollup::build over that one part,
// so every section of the rollup, present or future, comes with it), and
// the rollups of a merge's inputs leave with the inputs. So a partition
// holds one rollup per part, and the merge policy that keeps its parts few
// keeps its rollups few; a query combines them (bitmap unions, summed
// counts) and scans only the parts no rollup covers and the unsealed rows.
//
// Each entry is a rollup and the ids of the current parts whose rows it
// holds, exactly: no two entries share a part. An entry may cover several
// parts (a rollup file of a store written before per-part rollups, or a
// rollup built over several parts). Whatever rewrites or removes a covered
// part (a merge, delete_user) removes the entries covering it; their other
// parts become uncovered until the background thread (or the next
// checkpoint) builds their rollups. So a query never counts a row twice or
// misses one.
//
// Thread-safety: a value; a Version holds an immutable copy.
#ifndef USAGEDB_ROLLUP_ROLLUP_SET_H_
#define USAGEDB_ROLLUP_ROLLUP_SET_H_

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "lib/rollup/partition_rollup.h"

namespace usagedb {

struct CoveredRollup {
  std::shared_ptr<const PartitionRollup> rollup;
  std::vector<uint64_t> parts;  // ascending; the rollup holds exactly their rows
};

class RollupSet {
 public:
  // The entries, in the order they were added.
  std::span<const CoveredRollup> entries() const { return entries_; }
  bool empty() const { return entries_.empty(); }
  size_t size() const { return entries_.size(); }
  // Whether some entry holds the rows of part `id`.
  bool covers(uint64_t id) const;
  // The rollup holding the rows of part `id`; null when none does. An
  // endpoint that needs a section some rollups lack (one read from an older
  // file) reads the parts of those rollups and answers from the others.
  const PartitionRollup* rollup_of(uint64_t id) const;
  // Rows held by all entries.
  uint64_t rows() const;

  // Adds `rollup` covering `parts` (ascending), or its own part_ids() when
  // `parts` is empty. Returns false, changing nothing, when one of them is
  // covered already.
  bool add(std::shared_ptr<const PartitionRollup> rollup, std::vector<uint64_t> parts = {});
  // Parts `ids` are gone or rewritten: removes every entry covering one of
  // them (its other parts become uncovered). Returns the number removed.
  size_t remove_parts(std::span<const uint64_t> ids);
  // Replaces the entry holding `rollup` by `with` (the same rows: the
  // rollup read back from its file), keeping its parts. Returns false,
  // changing nothing, when no entry holds `rollup`.
  bool replace(const PartitionRollup* rollup, std::shared_ptr<const PartitionRollup> with);
  void clear();

 private:
  std::vector<CoveredRollup> entries_;
  std::vector<uint64_t> covered_;  // every entry's parts, ascending
};

}  // namespace usagedb

#endif  // USAGEDB_ROLLUP_ROLLUP_SET_H_
