#include "lib/store/part_index.h"

#include <algorithm>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace usagedb {
namespace {

// Groups rows by local id (a counting sort: rows stay ascending within each
// group) and makes one bitmap per group.
BitmapIndex build_from_local(std::span<const uint32_t> local, std::span<const uint32_t> code_of_local) {
  const size_t groups = code_of_local.size();
  std::vector<uint32_t> start(groups + 1, 0);
  for (const uint32_t id : local) ++start[id + 1];
  for (size_t i = 1; i <= groups; ++i) start[i] += start[i - 1];
  std::vector<uint32_t> rows(local.size());
  {
    std::vector<uint32_t> at(start.begin(), start.end() - 1);
    for (uint32_t row = 0; row < local.size(); ++row) rows[at[local[row]]++] = row;
  }
  BitmapIndex index;
  index.reserve(groups);
  for (size_t i = 0; i < groups; ++i) {
    if (start[i] == start[i + 1]) continue;
    Bitmap b = Bitmap::from_strictly_ascending(std::span<const uint32_t>(rows.data() + start[i], start[i + 1] - start[i]));
    b.seal();
    index.emplace(code_of_local[i], std::move(b));
  }
  return index;
}

}  // namespace

BitmapIndex build_bitmap_index(std::span<const uint32_t> column) {
  if (column.empty()) return {};
  const auto [lo, hi] = std::minmax_element(column.begin(), column.end());
  const uint64_t span = uint64_t{*hi} - *lo + 1;
  std::vector<uint32_t> local(column.size());
  std::vector<uint32_t> code_of_local;
  if (span <= 2 * column.size() + 65536) {
    // Dense codes (the usual case: store-wide codes are assigned densely):
    // value - min is the local id, and unused ids make empty groups.
    for (size_t row = 0; row < column.size(); ++row) local[row] = column[row] - *lo;
    code_of_local.resize(span);
    for (uint64_t i = 0; i < span; ++i) code_of_local[i] = static_cast<uint32_t>(*lo + i);
  } else {
    absl::flat_hash_map<uint32_t, uint32_t> id_of;
    for (size_t row = 0; row < column.size(); ++row) {
      auto [it, inserted] = id_of.emplace(column[row], static_cast<uint32_t>(code_of_local.size()));
      if (inserted) code_of_local.push_back(column[row]);
      local[row] = it->second;
    }
  }
  return build_from_local(local, code_of_local);
}

}  // namespace usagedb
