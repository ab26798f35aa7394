#include "lib/table/string_column.h"

#include <cstdint>
#include <vector>

#include "gtest/gtest.h"
#include "lib/gen/random.h"

namespace usagedb {
namespace {

// StringEnds keeps 4 bytes per end; columns past 4 GiB are too large for a
// unit test, but the ends alone are not: random ascending ends whose steps
// cross 2^32 boundaries now and then (sometimes several at once, sometimes
// landing exactly on one) read back as the 64-bit offsets they were.
TEST(StringEnds, AgreesWithSixtyFourBitOffsetsPastFourGiB) {
  gen::Random random(41);
  for (int round = 0; round < 20; ++round) {
    std::vector<uint64_t> want;
    StringEnds ends;
    uint64_t end = 0;
    for (int i = 0; i < 2000; ++i) {
      switch (random.uniform(50)) {
        case 0:
          end += (uint64_t{1} << 32) * (1 + random.uniform(3)) + random.uniform(1000);
          break;
        case 1:
          end = ((end >> 32) + 1) << 32;  // exactly on a boundary
          break;
        default:
          end += random.uniform(40);  // empty strings too
      }
      want.push_back(end);
      ends.push_back(end);
    }
    ASSERT_EQ(ends.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) ASSERT_EQ(ends[i], want[i]) << "round " << round << " row " << i;
  }
}

TEST(StringColumn, FourBytesPerEndBelowFourGiB) {
  StringColumn::Builder builder;
  for (int i = 0; i < 1000; ++i) builder.add("evt_" + std::to_string(i));
  const StringColumn column = std::move(builder).finish();
  EXPECT_EQ(column.at(0), "evt_0");
  EXPECT_EQ(column.at(999), "evt_999");
  EXPECT_LE(column.memory_bytes(), column.bytes().capacity() + 4 * 1024);
  const StringColumn copy(column.bytes(), column.ends());
  for (size_t i = 0; i < column.size(); ++i) ASSERT_EQ(copy.at(i), column.at(i));
}

}  // namespace
}  // namespace usagedb
