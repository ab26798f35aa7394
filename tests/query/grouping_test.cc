// The grouping pieces queries share, each against a plain computation:
// StringRank's order of strings, CellBits (the week cells a month boundary
// cuts, as bits), DistinctGroups counting cells with and without bits and
// rows together; and one user's usage over more (feature, version) pairs
// than user_feature_usage's table holds, against the Reference.
#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lib/query/distinct_groups.h"
#include "lib/rollup/cell_bits.h"
#include "lib/table/dictionary.h"
#include "lib/table/string_rank.h"
#include "tests/testutil/helpers.h"
#include "tests/testutil/printers.h"
#include "tests/testutil/reference.h"
#include "usagedb/usagedb.h"

namespace usagedb::testing {
namespace {

TEST(StringRankOrder, ByteOrderOfTheStringsWhateverTheirFirstSixteenBytes) {
  // Ties in the first 16 bytes, prefixes of one another, NUL and high
  // bytes (unsigned order), the empty string, and generated names.
  std::vector<std::string> strings = {"",
                                      std::string("a\0", 2),
                                      "a",
                                      std::string("a\0b", 3),
                                      "ab",
                                      "\x7f",
                                      "\x80",
                                      "\xff\xff",
                                      "0123456789abcdef",
                                      "0123456789abcdefX",
                                      "0123456789abcdef\x01",
                                      "0123456789abcdeeZZZZ",
                                      "0123456789abcdefXY",
                                      "0123456789abcde",
                                      "feature_1",
                                      "feature_10",
                                      "feature_2",
                                      "1.10.0",
                                      "1.9.2"};
  std::mt19937_64 rng(7);
  for (int i = 0; i < 300; ++i) {
    std::string s = i % 3 == 0 ? "user_" : (i % 3 == 1 ? "0123456789abcdef" : "");
    const size_t n = rng() % 20;
    for (size_t k = 0; k < n; ++k) s.push_back(static_cast<char>("ab\0\xff"[rng() % 4]));
    strings.push_back(s);
  }
  Dictionary dict("test");
  std::vector<uint32_t> codes;
  for (const std::string& s : strings) codes.push_back(dict.intern(s));
  codes.push_back(codes[3]);  // codes may repeat
  const StringRank rank(dict, codes);
  std::vector<uint32_t> by_rank(codes.begin(), codes.end());
  std::sort(by_rank.begin(), by_rank.end());
  by_rank.erase(std::unique(by_rank.begin(), by_rank.end()), by_rank.end());
  std::vector<uint32_t> by_string = by_rank;
  std::sort(by_rank.begin(), by_rank.end(), [&](uint32_t a, uint32_t b) { return rank(a) < rank(b); });
  std::sort(by_string.begin(), by_string.end(), [&](uint32_t a, uint32_t b) { return dict.lookup(a) < dict.lookup(b); });
  EXPECT_EQ(by_rank, by_string);
  for (uint32_t r = 0; r < by_rank.size(); ++r) {
    EXPECT_EQ(rank(by_rank[r]), r);
    EXPECT_EQ(rank.code_of(r), by_rank[r]);
  }
}

TEST(DictionaryRanks, EveryCodesRankMadeOncePerSizeNoneForALargeDictionary) {
  Dictionary dict("test");
  for (const char* s : {"feature_2", "feature_10", "", "feature_1", "\xff"}) dict.intern(s);
  const auto ranks = dict.ranks(16);
  ASSERT_NE(ranks, nullptr);
  EXPECT_EQ(*ranks, (std::vector<uint32_t>{3, 2, 0, 1, 4}));
  EXPECT_EQ(dict.ranks(16), ranks);  // kept
  dict.intern("feature_11");  // grows: made again
  const auto grown = dict.ranks(16);
  ASSERT_NE(grown, nullptr);
  EXPECT_EQ(*grown, (std::vector<uint32_t>{4, 2, 0, 1, 5, 3}));
  EXPECT_EQ(*ranks, (std::vector<uint32_t>{3, 2, 0, 1, 4}));  // a copy held stays as it was
  dict.erase(0);  // "feature_2" reads as "": made again
  const auto erased = dict.ranks(16);
  ASSERT_NE(erased, nullptr);
  EXPECT_EQ((*erased)[0], (*erased)[2] < (*erased)[0] ? 1u : 0u);
  EXPECT_LT((*erased)[0], (*erased)[3]);
  EXPECT_EQ(dict.ranks(5), nullptr);  // more codes than asked for
}

// A level of cells: (bucket, key, users), sorted by (bucket, key).
struct LevelMaker {
  TimelineLevel level;
  void add(uint32_t bucket, uint32_t key, const std::vector<uint32_t>& users) {
    const auto begin = static_cast<uint32_t>(level.user_codes.size());
    level.user_codes.insert(level.user_codes.end(), users.begin(), users.end());
    level.cells.push_back(TimelineCell{bucket, key, users.size(), begin, static_cast<uint32_t>(level.user_codes.size())});
  }
};

std::vector<uint32_t> range(uint32_t begin, uint32_t end) {
  std::vector<uint32_t> v;
  for (uint32_t u = begin; u < end; ++u) v.push_back(u);
  return v;
}

std::vector<uint32_t> users_of(std::span<const uint64_t> bits) {
  std::vector<uint32_t> users;
  for (size_t w = 0; w < bits.size(); ++w) {
    for (uint32_t b = 0; b < 64; ++b) {
      if (bits[w] >> b & 1) users.push_back(static_cast<uint32_t>(w * 64 + b));
    }
  }
  return users;
}

TEST(CellBitsCutCells, TheCellsABoundaryCutsWithTheirUsersSparseOnesWithout) {
  // March 2025 (2025-03-01 is a Saturday): the weeks of Mon Feb 24, Mar 3,
  // ..., Mar 31. The first and last are cut by the month's start and end.
  constexpr int64_t kBegin = 1740787200, kEnd = 1743465600, kWeek = 7 * 86400;
  constexpr uint32_t kFeb24 = 1740355200, kMar3 = 1740960000, kMar31 = 1743379200;
  LevelMaker m;
  m.add(kFeb24, 1, range(0, 100));
  m.add(kFeb24, 2, {5, 70000});  // cut, but 1,094 words for 2 users: no bits
  m.add(kMar3, 1, range(0, 100));  // whole in the month
  m.add(kMar31, 1, {3, 64, 99});
  m.add(kMar31, 3, {});  // no users: none

  const CellBits b = CellBits::cut_cells(m.level, kBegin, kEnd, kWeek);
  EXPECT_EQ(b.cells, (std::vector<uint32_t>{0, 3}));
  EXPECT_EQ(b.of(0).size(), 2u);  // each cell up to its largest code
  EXPECT_EQ(users_of(b.of(0)), range(0, 100));
  EXPECT_EQ(users_of(b.of(3)), (std::vector<uint32_t>{3, 64, 99}));
  EXPECT_TRUE(b.of(1).empty());
  EXPECT_TRUE(b.of(2).empty());
  EXPECT_TRUE(b.of(4).empty());
  EXPECT_TRUE(b.of(5).empty());

  // A wide cell (codes up to 99,999) does not widen the others.
  m.add(kMar31, 4, range(99000, 100000));
  m.add(kMar31, 5, {1, 2});
  const CellBits wide = CellBits::cut_cells(m.level, kBegin, kEnd, kWeek);
  EXPECT_EQ(wide.cells, (std::vector<uint32_t>{0, 3, 5, 6}));
  EXPECT_EQ(wide.of(5).size(), 1563u);
  EXPECT_EQ(users_of(wide.of(5)), range(99000, 100000));
  EXPECT_EQ(wide.of(6).size(), 1u);
  EXPECT_EQ(users_of(wide.of(6)), (std::vector<uint32_t>{1, 2}));
  EXPECT_EQ(users_of(wide.of(3)), (std::vector<uint32_t>{3, 64, 99}));
  EXPECT_EQ(wide.bits.size(), 2u + 2u + 1563u + 1u);

  // Nothing cut: no bits at all.
  const CellBits none = CellBits::cut_cells(m.level, 0, INT64_MAX / 2, kWeek);
  EXPECT_TRUE(none.cells.empty());
  EXPECT_TRUE(none.bits.empty());
  EXPECT_TRUE(none.of(0).empty());
}

TEST(DistinctGroupsCountUsers, CellsWithBitsListsAndRowsCountEachUserOnce) {
  std::mt19937_64 rng(11);
  for (int round = 0; round < 40; ++round) {
    // Cells of random users (some with bits, of varied widths), rows, in
    // random groups; the count of each group against a std::set.
    std::vector<std::vector<uint32_t>> lists;
    std::vector<std::vector<uint64_t>> bit_vectors;
    struct Source {
      uint32_t group;
      size_t list;  // or SIZE_MAX: a row of `user`
      bool with_bits;
      uint32_t user;
    };
    std::vector<Source> sources;
    const uint32_t groups = 1 + rng() % 6;
    const uint32_t universe = 1 + static_cast<uint32_t>(rng() % (round % 2 == 0 ? 200 : 5000));
    for (int k = 0; k < 30; ++k) {
      const auto g = static_cast<uint32_t>(rng() % groups);
      if (rng() % 3 == 0) {
        sources.push_back(Source{g, SIZE_MAX, false, static_cast<uint32_t>(rng() % universe)});
        continue;
      }
      std::set<uint32_t> users;
      const size_t n = rng() % 50;
      for (size_t i = 0; i < n; ++i) users.insert(static_cast<uint32_t>(rng() % universe));
      lists.emplace_back(users.begin(), users.end());
      const bool with_bits = rng() % 2 == 0;
      std::vector<uint64_t> bits;
      if (with_bits) {
        bits.assign((users.empty() ? 0 : *users.rbegin() / 64 + 1) + rng() % 3, 0);  // wider than needed too
        for (const uint32_t u : users) bits[u / 64] |= uint64_t{1} << (u % 64);
      }
      bit_vectors.push_back(std::move(bits));
      sources.push_back(Source{g, lists.size() - 1, with_bits, 0});
    }
    query::DistinctGroups counted;
    std::vector<std::set<uint32_t>> expected(groups);
    std::vector<uint64_t> expected_events(groups, 0);
    for (uint32_t g = 0; g < groups; ++g) EXPECT_EQ(counted.group(1000 + g), g);
    for (const Source& s : sources) {
      if (s.list == SIZE_MAX) {
        counted.add_row(s.group, s.user);
        expected[s.group].insert(s.user);
        ++expected_events[s.group];
        continue;
      }
      const std::vector<uint32_t>& list = lists[s.list];
      if (s.group % 2 == 0) {
        counted.add_cell(s.group, list.size() * 2, list, bit_vectors[s.list]);
        expected_events[s.group] += list.size() * 2;
      } else {
        counted.add_users(s.group, list, bit_vectors[s.list]);
      }
      expected[s.group].insert(list.begin(), list.end());
    }
    const std::vector<uint64_t> users = counted.count_users();
    ASSERT_EQ(users.size(), groups);
    for (uint32_t g = 0; g < groups; ++g) {
      EXPECT_EQ(users[g], expected[g].size()) << "round " << round << " group " << g;
      EXPECT_EQ(counted.events(g), expected_events[g]) << "round " << round << " group " << g;
    }
  }
}

TEST(UserFeatureUsageGroups, MoreFeatureVersionPairsThanTheTableHoldsAndThanPackedKeysRank) {
  // 300 features x 240 versions: 72,000 pairs, past the table (16,384
  // cells: the hash map) and past 65,536 groups (the sort's unpacked
  // keys), for one user; another user's few pairs stay in the table.
  auto opened = EventStore::open({.part_rows = 20000, .background_threads = 0});
  ASSERT_TRUE(opened.ok()) << opened.status();
  EventStore& store = **opened;
  Reference reference;
  std::vector<Event> batch;
  std::vector<std::string> ids, features, versions;
  for (uint32_t f = 0; f < 300; ++f) features.push_back(absl::StrCat("feature_", f));
  for (uint32_t v = 0; v < 240; ++v) versions.push_back(absl::StrCat("1.", v / 10, ".", v % 10));
  std::mt19937_64 rng(3);
  constexpr int kEvents = 80000;
  ids.reserve(kEvents);
  for (int i = 0; i < kEvents; ++i) ids.push_back(absl::StrCat("e", i));
  for (int i = 0; i < kEvents; ++i) {
    Event e;
    e.event_id = ids[i];
    const bool many = i % 10 != 0;
    e.user_id = many ? "user_many" : "user_few";
    // Every pair once, then random ones (counts of 2 and 3 too).
    const uint32_t pair = i < 72000 ? static_cast<uint32_t>(i) : static_cast<uint32_t>(rng() % 72000);
    e.feature_id = many ? features[pair % 300] : features[rng() % 4];
    e.product_version = many ? versions[pair / 300] : versions[rng() % 3];
    e.event_type = "view";
    e.timestamp = at("2025-03-01 00:00:00") + std::chrono::seconds(rng() % (90 * 86400));
    batch.push_back(e);
    reference.record(e);
  }
  ASSERT_TRUE(store.record_events(batch).ok());
  for (const char* user : {"user_many", "user_few"}) {
    UserFeatureUsageQuery q;
    q.user_id = user;
    auto got = store.user_feature_usage(q);
    ASSERT_TRUE(got.ok()) << got.status();
    const auto want = reference.user_feature_usage(q);
    EXPECT_EQ(got->rows_before_limit, want.rows_before_limit) << user;
    EXPECT_TRUE(got->rows == want.rows) << user;
    q.limit = 7;
    q.skip = 1000;
    got = store.user_feature_usage(q);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_TRUE(got->rows == reference.user_feature_usage(q).rows) << user << " page";
  }
}

}  // namespace
}  // namespace usagedb::testing
