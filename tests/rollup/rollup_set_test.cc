#include "lib/rollup/rollup_set.h"

#include <memory>
#include <vector>

#include "gtest/gtest.h"
#include "lib/rollup/rollup_cache.h"
#include "lib/table/part_builder.h"
#include "lib/table/dictionary.h"

namespace usagedb {
namespace {

// A part of `rows` rows of one user and feature, with id `id`.
std::shared_ptr<const Part> rollup_set_part(uint64_t id, uint32_t rows) {
  static Dictionary features("feature_id"), versions("product_version");
  features.intern("f");
  versions.intern("v");
  PartBuilder b(rows);
  for (uint32_t i = 0; i < rows; ++i) b.add(RowCodes{1735689600 + i, 0, 0, 0, 0, 0}, "", "");
  return std::move(b).finish(id, 202501, features, versions);
}

std::shared_ptr<const PartitionRollup> rollup_of(std::vector<std::shared_ptr<const Part>> parts) {
  return PartitionRollup::build(202501, parts);
}

TEST(RollupSet, CoversExactlyTheParts) {
  RollupSet set;
  EXPECT_TRUE(set.empty());
  auto a = rollup_set_part(1, 3), b = rollup_set_part(2, 5), c = rollup_set_part(3, 7);
  ASSERT_TRUE(set.add(rollup_of({a})));
  ASSERT_TRUE(set.add(rollup_of({b, c})));
  EXPECT_TRUE(set.covers(1) && set.covers(2) && set.covers(3));
  EXPECT_FALSE(set.covers(4));
  EXPECT_EQ(set.rows(), 15u);
  EXPECT_EQ(set.size(), 2u);
  // A part is never covered twice: the add changes nothing.
  EXPECT_FALSE(set.add(rollup_of({c})));
  EXPECT_EQ(set.rows(), 15u);
  // Coverage given explicitly (a rollup file whose parts merges renumbered).
  ASSERT_TRUE(set.add(rollup_of({rollup_set_part(9, 2)}), {4}));
  EXPECT_TRUE(set.covers(4));
  EXPECT_FALSE(set.covers(9));
}

TEST(RollupSet, RemovingAPartRemovesEveryEntryHoldingIt) {
  RollupSet set;
  auto a = rollup_set_part(1, 3), b = rollup_set_part(2, 5), c = rollup_set_part(3, 7);
  ASSERT_TRUE(set.add(rollup_of({a})));
  ASSERT_TRUE(set.add(rollup_of({b, c})));
  const uint64_t gone[] = {3};
  EXPECT_EQ(set.remove_parts(gone), 1u);
  // The entry held part 2 too: part 2 is uncovered now, never half-counted.
  EXPECT_FALSE(set.covers(2));
  EXPECT_FALSE(set.covers(3));
  EXPECT_TRUE(set.covers(1));
  EXPECT_EQ(set.rows(), 3u);
  const uint64_t none[] = {42};
  EXPECT_EQ(set.remove_parts(none), 0u);
  set.clear();
  EXPECT_TRUE(set.empty());
  EXPECT_FALSE(set.covers(1));
}

TEST(RollupCache, FindSubsetTakesTheLargestCachedSubset) {
  auto a = rollup_of({rollup_set_part(1, 3)}), b = rollup_of({rollup_set_part(2, 5)}),
       c = rollup_of({rollup_set_part(3, 7)});
  RollupCache cache;
  const PartitionRollup* ab[] = {a.get(), b.get()};
  const PartitionRollup* abc[] = {a.get(), b.get(), c.get()};
  const PartitionRollup* ac[] = {a.get(), c.get()};
  std::vector<bool> in;
  EXPECT_EQ(cache.find_subset(abc, &in).cells, nullptr);
  auto merged = cache.summary(ab);
  ASSERT_EQ(merged->size(), 1u);
  EXPECT_EQ((*merged)[0].events, 8u);
  RollupCache::Subset got = cache.find_subset(abc, &in);
  EXPECT_EQ(got.cells, merged);
  EXPECT_EQ(got.rows, 8u);
  EXPECT_EQ(in, (std::vector<bool>{true, true, false}));
  // A cached merge holding a rollup the request lacks is no subset.
  EXPECT_EQ(cache.find_subset(ac, &in).cells, nullptr);
  // The larger one wins once both are cached.
  cache.summary(abc);
  got = cache.find_subset(abc, &in);
  EXPECT_EQ(got.rows, 15u);
  EXPECT_EQ(in, (std::vector<bool>{true, true, true}));
}

}  // namespace
}  // namespace usagedb
