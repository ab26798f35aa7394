#include "lib/table/dedup_index.h"

#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lib/gen/random.h"

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

// Against a std::set through inserts, lookups and erases in random order,
// with tables that rehash from their slots' fingerprints and tables that
// hash the ids again (as beyond 2^24 slots).
TEST(DedupIndex, AgreesWithASetThroughErasesAndGrowth) {
  for (const int max_bits_from_slots : {24, 6}) {
    DedupIndex ids(max_bits_from_slots);
    std::set<std::string> want;
    gen::Random random(11);
    for (int step = 0; step < 100000; ++step) {
      const std::string id = absl::StrCat("evt_", random.uniform(30000));
      switch (random.uniform(5)) {
        case 0:
          ids.erase(id);
          want.erase(id);
          break;
        case 1:
          ASSERT_EQ(ids.contains(id), want.contains(id)) << id;
          break;
        default:
          ASSERT_EQ(ids.insert(id, DedupIndex::hash(id)), want.insert(id).second) << id;
      }
      ASSERT_EQ(ids.size(), want.size());
    }
    ids.reserve(100000);
    for (const std::string& id : want) ASSERT_TRUE(ids.contains(id)) << id;
    ASSERT_EQ(ids.size(), want.size());
  }
}

}  // namespace
}  // namespace usagedb
