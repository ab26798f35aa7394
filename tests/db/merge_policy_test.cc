#include "lib/db/merge_policy.h"

#include <algorithm>
#include <vector>

#include "gtest/gtest.h"

namespace usagedb {
namespace {

TEST(MergePolicy, MergesAFullTierSmallestFirst) {
  EXPECT_TRUE(pick_merge(std::vector<uint32_t>{100, 100, 100}, 100).empty());
  std::vector<size_t> pick = pick_merge(std::vector<uint32_t>{100, 5000, 90, 100, 100, 1}, 100);
  std::sort(pick.begin(), pick.end());
  EXPECT_EQ(pick, (std::vector<size_t>{0, 2, 3, 5}));  // tier 0: 1, 90, 100, 100 (one 100 is left)
}

TEST(MergePolicy, HigherTiersMergeWhenFull) {
  // Tier 1 is [400, 1600): four of them merge; the tier-0 part stays.
  std::vector<size_t> pick = pick_merge(std::vector<uint32_t>{400, 500, 50, 1000, 1599}, 100);
  std::sort(pick.begin(), pick.end());
  EXPECT_EQ(pick, (std::vector<size_t>{0, 1, 3, 4}));
  EXPECT_TRUE(pick_merge(std::vector<uint32_t>{400, 1600, 6400, 50}, 100).empty());
}

// Simulates sealing and merging: the number of parts stays logarithmic and
// each row is rewritten a logarithmic number of times.
TEST(MergePolicy, KeepsPartsLogarithmic) {
  std::vector<uint32_t> parts;
  uint64_t written = 0;
  const uint32_t base = 1000;
  for (int seal = 0; seal < 4096; ++seal) {
    parts.push_back(base);
    written += base;
    for (auto pick = pick_merge(parts, base); !pick.empty(); pick = pick_merge(parts, base)) {
      uint32_t merged = 0;
      std::sort(pick.rbegin(), pick.rend());
      for (size_t i : pick) {
        merged += parts[i];
        parts.erase(parts.begin() + static_cast<ptrdiff_t>(i));
      }
      parts.push_back(merged);
      written += merged;
    }
    ASSERT_LE(parts.size(), 3u * 7);  // at most fan_in - 1 per tier, 7 tiers for 4096 seals
  }
  EXPECT_LE(written, 4096ull * base * 8);  // ~log4(4096) + 1 = 7 writes per row
}

}  // namespace
}  // namespace usagedb
