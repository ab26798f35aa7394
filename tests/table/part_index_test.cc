#include "lib/table/part_index.h"

#include <map>
#include <vector>

#include "gtest/gtest.h"
#include "lib/gen/random.h"

namespace usagedb {
namespace {

// The index the slow, obvious way.
std::map<uint32_t, std::vector<uint32_t>> reference(const std::vector<uint32_t>& column) {
  std::map<uint32_t, std::vector<uint32_t>> rows;
  for (uint32_t row = 0; row < column.size(); ++row) rows[column[row]].push_back(row);
  return rows;
}

void expect_index_of(const BitmapIndex& index, const std::vector<uint32_t>& column) {
  const auto expected = reference(column);
  ASSERT_EQ(index.size(), expected.size());
  for (const auto& [code, rows] : expected) {
    auto it = index.find(code);
    ASSERT_NE(it, index.end()) << "code " << code;
    std::vector<uint32_t> got;
    it->second.for_each([&](uint32_t row) { got.push_back(row); });
    EXPECT_EQ(got, rows) << "code " << code;
  }
}

TEST(BuildBitmapIndex, DenseAndSparseCodes) {
  gen::Random random(17);
  for (const size_t rows : {1, 2, 100, 70000, 140000}) {
    std::vector<uint32_t> dense(rows), sparse(rows), skewed(rows);
    for (size_t i = 0; i < rows; ++i) {
      dense[i] = static_cast<uint32_t>(random.uniform(50));
      sparse[i] = static_cast<uint32_t>(random.uniform(20)) * 200'000'000u + 7;  // up to ~2^32
      skewed[i] = random.chance(0.9) ? 5 : UINT32_MAX - static_cast<uint32_t>(random.uniform(3));
    }
    expect_index_of(build_bitmap_index(dense), dense);
    expect_index_of(build_bitmap_index(sparse), sparse);
    expect_index_of(build_bitmap_index(skewed), skewed);
  }
  EXPECT_TRUE(build_bitmap_index({}).empty());
}

}  // namespace
}  // namespace usagedb
