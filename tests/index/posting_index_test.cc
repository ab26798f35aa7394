#include "lib/index/posting_index.h"

#include <algorithm>
#include <map>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "lib/gen/random.h"

namespace usagedb {
namespace {

using Lists = std::map<uint32_t, std::vector<uint32_t>>;

// The lists the slow, obvious way.
Lists lists_of_column(const std::vector<uint32_t>& column) {
  Lists lists;
  for (uint32_t row = 0; row < column.size(); ++row) lists[column[row]].push_back(row);
  return lists;
}

// Everything the index answers: for_each in order, rows() of every listed
// code and of codes around them, size() and total_rows().
void expect_lists(const PostingIndex& index, const Lists& want, const char* what) {
  Lists visited;
  uint64_t previous = 0;
  bool first = true;
  index.for_each([&](uint32_t code, std::span<const uint32_t> rows) {
    EXPECT_TRUE(first || code > previous) << what << ": code " << code << " after " << previous;
    first = false;
    previous = code;
    visited[code].assign(rows.begin(), rows.end());
  });
  EXPECT_EQ(visited, want) << what;
  EXPECT_EQ(index.size(), want.size()) << what;
  size_t total = 0;
  for (const auto& [code, rows] : want) {
    total += rows.size();
    const std::span<const uint32_t> got = index.rows(code);
    EXPECT_EQ(std::vector<uint32_t>(got.begin(), got.end()), rows) << what << ": code " << code;
    for (const uint32_t near : {code - 1, code + 1}) {
      if (!want.contains(near)) EXPECT_TRUE(index.rows(near).empty()) << what << ": code " << near;
    }
  }
  EXPECT_EQ(index.total_rows(), total) << what;
  EXPECT_TRUE(index.rows(0).empty() || want.contains(0)) << what;
  EXPECT_TRUE(index.rows(UINT32_MAX).empty() || want.contains(UINT32_MAX)) << what;
}

PostingIndex built_entry_by_entry(const Lists& lists) {
  PostingIndex::Builder builder;
  for (const auto& [code, rows] : lists) builder.add(code, rows);
  return std::move(builder).finish();
}

PostingIndex built_from_bitmaps(const Lists& lists) {
  PostingIndex::Builder builder;
  for (const auto& [code, rows] : lists) builder.add(code, Bitmap::from_sorted(rows));
  return std::move(builder).finish();
}

// Columns whose codes take each layout and path of build(): dense codes,
// a few codes far apart (sparse through the counting array), codes spread
// over the whole range (sparse through the hash), and a skewed mix.
TEST(PostingIndex, AgreesWithTheReferenceOnRandomColumns) {
  gen::Random random(29);
  for (const size_t rows : {1, 2, 100, 70000, 140000}) {
    std::vector<uint32_t> dense(rows), gappy(rows), spread(rows), skewed(rows);
    for (size_t i = 0; i < rows; ++i) {
      dense[i] = 1000 + static_cast<uint32_t>(random.uniform(20000));
      gappy[i] = static_cast<uint32_t>(random.uniform(8)) * 5000u;
      spread[i] = static_cast<uint32_t>(random.uniform(20)) * 200'000'000u + 7;
      skewed[i] = random.chance(0.9) ? 5 : UINT32_MAX - static_cast<uint32_t>(random.uniform(3));
    }
    for (const auto& [what, column] : {std::pair{"dense", &dense}, std::pair{"gappy", &gappy},
                                       std::pair{"spread", &spread}, std::pair{"skewed", &skewed}}) {
      const Lists want = lists_of_column(*column);
      expect_lists(PostingIndex::build(*column), want, what);
      expect_lists(built_entry_by_entry(want), want, what);
      expect_lists(built_from_bitmaps(want), want, what);
    }
  }
}

TEST(PostingIndex, EmptyIndexListsNothing) {
  expect_lists(PostingIndex::build({}), {}, "built from an empty column");
  expect_lists(PostingIndex(), {}, "default");
  expect_lists(PostingIndex::Builder().finish(), {}, "built without entries");
}

// An entry without rows is what a test of a corrupt file writes: it is kept,
// visited and looked up as empty.
TEST(PostingIndex, KeepsAnEntryAddedWithoutRows) {
  PostingIndex::Builder builder;
  builder.add(3, std::vector<uint32_t>{0, 2});
  builder.add(4, std::vector<uint32_t>{});
  builder.add(5, std::vector<uint32_t>{1});
  const PostingIndex index = std::move(builder).finish();
  std::vector<uint32_t> codes;
  index.for_each([&](uint32_t code, std::span<const uint32_t>) { codes.push_back(code); });
  EXPECT_EQ(codes, (std::vector<uint32_t>{3, 4, 5}));
  EXPECT_TRUE(index.rows(4).empty());
  EXPECT_EQ(index.rows(5).size(), 1u);
}

// The dense layout costs 4 bytes per code of the range, so a column with a
// few far-apart codes stays small.
TEST(PostingIndex, MemoryStaysNearFourBytesPerRow) {
  std::vector<uint32_t> far(1000);
  for (uint32_t i = 0; i < far.size(); ++i) far[i] = (i % 2) * 100'000'000u;
  const PostingIndex index = PostingIndex::build(far);
  EXPECT_LT(index.memory_bytes(), 4 * far.size() + 64);
}

}  // namespace
}  // namespace usagedb
