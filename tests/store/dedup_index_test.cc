#include "lib/store/dedup_index.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace usagedb {
namespace {

TEST(DedupIndex, FirstInsertWinsAndIsExact) {
  DedupIndex ids;
  EXPECT_TRUE(ids.insert("evt_1"));
  EXPECT_FALSE(ids.insert("evt_1"));
  EXPECT_TRUE(ids.insert("evt_10"));
  EXPECT_TRUE(ids.insert("EVT_1"));
  EXPECT_TRUE(ids.contains("evt_1"));
  EXPECT_FALSE(ids.contains("evt_2"));
  EXPECT_EQ(ids.size(), 3u);
}

TEST(DedupIndex, SurvivesGrowthAndOversizedIds) {
  DedupIndex ids;
  for (int i = 0; i < 300000; ++i) ASSERT_TRUE(ids.insert(absl::StrCat("evt_", i)));
  const std::string huge(3 << 20, 'h');  // bigger than an arena chunk
  EXPECT_TRUE(ids.insert(huge));
  EXPECT_TRUE(ids.insert(std::string(200, 'a')));  // a multi-byte length prefix
  for (int i = 0; i < 300000; ++i) ASSERT_FALSE(ids.insert(absl::StrCat("evt_", i)));
  EXPECT_FALSE(ids.insert(huge));
  EXPECT_FALSE(ids.insert(std::string(200, 'a')));
  EXPECT_TRUE(ids.insert(std::string(199, 'a')));
  EXPECT_EQ(ids.size(), 300003u);
}

TEST(DedupIndex, Erase) {
  DedupIndex ids;
  ids.insert("a");
  ids.erase("a");
  EXPECT_FALSE(ids.contains("a"));
  EXPECT_TRUE(ids.insert("a"));
  ids.erase("never there");
  EXPECT_EQ(ids.size(), 1u);
}

}  // namespace
}  // namespace usagedb
