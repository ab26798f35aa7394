#include "lib/table/part_builder.h"

#include <algorithm>
#include <tuple>

#include "gtest/gtest.h"
#include "lib/gen/random.h"
#include "lib/table/append_buffer.h"
#include "tests/testutil/part_testing.h"

namespace usagedb {
namespace {

TEST(PartBuilder, SortsByTimestampThenFeatureThenVersionStrings) {
  Dictionary features, versions;
  // Codes in the opposite order of the strings, so sorting by code would be wrong.
  const uint32_t f_b = features.intern("b"), f_a = features.intern("a"), f_upper = features.intern("B");
  const uint32_t v_2 = versions.intern("2.0"), v_10 = versions.intern("10.0");
  PartBuilder builder;
  builder.add({100, f_b, v_2, 7, 0, 0}, 11, "e1", "m1");
  builder.add({100, f_a, v_2, 8, 0, 0}, 12, "e2", "");
  builder.add({50, f_b, v_10, 9, 1, 2}, 13, "e3", "m1");
  builder.add({100, f_a, v_10, 7, 0, 0}, 14, "e4", "m2");
  builder.add({100, f_upper, v_2, 7, 0, 0}, 15, "e5", "");
  auto part = std::move(builder).finish(1, 197001, features, versions);
  ASSERT_EQ(part->rows(), 5u);
  std::vector<std::string_view> ids;
  for (uint32_t i = 0; i < part->rows(); ++i) ids.push_back(part->event_id(i));
  // 50 first; then at 100: "B" < "a" < "b" byte-wise; within "a": "10.0" < "2.0".
  EXPECT_EQ(ids, (std::vector<std::string_view>{"e3", "e5", "e4", "e2", "e1"}));
  // Each row keeps its arrival number through the sort.
  std::vector<uint64_t> sequences;
  for (uint32_t i = 0; i < part->rows(); ++i) sequences.push_back(part->sequence(i));
  EXPECT_EQ(sequences, (std::vector<uint64_t>{13, 15, 14, 12, 11}));
  EXPECT_EQ(part->metadata(0), "m1");
  EXPECT_EQ(part->metadata(2), "m2");
  EXPECT_EQ(part->metadata(3), "");
  EXPECT_EQ(part->min_timestamp(), 50u);
  EXPECT_EQ(part->max_timestamp(), 100u);
  EXPECT_EQ(part->columns().metadata_values.size(), 3u);  // dictionary-encoded
}

// Rows in time order take a shortcut (only each second's rows are sorted):
// the order must be the full sort's, ties of the whole key in input order.
TEST(PartBuilder, RowsInTimeOrderSortLikeAnyOthers) {
  Dictionary features, versions;
  for (const char* f : {"d", "b", "c", "a"}) features.intern(f);
  for (const char* v : {"3", "1", "2"}) versions.intern(v);
  gen::Random random(5);
  for (const bool time_ordered : {true, false}) {
    struct Row {
      RowCodes codes;
      std::string id;
    };
    std::vector<Row> rows;
    uint32_t t = 1000;
    for (int i = 0; i < 4000; ++i) {
      t = time_ordered ? t + static_cast<uint32_t>(random.uniform(4) == 0)
                       : static_cast<uint32_t>(1000 + random.uniform(900));
      rows.push_back(
          Row{{t, static_cast<uint32_t>(random.uniform(4)), static_cast<uint32_t>(random.uniform(3)), 1, 0, 0},
              "e" + std::to_string(i)});
    }
    PartBuilder builder;
    for (size_t i = 0; i < rows.size(); ++i) builder.add(rows[i].codes, i + 1, rows[i].id, "");
    const auto part = std::move(builder).finish(1, 197001, features, versions);
    // Brute force: a stable sort by (timestamp, feature string, version string).
    std::vector<size_t> order(rows.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      const RowCodes& x = rows[a].codes;
      const RowCodes& y = rows[b].codes;
      return std::tuple(x.timestamp, features.lookup(x.feature), versions.lookup(x.version)) <
             std::tuple(y.timestamp, features.lookup(y.feature), versions.lookup(y.version));
    });
    ASSERT_EQ(part->rows(), rows.size());
    for (uint32_t i = 0; i < part->rows(); ++i) {
      ASSERT_EQ(part->event_id(i), rows[order[i]].id) << "row " << i << (time_ordered ? ", time-ordered input" : "");
    }
  }
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
                static_cast<uint64_t>(i + 1), "", "");
  }
  auto part = std::move(builder).finish(1, 197001, features, versions);
  const PartColumns& c = part->columns();
  ASSERT_TRUE(std::is_sorted(c.timestamp.begin(), c.timestamp.end()));
  for (uint32_t user = 0; user < 50; ++user) {
    const std::span<const uint32_t> rows = part->user_rows(user);
    ASSERT_FALSE(rows.empty());
    const auto expected = static_cast<size_t>(std::count(c.user.begin(), c.user.end(), user));
    EXPECT_EQ(rows.size(), expected);
    EXPECT_TRUE(std::is_sorted(rows.begin(), rows.end()));
    for (const uint32_t row : rows) ASSERT_EQ(c.user[row], user);
  }
  EXPECT_TRUE(part->user_rows(50).empty());
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

