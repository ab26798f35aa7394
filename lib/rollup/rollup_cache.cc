#include "lib/rollup/rollup_cache.h"

#include <algorithm>
#include <utility>

namespace usagedb {

namespace {

std::vector<uint64_t> serials_of(std::span<const PartitionRollup* const> rollups) {
  std::vector<uint64_t> serials;
  serials.reserve(rollups.size());
  for (const PartitionRollup* r : rollups) serials.push_back(r->serial());
  std::sort(serials.begin(), serials.end());
  return serials;
}

}  // namespace

std::shared_ptr<const std::vector<FvCell>> RollupCache::find(std::span<const PartitionRollup* const> rollups) {
  const std::vector<uint64_t> serials = serials_of(rollups);
  MutexLock lock(&mu_);
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (it->serials == serials) {
      std::rotate(it, it + 1, entries_.end());
      return entries_.back().cells;
    }
  }
  return nullptr;
}

std::shared_ptr<const std::vector<FvCell>> RollupCache::summary(std::span<const PartitionRollup* const> rollups) {
  if (auto cached = find(rollups)) return cached;
  std::vector<uint64_t> serials = serials_of(rollups);
  uint64_t rows = 0;
  for (const PartitionRollup* r : rollups) rows += r->rows();
  // Merged outside the lock: concurrent requests for other months go on.
  auto cells = std::make_shared<const std::vector<FvCell>>(merge_summaries(rollups));
  size_t bytes = cells->capacity() * sizeof(FvCell);
  for (const FvCell& c : *cells) bytes += c.users.memory_bytes() + c.sessions.memory_bytes();
  // The entry this one replaces or evicts is freed after the lock is
  // released: a year's merge of a large store holds tens of MB of bitmaps,
  // and readers looking up other merges must not wait for their free.
  Entry dropped;
  {
    MutexLock lock(&mu_);
    auto same = std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.serials == serials; });
    if (same == entries_.end() && entries_.size() >= kEntries) same = entries_.begin();
    if (same != entries_.end()) {
      dropped = std::move(*same);
      entries_.erase(same);
    }
    entries_.push_back(Entry{std::move(serials), cells, rows, bytes});
  }
  return cells;
}

RollupCache::Subset RollupCache::find_subset(std::span<const PartitionRollup* const> rollups,
                                            std::vector<bool>* in_subset) {
  const std::vector<uint64_t> serials = serials_of(rollups);
  // Shared: concurrent queries look their subsets up at the same time.
  ReaderMutexLock lock(&mu_);
  const Entry* best = nullptr;
  for (const Entry& e : entries_) {
    if ((best == nullptr || e.rows > best->rows) &&
        std::includes(serials.begin(), serials.end(), e.serials.begin(), e.serials.end())) {
      best = &e;
    }
  }
  if (best == nullptr) return Subset{};
  in_subset->assign(rollups.size(), false);
  for (size_t i = 0; i < rollups.size(); ++i) {
    (*in_subset)[i] = std::binary_search(best->serials.begin(), best->serials.end(), rollups[i]->serial());
  }
  return Subset{best->cells, best->rows};
}

std::vector<SummaryCount> count_summary(std::span<const FvCell> cells) {
  std::vector<SummaryCount> out;
  out.reserve(cells.size());
  for (const FvCell& c : cells) {
    out.push_back(SummaryCount{c.feature, c.version, c.events, c.first, c.last, c.users.cardinality(),
                               c.sessions.cardinality()});
  }
  return out;
}

std::shared_ptr<const StoredSummary> RollupCache::stored() const {
  ReaderMutexLock lock(&mu_);
  return stored_;
}

void RollupCache::set_stored(std::shared_ptr<const StoredSummary> stored) {
  std::shared_ptr<const StoredSummary> old;
  MutexLock lock(&mu_);
  old = std::exchange(stored_, std::move(stored));
}

size_t RollupCache::memory_bytes() const {
  MutexLock lock(&mu_);
  size_t n = 0;
  for (const Entry& e : entries_) n += e.bytes;
  return n;
}

}  // namespace usagedb
