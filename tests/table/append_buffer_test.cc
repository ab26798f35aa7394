#include "lib/table/append_buffer.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace usagedb {
namespace {

// Rows keep their codes, ids and metadata; each distinct metadata value is
// stored once, whether its hash comes from append() or from the caller.
TEST(AppendBuffer, KeepsRowsAndStoresEachMetadataValueOnce) {
  AppendBuffer buffer(5000);
  std::vector<std::string> metadata;
  for (uint32_t i = 0; i < 5000; ++i) {
    metadata.push_back(i % 3 == 0 ? "" : absl::StrCat("{\"n\":", i % 37, "}"));
    const RowCodes row{i, i % 5, i % 7, i, 0, i / 3};
    if (i % 2 == 0) {
      buffer.append(row, absl::StrCat("e", i), metadata.back());
    } else {
      buffer.append(row, absl::StrCat("e", i), metadata.back(), AppendBuffer::metadata_hash(metadata.back()));
    }
    ASSERT_EQ(buffer.full(), i == 4999);
  }
  buffer.publish();
  ASSERT_EQ(buffer.published_rows(), 5000u);
  EXPECT_EQ(buffer.metadata_values(), 38u);  // "" and the 37 values {"n":0} .. {"n":36}
  for (uint32_t i = 0; i < 5000; ++i) {
    ASSERT_EQ(buffer.row(i).timestamp, i);
    ASSERT_EQ(buffer.row(i).session, i / 3);
    ASSERT_EQ(buffer.event_id(i), absl::StrCat("e", i));
    ASSERT_EQ(buffer.metadata(i), metadata[i]);
    ASSERT_EQ(buffer.metadata_value(buffer.metadata_code(i)), metadata[i]);
  }
}

// Readers find every published row's metadata where the writer put it:
// values larger than a block, many small ones across blocks and chunks.
TEST(AppendBuffer, MetadataOfEveryPublishedRowStaysReadable) {
  AppendBuffer buffer(3000);
  std::vector<std::string> metadata;
  for (uint32_t i = 0; i < 3000; ++i) {
    metadata.push_back(i % 1000 == 7 ? std::string(100000 + i, 'x') : absl::StrCat("{\"n\":", i % 1500, "}"));
    buffer.append(RowCodes{i, 0, 0, i, 0, 0}, "", metadata.back());
    if (i % 100 == 99) buffer.publish();
  }
  buffer.publish();
  EXPECT_EQ(buffer.metadata_values(), 1503u);
  for (uint32_t i = 0; i < buffer.published_rows(); ++i) {
    ASSERT_EQ(buffer.metadata(i), metadata[i]) << i;
    ASSERT_LT(buffer.metadata_code(i), buffer.metadata_values());
  }
  EXPECT_GT(buffer.memory_bytes(), 300000u);
}

}  // namespace
}  // namespace usagedb