// Rows copied with add() and rows borrowed from parts and buffers, in any
// mix, give the same part as copying every row.
TEST(PartBuilder, BorrowedRowsGiveTheSamePartAsCopiedOnes) {
  Dictionary features, versions;
  for (int i = 0; i < 4; ++i) features.intern(std::string(1, static_cast<char>('d' - i)));
  for (int i = 0; i < 3; ++i) versions.intern(std::string(1, static_cast<char>('3' - i)));
  gen::Random random(21);
  struct Row {
    RowCodes codes;
    std::string id, metadata;
  };
  std::vector<Row> rows;
  for (int i = 0; i < 3000; ++i) {
    rows.push_back(Row{{static_cast<uint32_t>(random.uniform(500)), static_cast<uint32_t>(random.uniform(4)),
                        static_cast<uint32_t>(random.uniform(3)), static_cast<uint32_t>(random.uniform(40)),
                        static_cast<uint32_t>(random.uniform(5)), static_cast<uint32_t>(random.uniform(300))},
                       random.uniform(10) == 0 ? "" : "e" + std::to_string(i),
                       "m" + std::to_string(random.uniform(7))});
  }
  // Rows [0, 1000) through a part, [1000, 1800) copied, [1800, 2600) through
  // a buffer (of which 200 more rows are not taken), the rest copied.
  PartBuilder first;
  for (int i = 0; i < 1000; ++i) first.add(rows[i].codes, static_cast<uint64_t>(i + 1), rows[i].id, rows[i].metadata);
  const auto part = std::move(first).finish(1, 197001, features, versions);
  AppendBuffer buffer(1000);
  for (int i = 1800; i < 2800; ++i) buffer.append(rows[i].codes, static_cast<uint64_t>(i + 1), rows[i].id, rows[i].metadata);

  PartBuilder mixed;
  mixed.add_part(*part);
  for (int i = 1000; i < 1800; ++i) mixed.add(rows[i].codes, static_cast<uint64_t>(i + 1), rows[i].id, rows[i].metadata);
  mixed.add_buffer(buffer, 800);
  for (int i = 2600; i < 3000; ++i) mixed.add(rows[i].codes, static_cast<uint64_t>(i + 1), rows[i].id, rows[i].metadata);
  const auto got = std::move(mixed).finish(2, 197001, features, versions);

  // The part's rows are sorted already: add them in its order, as a merge sees them.
  PartBuilder copied;
  for (uint32_t i = 0; i < part->rows(); ++i) {
    const PartColumns& c = part->columns();
    copied.add({c.timestamp[i], c.feature[i], c.version[i], c.user[i], c.event_type[i], c.session[i]},
               part->sequence(i), part->event_id(i), part->metadata(i));
  }
  for (int i = 1000; i < 2600; ++i) copied.add(rows[i].codes, static_cast<uint64_t>(i + 1), rows[i].id, rows[i].metadata);
  for (int i = 2600; i < 3000; ++i) copied.add(rows[i].codes, static_cast<uint64_t>(i + 1), rows[i].id, rows[i].metadata);
  const auto want = std::move(copied).finish(2, 197001, features, versions);

  ASSERT_EQ(got->rows(), 3000u);
  usagedb::testing::expect_same_part(*got, *want);
}

// PartBuilder::merge() of sorted parts gives the part a builder sorting
// their rows gives (the same rows, order, metadata values and indexes):
// parts whose times overlap, with equal keys across parts (the earlier input
// first), parts in time order (a month's seals), and more distinct features
// than the merge's packed sort key holds.
TEST(PartBuilder, MergeOfSortedPartsGivesTheSortedPart) {
  struct Case {
    const char* name;
    int parts, rows_per_part, times, features;
    bool time_ordered;
  };
  for (const Case& t : {Case{"overlapping", 5, 700, 60, 4, false}, Case{"in time order", 4, 900, 4000, 6, true},
                        Case{"one part", 1, 300, 50, 3, false}, Case{"wide ranks", 3, 40000, 100, 70000, false}}) {
    SCOPED_TRACE(t.name);
    Dictionary features, versions;
    for (int i = 0; i < t.features; ++i) features.intern("f" + std::to_string(t.features - i));
    for (int i = 0; i < 3; ++i) versions.intern(std::string(1, static_cast<char>('3' - i)));
    gen::Random random(33);
    std::vector<std::shared_ptr<const Part>> parts;
    PartBuilder all;
    uint64_t sequence = 0;
    for (int p = 0; p < t.parts; ++p) {
      PartBuilder one;
      for (int i = 0; i < t.rows_per_part; ++i) {
        // In time order: each part's times follow the previous part's, the
        // first of them equal to its last (a second split by a seal).
        const uint32_t time = t.time_ordered ? static_cast<uint32_t>(p * t.times + random.uniform(t.times + 1))
                                             : static_cast<uint32_t>(random.uniform(t.times));
        const RowCodes codes{time, static_cast<uint32_t>(random.uniform(t.features)),
                             static_cast<uint32_t>(random.uniform(3)), static_cast<uint32_t>(random.uniform(40)),
                             static_cast<uint32_t>(random.uniform(5)), static_cast<uint32_t>(random.uniform(300))};
        const std::string id = random.uniform(10) == 0 ? "" : "e" + std::to_string(sequence);
        const std::string metadata = "m" + std::to_string(random.uniform(7));
        ++sequence;
        one.add(codes, sequence, id, metadata);
      }
      parts.push_back(std::move(one).finish(static_cast<uint64_t>(p + 1), 197001, features, versions));
      all.add_part(*parts.back());
    }
    std::vector<const Part*> inputs;
    for (const auto& part : parts) inputs.push_back(part.get());
    const auto got = PartBuilder::merge(inputs, 99, 197001, features, versions);
    const auto want = std::move(all).finish(99, 197001, features, versions);
    ASSERT_EQ(got->rows(), static_cast<uint32_t>(t.parts * t.rows_per_part));
    usagedb::testing::expect_same_part(*got, *want);
  }
}

}  // namespace
}  // namespace usagedb
