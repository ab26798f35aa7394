#include "lib/rollup/rollup_set.h"

#include <algorithm>
#include <utility>

namespace usagedb {

bool RollupSet::covers(uint64_t id) const { return std::binary_search(covered_.begin(), covered_.end(), id); }

const PartitionRollup* RollupSet::rollup_of(uint64_t id) const {
  if (!covers(id)) return nullptr;
  for (const CoveredRollup& e : entries_) {
    if (std::binary_search(e.parts.begin(), e.parts.end(), id)) return e.rollup.get();
  }
  return nullptr;
}

uint64_t RollupSet::rows() const {
  uint64_t n = 0;
  for (const CoveredRollup& e : entries_) n += e.rollup->rows();
  return n;
}

bool RollupSet::add(std::shared_ptr<const PartitionRollup> rollup, std::vector<uint64_t> parts) {
  if (parts.empty()) parts = rollup->part_ids();
  for (const uint64_t id : parts) {
    if (covers(id)) return false;
  }
  std::vector<uint64_t> merged;
  merged.reserve(covered_.size() + parts.size());
  std::merge(covered_.begin(), covered_.end(), parts.begin(), parts.end(), std::back_inserter(merged));
  covered_ = std::move(merged);
  entries_.push_back(CoveredRollup{std::move(rollup), std::move(parts)});
  return true;
}

bool RollupSet::replace(const PartitionRollup* rollup, std::shared_ptr<const PartitionRollup> with) {
  for (CoveredRollup& e : entries_) {
    if (e.rollup.get() != rollup) continue;
    e.rollup = std::move(with);
    return true;
  }
  return false;
}

size_t RollupSet::remove_parts(std::span<const uint64_t> ids) {
  const size_t before = entries_.size();
  std::erase_if(entries_, [&](const CoveredRollup& e) {
    return std::any_of(ids.begin(), ids.end(),
                       [&](uint64_t id) { return std::binary_search(e.parts.begin(), e.parts.end(), id); });
  });
  if (entries_.size() == before) return 0;
  covered_.clear();
  for (const CoveredRollup& e : entries_) covered_.insert(covered_.end(), e.parts.begin(), e.parts.end());
  std::sort(covered_.begin(), covered_.end());
  return before - entries_.size();
}

void RollupSet::clear() {
  entries_.clear();
  covered_.clear();
}

}  // namespace usagedb
