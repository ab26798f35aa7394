#include "lib/table/user_ordered_rows.h"

#include <algorithm>
#include <bit>

#include "absl/container/flat_hash_map.h"

#include "lib/table/part.h"

namespace usagedb {

std::unique_ptr<const UserOrderedRows> UserOrderedRows::build(const PartColumns& c) {
  const std::vector<uint32_t>& ts = c.timestamp;
  const size_t n = ts.size();
  if (n == 0) return nullptr;
  uint32_t max_feature = 0;
  for (const uint32_t f : c.feature) max_feature = std::max(max_feature, f);
  const auto feature_bits = static_cast<uint32_t>(std::bit_width(max_feature));
  const auto [first, last] = std::minmax_element(ts.begin(), ts.end());
  const auto time_bits = static_cast<uint32_t>(std::bit_width(*last - *first));
  if (feature_bits >= 32 || feature_bits + time_bits > 32) return nullptr;

  std::unique_ptr<UserOrderedRows> r(new UserOrderedRows());
  r->base_timestamp_ = *first;
  r->feature_bits_ = feature_bits;
  r->feature_mask_ = (uint32_t{1} << feature_bits) - 1;
  r->feature_counts_.assign(size_t{max_feature} + 1, 0);
  for (const uint32_t f : c.feature) ++r->feature_counts_[f];
  const auto pack = [&](uint32_t row) { return ((ts[row] - r->base_timestamp_) << feature_bits) | c.feature[row]; };

  // A counting sort of the rows by user, from the user column alone: the
  // rows read in order, each written at its user's next place.
  const std::vector<uint32_t>& user = c.user;
  const auto [lo_it, hi_it] = std::minmax_element(user.begin(), user.end());
  const uint32_t lo = *lo_it;
  const uint64_t span = uint64_t{*hi_it} - lo + 1;
  r->values_.resize(n);
  if (span <= 4 * uint64_t{n} + 65536) {
    std::vector<uint32_t> next(span, 0);  // by code - lo: rows, then places
    for (const uint32_t u : user) ++next[u - lo];
    r->starts_.push_back(0);
    for (uint64_t i = 0; i < span; ++i) {
      if (next[i] == 0) continue;
      const uint32_t count = next[i];
      next[i] = r->starts_.back();
      r->users_.push_back(static_cast<uint32_t>(lo + i));
      r->starts_.push_back(r->starts_.back() + count);
    }
    for (uint32_t row = 0; row < n; ++row) r->values_[next[user[row] - lo]++] = pack(row);
  } else {
    // Codes too far apart for a table by code: a table by user.
    absl::flat_hash_map<uint32_t, uint32_t> next;
    for (const uint32_t u : user) ++next[u];
    for (const auto& [code, count] : next) r->users_.push_back(code);
    std::sort(r->users_.begin(), r->users_.end());
    r->starts_.push_back(0);
    for (const uint32_t code : r->users_) {
      uint32_t& place = next[code];
      const uint32_t count = place;
      place = r->starts_.back();
      r->starts_.push_back(r->starts_.back() + count);
    }
    for (uint32_t row = 0; row < n; ++row) r->values_[next[user[row]]++] = pack(row);
  }
  return r;
}

size_t UserOrderedRows::memory_bytes() const {
  return sizeof(UserOrderedRows) +
         (users_.capacity() + starts_.capacity() + values_.capacity() + feature_counts_.capacity()) * sizeof(uint32_t);
}

}  // namespace usagedb
