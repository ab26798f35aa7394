// RollupCache: the summary groups of several months merged, kept for the
// next request over the same months.
//
// A summary over a year covers twelve partition rollups; merging their
// (feature, version) user and session bitmaps touches every distinct
// (user, feature, version, month) of the year, tens of milliseconds on 10M
// events. The cache keeps the last few merges, keyed by the serials of the
// rollups merged, so a key never matches once any of them is replaced: an
// entry is exact for as long as it can be found. The background thread
// warms the entry of all partitions after it refreshes rollups.
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

class RollupCache {
 public:
  // The merged summary of `rollups` (ascending by month, at least two).
  std::shared_ptr<const std::vector<FvCell>> summary(std::span<const PartitionRollup* const> rollups)
      ABSL_LOCKS_EXCLUDED(mu_);
  // The cached merge of `rollups`, or null (nothing is merged).
  std::shared_ptr<const std::vector<FvCell>> find(std::span<const PartitionRollup* const> rollups)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Heap bytes held by the cached merges (approximate).
  size_t memory_bytes() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  static constexpr size_t kEntries = 4;
  struct Entry {
    std::vector<uint64_t> serials;
    std::shared_ptr<const std::vector<FvCell>> cells;
    size_t bytes = 0;
  };

  mutable Mutex mu_;
  std::vector<Entry> entries_ ABSL_GUARDED_BY(mu_);  // most recently used last
};

}  // namespace usagedb

#endif  // USAGEDB_ROLLUP_ROLLUP_CACHE_H_
