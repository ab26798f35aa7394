// radix_sort: sorts unsigned integer keys (uint32_t or uint64_t) ascending,
// least significant byte first, skipping the bytes every key shares. The
// rollup build sorts many (feature << 32 | user) pairs and session codes:
// their keys differ in 3-4 bytes, so a sort is 3-4 counting passes instead
// of std::sort's ~log2(n) comparisons per key with unpredictable branches.
//
//   std::vector<uint64_t> keys = ..., scratch;
//   radix_sort(std::span<uint64_t>(keys), scratch);
//
// Thread-safety: pure (the caller owns both buffers).
#ifndef USAGEDB_UTIL_RADIX_SORT_H_
#define USAGEDB_UTIL_RADIX_SORT_H_

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

namespace usagedb {

// Sorts `keys` ascending; `scratch` is resized to keys.size() and its
// contents are unspecified afterwards (keep it to reuse its memory).
// `sorted_low_bytes`: the keys are in ascending order of their lowest
// that many bytes already (a row number packed below the sort key, say),
// so those bytes need no pass: each pass is stable, and the passes over
// the higher bytes keep that order among keys equal above them.
// REQUIRES: keys.size() < 2^32.
template <typename T>
void radix_sort(std::span<T> keys, std::vector<T>& scratch, unsigned sorted_low_bytes = 0) {
  static_assert(std::is_same_v<T, uint32_t> || std::is_same_v<T, uint64_t>);
  const size_t n = keys.size();
  // Below this, a comparison sort does less work than the counting passes.
  constexpr size_t kSmall = 64;
  if (n < kSmall) {
    // Sorting whole keys orders equal high bytes by their low ones, the
    // order they were in: the same result.
    std::sort(keys.begin(), keys.end());
    return;
  }
  // The bytes where keys differ: the others need no pass. Keys already in
  // order need none at all (a rollup's coarser timeline levels re-sort the
  // users of finer cells, which a bucket of one finer cell, or a part's rows
  // of one hour in one key, hand over sorted).
  T all_or = 0, all_and = ~T{0};
  size_t descents = 0;
  T previous = 0;
  for (const T k : keys) {
    all_or |= k;
    all_and &= k;
    descents += k < previous;
    previous = k;
  }
  const T differing = all_or ^ all_and;
  if (differing == 0 || descents == 0) return;
  scratch.resize(n);
  T* src = keys.data();
  T* dst = scratch.data();
  for (unsigned shift = 8 * sorted_low_bytes; shift < 8 * sizeof(T); shift += 8) {
    if (((differing >> shift) & 0xFF) == 0) continue;
    std::array<uint32_t, 256> count{};
    for (size_t i = 0; i < n; ++i) ++count[(src[i] >> shift) & 0xFF];
    uint32_t sum = 0;
    for (uint32_t& c : count) sum += std::exchange(c, sum);
    for (size_t i = 0; i < n; ++i) dst[count[(src[i] >> shift) & 0xFF]++] = src[i];
    std::swap(src, dst);
  }
  if (src != keys.data()) std::memcpy(keys.data(), src, n * sizeof(T));
}

}  // namespace usagedb

#endif  // USAGEDB_UTIL_RADIX_SORT_H_
