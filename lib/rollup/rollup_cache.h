// RollupCache: the summary groups of several months merged, kept for the
// next request over the same months.
//
// A summary over a year covers the rollups of twelve partitions; merging
// their (feature, version) user and session bitmaps touches every distinct
// (user, feature, version, month) of the year, tens of milliseconds on 10M
// events. The cache keeps the last few merges, keyed by the serials of the
// rollups merged (a rollup never changes: a key is exact for as long as it
// can be found). While writes go on, a partition gains rollups (one per new
// part) and loses the ones its merges replace; a query then takes the
// cached merge of the largest subset of its rollups (find_subset) and adds
// the few others itself, and the background thread merges the new set
// (warms the cache) now and then.
//
// The stored summary: the merged summary of every part of a durable store,
// as counts (no bitmaps), which a checkpoint writes (lib/storage/
// summary_file.h) and a new process reads with its MANIFEST, so that a year
// summary over exactly those parts and nothing else (the CLI's, the
// dashboard's) reads neither rollup bitmaps nor merges them (issue 15).
//
// Thread-safety: safe for concurrent use.
#ifndef USAGEDB_ROLLUP_ROLLUP_CACHE_H_
#define USAGEDB_ROLLUP_ROLLUP_CACHE_H_

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "lib/rollup/partition_rollup.h"
#include "lib/util/mutex.h"

namespace usagedb {

// One (feature, version) group of a stored summary: FvCell with the
// cardinalities of its bitmaps.
struct SummaryCount {
  uint32_t feature = 0;
  uint32_t version = 0;
  uint64_t events = 0;
  uint32_t first = 0;
  uint32_t last = 0;
  uint64_t users = 0;
  uint64_t sessions = 0;
  friend bool operator==(const SummaryCount&, const SummaryCount&) = default;
};

// The summary of every row of `parts` (ascending ids), by (feature,
// version).
struct StoredSummary {
  std::vector<uint64_t> parts;
  std::vector<SummaryCount> cells;  // ascending by (feature, version)
};

// The counts of `cells` (a merged or single rollup's summary).
std::vector<SummaryCount> count_summary(std::span<const FvCell> cells);

class RollupCache {
 public:
  // The stored summary, or null.
  std::shared_ptr<const StoredSummary> stored() const ABSL_LOCKS_EXCLUDED(mu_);
  void set_stored(std::shared_ptr<const StoredSummary> stored) ABSL_LOCKS_EXCLUDED(mu_);

  // The merged summary of `rollups` (ascending by month, at least two).
  std::shared_ptr<const std::vector<FvCell>> summary(std::span<const PartitionRollup* const> rollups)
      ABSL_LOCKS_EXCLUDED(mu_);
  // The cached merge of `rollups`, or null (nothing is merged).
  std::shared_ptr<const std::vector<FvCell>> find(std::span<const PartitionRollup* const> rollups)
      ABSL_LOCKS_EXCLUDED(mu_);

  // The cached merge of the subset of `rollups` holding the most rows, with
  // `in_subset[i]` true for the rollups[i] it holds; null (and no change to
  // `in_subset`) when no cached merge is a subset.
  struct Subset {
    std::shared_ptr<const std::vector<FvCell>> cells;
    uint64_t rows = 0;
  };
  Subset find_subset(std::span<const PartitionRollup* const> rollups, std::vector<bool>* in_subset)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Heap bytes held by the cached merges (approximate).
  size_t memory_bytes() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  static constexpr size_t kEntries = 4;
  struct Entry {
    std::vector<uint64_t> serials;  // ascending
    std::shared_ptr<const std::vector<FvCell>> cells;
    uint64_t rows = 0;
    size_t bytes = 0;
  };

  mutable Mutex mu_;
  std::vector<Entry> entries_ ABSL_GUARDED_BY(mu_);  // most recently used last
  std::shared_ptr<const StoredSummary> stored_ ABSL_GUARDED_BY(mu_);
};

}  // namespace usagedb

#endif  // USAGEDB_ROLLUP_ROLLUP_CACHE_H_
