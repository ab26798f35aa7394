// Comparing two parts column by column and index by index, shared by the
// part builder and part file tests (one definition for the unity build).
#ifndef USAGEDB_TESTS_TESTUTIL_PART_TESTING_H_
#define USAGEDB_TESTS_TESTUTIL_PART_TESTING_H_

#include <algorithm>

#include "gtest/gtest.h"
#include "lib/table/part.h"

namespace usagedb::testing {

inline void expect_same_index(const BitmapIndex& got, const BitmapIndex& want, const char* what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (const auto& [code, rows] : want) {
    auto it = got.find(code);
    ASSERT_NE(it, got.end()) << what << " lacks value " << code;
    EXPECT_TRUE(it->second == rows) << what << " differs for value " << code;
  }
}

inline void expect_same_postings(const PostingIndex& got, const PostingIndex& want, const char* what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  EXPECT_EQ(got.total_rows(), want.total_rows()) << what;
  want.for_each([&](uint32_t code, std::span<const uint32_t> rows) {
    const std::span<const uint32_t> other = got.rows(code);
    EXPECT_TRUE(std::equal(rows.begin(), rows.end(), other.begin(), other.end()))
        << what << " differs for value " << code;
  });
}

// Every column, the metadata values, the event ids and the three indexes.
inline void expect_same_part(const Part& got, const Part& want) {
  EXPECT_EQ(got.id(), want.id());
  EXPECT_EQ(got.month(), want.month());
  ASSERT_EQ(got.rows(), want.rows());
  EXPECT_EQ(got.min_timestamp(), want.min_timestamp());
  EXPECT_EQ(got.max_timestamp(), want.max_timestamp());
  const PartColumns& a = got.columns();
  const PartColumns& b = want.columns();
  EXPECT_EQ(a.timestamp, b.timestamp);
  EXPECT_EQ(a.feature, b.feature);
  EXPECT_EQ(a.version, b.version);
  EXPECT_EQ(a.user, b.user);
  EXPECT_EQ(a.event_type, b.event_type);
  EXPECT_EQ(a.session, b.session);
  EXPECT_EQ(a.metadata, b.metadata);
  EXPECT_EQ(a.metadata_values.bytes(), b.metadata_values.bytes());
  EXPECT_EQ(a.metadata_values.ends(), b.metadata_values.ends());
  EXPECT_EQ(a.event_id.bytes(), b.event_id.bytes());
  EXPECT_EQ(a.event_id.ends(), b.event_id.ends());
  EXPECT_TRUE(a.sequence == b.sequence) << "sequence columns differ";
  expect_same_postings(got.indexes().user, want.indexes().user, "user index");
  expect_same_index(got.indexes().feature, want.indexes().feature, "feature index");
  expect_same_index(got.indexes().version, want.indexes().version, "version index");
}

}  // namespace usagedb::testing

#endif  // USAGEDB_TESTS_TESTUTIL_PART_TESTING_H_
