#include "lib/rollup/rollup_cache.h"

#include <algorithm>

namespace usagedb {

namespace {

std::vector<uint64_t> serials_of(std::span<const PartitionRollup* const> rollups) {
  std::vector<uint64_t> serials;
  serials.reserve(rollups.size());
  for (const PartitionRollup* r : rollups) serials.push_back(r->serial());
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
  // Merged outside the lock: concurrent requests for other months go on.
  auto cells = std::make_shared<const std::vector<FvCell>>(merge_summaries(rollups));
  size_t bytes = cells->capacity() * sizeof(FvCell);
  for (const FvCell& c : *cells) bytes += c.users.memory_bytes() + c.sessions.memory_bytes();
  MutexLock lock(&mu_);
  auto same = std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.serials == serials; });
  if (same != entries_.end()) entries_.erase(same);
  if (entries_.size() >= kEntries) entries_.erase(entries_.begin());
  entries_.push_back(Entry{std::move(serials), cells, bytes});
  return cells;
}

size_t RollupCache::memory_bytes() const {
  MutexLock lock(&mu_);
  size_t n = 0;
  for (const Entry& e : entries_) n += e.bytes;
  return n;
}

}  // namespace usagedb
