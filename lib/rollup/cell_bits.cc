#include "lib/rollup/cell_bits.h"

#include <algorithm>

namespace usagedb {

std::span<const uint64_t> CellBits::of(uint32_t index) const {
  const auto it = std::lower_bound(cells.begin(), cells.end(), index);
  if (it == cells.end() || *it != index) return {};
  const auto k = static_cast<size_t>(it - cells.begin());
  return std::span<const uint64_t>(bits).subspan(starts[k], starts[k + 1] - starts[k]);
}

CellBits CellBits::cut_cells(const TimelineLevel& level, int64_t begin, int64_t end, int64_t length) {
  CellBits b;
  for (uint32_t i = 0; i < level.cells.size(); ++i) {
    const TimelineCell& c = level.cells[i];
    if (c.users_begin == c.users_end) continue;
    if (c.bucket >= begin && c.bucket + length <= end) continue;
    const size_t words = static_cast<size_t>(level.user_codes[c.users_end - 1]) / 64 + 1;  // ascending
    if (words * sizeof(uint64_t) > size_t{c.users_end - c.users_begin} * kMaxBitsPerEntry) continue;
    b.cells.push_back(i);
    b.starts.push_back(b.starts.back() + words);
  }
  b.bits.assign(b.starts.back(), 0);
  for (size_t k = 0; k < b.cells.size(); ++k) {
    uint64_t* set = &b.bits[b.starts[k]];
    for (const uint32_t user : level.users(level.cells[b.cells[k]])) set[user / 64] |= uint64_t{1} << (user % 64);
  }
  return b;
}

}  // namespace usagedb
