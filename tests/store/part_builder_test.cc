#include "lib/store/part_builder.h"

#include <algorithm>
#include <tuple>

#include "gtest/gtest.h"
#include "lib/gen/random.h"

namespace usagedb {
namespace {

TEST(PartBuilder, SortsByTimestampThenFeatureThenVersionStrings) {
  Dictionary features, versions;
  // Codes in the opposite order of the strings, so sorting by code would be wrong.
  const uint32_t f_b = features.intern("b"), f_a = features.intern("a"), f_upper = features.intern("B");
  const uint32_t v_2 = versions.intern("2.0"), v_10 = versions.intern("10.0");
  PartBuilder builder;
  builder.add({100, f_b, v_2, 7, 0, 0}, "e1", "m1");
  builder.add({100, f_a, v_2, 8, 0, 0}, "e2", "");
  builder.add({50, f_b, v_10, 9, 1, 2}, "e3", "m1");
  builder.add({100, f_a, v_10, 7, 0, 0}, "e4", "m2");
  builder.add({100, f_upper, v_2, 7, 0, 0}, "e5", "");
  auto part = std::move(builder).finish(1, 197001, features, versions);
  ASSERT_EQ(part->rows(), 5u);
  std::vector<std::string_view> ids;
  for (uint32_t i = 0; i < part->rows(); ++i) ids.push_back(part->event_id(i));
  // 50 first; then at 100: "B" < "a" < "b" byte-wise; within "a": "10.0" < "2.0".
  EXPECT_EQ(ids, (std::vector<std::string_view>{"e3", "e5", "e4", "e2", "e1"}));
  EXPECT_EQ(part->metadata(0), "m1");
  EXPECT_EQ(part->metadata(2), "m2");
  EXPECT_EQ(part->metadata(3), "");
  EXPECT_EQ(part->min_timestamp(), 50u);
  EXPECT_EQ(part->max_timestamp(), 100u);
  EXPECT_EQ(part->columns().metadata_values.size(), 3u);  // dictionary-encoded
}

TEST(PartBuilder, IndexesMapEachValueToItsRows) {
  Dictionary features, versions;
  for (int i = 0; i < 5; ++i) features.intern(std::string(1, static_cast<char>('a' + i)));
  for (int i = 0; i < 3; ++i) versions.intern(std::string(1, static_cast<char>('0' + i)));
  gen::Random random(9);
  PartBuilder builder;
  for (int i = 0; i < 5000; ++i) {
    builder.add({static_cast<uint32_t>(random.uniform(1000)), static_cast<uint32_t>(random.uniform(5)),
                 static_cast<uint32_t>(random.uniform(3)), static_cast<uint32_t>(random.uniform(50)), 0, 0},
                "", "");
  }
  auto part = std::move(builder).finish(1, 197001, features, versions);
  const PartColumns& c = part->columns();
  ASSERT_TRUE(std::is_sorted(c.timestamp.begin(), c.timestamp.end()));
  for (uint32_t user = 0; user < 50; ++user) {
    const Bitmap* rows = part->user_rows(user);
    ASSERT_NE(rows, nullptr);
    uint64_t expected = std::count(c.user.begin(), c.user.end(), user);
    EXPECT_EQ(rows->cardinality(), expected);
    rows->for_each([&](uint32_t row) { ASSERT_EQ(c.user[row], user); });
  }
  EXPECT_EQ(part->user_rows(50), nullptr);
  for (uint32_t f = 0; f < 5; ++f) {
    part->feature_rows(f)->for_each([&](uint32_t row) { ASSERT_EQ(c.feature[row], f); });
  }
  const RowRange r = part->time_range(100, 200);
  for (uint32_t row = 0; row < part->rows(); ++row) {
    EXPECT_EQ(row >= r.begin && row < r.end, c.timestamp[row] >= 100 && c.timestamp[row] < 200);
  }
  EXPECT_TRUE(part->time_range(2000, 3000).empty());
  EXPECT_EQ(part->time_range(-5, 5000).size(), part->rows());
}

}  // namespace
}  // namespace usagedb
