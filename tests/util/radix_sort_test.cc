// radix_sort against std::sort on random keys of every shape the rollup
// build gives it: few or many differing bytes, sizes around the comparison
// sort's threshold, duplicates, all keys equal.
#include "lib/util/radix_sort.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "gtest/gtest.h"
#include "lib/gen/random.h"

namespace usagedb {
namespace {

template <typename T>
void check_against_std_sort(gen::Random& random, size_t n, T mask, T base) {
  std::vector<T> keys(n), scratch;
  for (T& k : keys) k = base | (static_cast<T>(random.next()) & mask);
  std::vector<T> expected = keys;
  std::sort(expected.begin(), expected.end());
  radix_sort(std::span<T>(keys), scratch);
  ASSERT_EQ(keys, expected) << "n=" << n << " mask=" << uint64_t{mask} << " base=" << uint64_t{base};
}

TEST(RadixSort, SortsLikeStdSort) {
  gen::Random random(3);
  for (const size_t n : {0, 1, 2, 63, 64, 65, 1000, 50000}) {
    // Pairs as the rollup makes them (feature << 32 | user), sessions, and
    // keys differing in any byte.
    check_against_std_sort<uint64_t>(random, n, (uint64_t{0x3F} << 32) | 0x7FFF, 0);
    check_against_std_sort<uint64_t>(random, n, ~uint64_t{0}, 0);
    check_against_std_sort<uint64_t>(random, n, 0xFF00FF00FF00FF00u, 0x0011001100110011u);
    check_against_std_sort<uint64_t>(random, n, 0x3, uint64_t{1} << 63);  // many duplicates
    check_against_std_sort<uint64_t>(random, n, 0, 12345);                // all equal
    check_against_std_sort<uint32_t>(random, n, 0x3FFFFF, 0);
    check_against_std_sort<uint32_t>(random, n, ~uint32_t{0}, 0);
    check_against_std_sort<uint32_t>(random, n, 0xFF000000u, 0x00ABCDEFu);
  }
}

TEST(RadixSort, SortedAndReversedInputs) {
  std::vector<uint64_t> up(3000), down(3000), scratch;
  for (size_t i = 0; i < up.size(); ++i) {
    up[i] = i * 0x10001;
    down[i] = (up.size() - i) * 0x10001;
  }
  std::vector<uint64_t> expected = up;
  radix_sort(std::span<uint64_t>(up), scratch);
  EXPECT_EQ(up, expected);
  radix_sort(std::span<uint64_t>(down), scratch);
  std::sort(expected.begin(), expected.end());
  for (uint64_t& k : expected) k += 0x10001;
  EXPECT_EQ(down, expected);
}

// Keys already ascending are left as they are (no pass); one key out of
// place anywhere, first or last, and they are sorted.
TEST(RadixSort, AscendingKeysNeedNoPassOneOutOfPlaceIsSorted) {
  gen::Random random(9);
  for (const size_t n : {64, 65, 1000, 50000}) {
    std::vector<uint64_t> keys(n), scratch;
    uint64_t k = 0;
    for (uint64_t& key : keys) key = k += random.uniform(1 << 20);  // ascending, with ties
    const std::vector<uint64_t> sorted = keys;
    radix_sort(std::span<uint64_t>(keys), scratch);
    ASSERT_EQ(keys, sorted) << "n=" << n;
    for (const size_t at : {size_t{0}, n / 2, n - 1}) {
      keys = sorted;
      keys[at] = at == 0 ? sorted.back() + 1 : random.uniform(sorted[at] + 1) / 2;
      std::vector<uint64_t> expected = keys;
      std::sort(expected.begin(), expected.end());
      radix_sort(std::span<uint64_t>(keys), scratch);
      ASSERT_EQ(keys, expected) << "n=" << n << " at=" << at;
    }
  }
}

// Keys whose low bytes are a row number in order (PartBuilder's): the
// passes over the high bytes alone sort them as a full sort does.
TEST(RadixSort, LowBytesAlreadyInOrderNeedNoPass) {
  gen::Random random(5);
  for (const size_t n : {0, 5, 63, 64, 1000, 70000}) {
    for (const unsigned low_bytes : {1u, 3u, 7u}) {
      std::vector<uint64_t> keys(n), scratch;
      const uint64_t low_mask = (uint64_t{1} << (8 * low_bytes)) - 1;
      for (size_t i = 0; i < n; ++i) {
        // Few distinct high parts: many ties, which the row number breaks.
        keys[i] = (random.uniform(50) << (8 * low_bytes)) | (i & low_mask);
      }
      if (n > low_mask + 1) continue;  // row numbers must fit the low bytes
      std::vector<uint64_t> expected = keys;
      std::sort(expected.begin(), expected.end());
      radix_sort(std::span<uint64_t>(keys), scratch, low_bytes);
      ASSERT_EQ(keys, expected) << "n=" << n << " low_bytes=" << low_bytes;
    }
  }
}

}  // namespace
}  // namespace usagedb
