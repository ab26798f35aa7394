#include "lib/util/huge_array.h"

#include <cstdint>
#include <numeric>

#include "gtest/gtest.h"

namespace usagedb {
namespace {

// Small and large arrays hold what is written to them; a large one starts
// on a huge page boundary (the region madvise(MADV_HUGEPAGE) is given).
TEST(HugeArrayTest, SmallAndLargeArraysHoldTheirValues) {
  for (const size_t n : {size_t{0}, size_t{1}, size_t{1000}, kHugePageBytes / 8 - 1, kHugePageBytes / 8,
                         3 * kHugePageBytes / 8 + 5}) {
    SCOPED_TRACE(n);
    HugeArray<uint64_t> a = allocate_huge_array<uint64_t>(n);
    ASSERT_NE(a, nullptr);
    std::iota(a.get(), a.get() + n, uint64_t{7});
    for (size_t i = 0; i < n; i += 4093) EXPECT_EQ(a[i], 7 + i);
    if (n > 0) EXPECT_EQ(a[n - 1], 7 + n - 1);
    if (n * sizeof(uint64_t) >= kHugePageBytes) {
      EXPECT_EQ(reinterpret_cast<uintptr_t>(a.get()) % kHugePageBytes, 0u);
    }
  }
}

}  // namespace
}  // namespace usagedb
