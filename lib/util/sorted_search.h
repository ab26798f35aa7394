// interpolated_lower_bound: std::lower_bound over ascending, distinct
// uint32_t codes that are nearly dense (a month's user codes in a rollup: most
// of the store's users are active in most months), in a few cache lines
// instead of ~log2(n).
//
// A query about one user looks the user up in every month's rollup. Between
// two runs of it an application asks other questions that evict the lookup's
// cache lines, so each of a binary search's ~15 steps over 20,000 codes was
// a cache miss, times 13 rollups: most of the typical user's CPU in
// bench/live mixed (a few us against 2.6 us when asked alone). Here the
// position is guessed from the code's place between the first and last
// codes, the guess narrowed to the range that distinct codes allow, and the
// bracket found by doubling steps from the guess (a few codes away when the
// gaps are spread evenly), then searched.
//
//   const size_t i = interpolated_lower_bound(codes, code);  // == lower_bound
//   // with the first and last codes kept beside the vector:
//   const size_t j = interpolated_lower_bound(codes, code, first, last);
//
// Thread-safety: pure.
#ifndef USAGEDB_UTIL_SORTED_SEARCH_H_
#define USAGEDB_UTIL_SORTED_SEARCH_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>

namespace usagedb {

// Where interpolated_lower_bound starts: the index in [0, n) whose code is
// guessed nearest `code` from the first and last codes (n >= 1). A caller
// looking a code up in several vectors asks for each guess's cache line
// first (PartitionRollup::users_of), so their misses overlap.
inline size_t interpolated_guess(size_t n, uint32_t code, uint32_t first, uint32_t last) {
  if (n <= 1 || code <= first) return 0;
  if (code >= last) return n - 1;
  return static_cast<size_t>(uint64_t{code - first} * (n - 1) / (uint64_t{last} - first));
}

// The index of the first of `codes` not less than `code` (codes.size() when
// none is): std::lower_bound's answer. REQUIRES: `codes` strictly ascending
// (the guess relies on distinct codes; with duplicates or out of order,
// the answer is some index in [0, codes.size()], read within bounds).
// `first` and `last`: codes.front() and codes.back() (anything when codes is
// empty), kept by the caller beside the vector so that a look-up with the
// codes out of the cache touches one page of them, not three.
inline size_t interpolated_lower_bound(std::span<const uint32_t> codes, uint32_t code, uint32_t first,
                                       uint32_t last) {
  const size_t n = codes.size();
  if (n == 0 || code <= first) return 0;
  if (code > last) return n;
  // Now codes[0] < code <= codes[n - 1] (so n >= 2): the answer is in
  // (0, n - 1]. Distinct codes: codes[i] >= codes[0] + i and
  // codes[i] <= codes[n - 1] - (n - 1 - i), which bound the answer to
  // [n - 1 - (last - code), code - first] within that.
  const size_t low_bound = std::max<size_t>(1, (n - 1) - std::min<size_t>(n - 1, size_t{last} - code));
  const size_t high_bound = std::min<size_t>(n - 1, size_t{code} - first);
  size_t guess = interpolated_guess(n, code, first, last);
  if (low_bound > high_bound || n < 2) {
    // Only when the codes are not distinct (or first and last not theirs).
    return static_cast<size_t>(std::lower_bound(codes.begin(), codes.end(), code) - codes.begin());
  }
  guess = std::clamp(guess, low_bound, high_bound);
  // Bracket the answer: lo < answer <= hi, with codes[lo] < code <= codes[hi]
  // (lo = low_bound - 1 and hi = high_bound always qualify).
  size_t lo, hi;
  if (codes[guess] < code) {
    lo = guess;
    // (guess < high_bound when the codes are distinct; the max keeps codes
    // that are not, a damaged file's, within bounds.)
    hi = std::max(high_bound, lo + 1);
    for (size_t step = 1; lo + step < hi; step *= 2) {
      if (codes[lo + step] >= code) {
        hi = lo + step;
        break;
      }
      lo += step;
    }
  } else {
    hi = guess;
    lo = low_bound - 1;
    for (size_t step = 1; lo + step < hi; step *= 2) {
      if (codes[hi - step] < code) {
        lo = hi - step;
        break;
      }
      hi -= step;
    }
  }
  return static_cast<size_t>(std::lower_bound(codes.begin() + lo + 1, codes.begin() + hi, code) - codes.begin());
}

inline size_t interpolated_lower_bound(std::span<const uint32_t> codes, uint32_t code) {
  return codes.empty() ? 0 : interpolated_lower_bound(codes, code, codes.front(), codes.back());
}

}  // namespace usagedb

#endif  // USAGEDB_UTIL_SORTED_SEARCH_H_
