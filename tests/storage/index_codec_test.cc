#include "lib/storage/index_codec.h"

#include <algorithm>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/table/part_index.h"
#include "lib/util/coding.h"

namespace usagedb::storage {
namespace {

using ::testing::HasSubstr;

std::vector<uint32_t> column() {
  std::vector<uint32_t> c;
  for (uint32_t row = 0; row < 5000; ++row) c.push_back(row % 7 == 0 ? UINT32_MAX : row % 3);
  return c;
}

TEST(IndexCodec, RoundTripsAndVerifies) {
  const std::vector<uint32_t> c = column();
  const BitmapIndex index = build_bitmap_index(c);
  for (const IndexEncoding e : {IndexEncoding::kRoaring, IndexEncoding::kRoaringZstd}) {
    std::string bytes;
    encode_index(index, e, 3, &bytes);
    absl::StatusOr<BitmapIndex> back = decode_index(e, bytes);
    ASSERT_TRUE(back.ok()) << back.status();
    ASSERT_EQ(back->size(), index.size());
    for (const auto& [code, rows] : index) EXPECT_TRUE(back->at(code) == rows);
    EXPECT_TRUE(verify_index(*back, c).ok());
    for (size_t n = 0; n < bytes.size(); n += 1 + n / 8) {
      EXPECT_EQ(decode_index(e, bytes.substr(0, n)).status().code(), absl::StatusCode::kDataLoss) << n;
    }
    EXPECT_EQ(decode_index(e, bytes + '\0').status().code(), absl::StatusCode::kDataLoss);
  }
  EXPECT_EQ(decode_index(static_cast<IndexEncoding>(3), "").status().code(), absl::StatusCode::kDataLoss);
}

TEST(IndexCodec, RejectsRepeatedOrHugeValuesAndImpossibleCounts) {
  const std::string bitmap = Bitmap::from_sorted(std::vector<uint32_t>{1, 2}).serialize();
  auto entries = [&](std::vector<uint64_t> gaps) {
    std::string bytes;
    coding::put_varint64(&bytes, gaps.size());
    for (const uint64_t g : gaps) {
      coding::put_varint64(&bytes, g);
      coding::put_length_prefixed(&bytes, bitmap);
    }
    return bytes;
  };
  ASSERT_TRUE(decode_index(IndexEncoding::kRoaring, entries({3, 1})).ok());
  EXPECT_EQ(decode_index(IndexEncoding::kRoaring, entries({3, 0})).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(decode_index(IndexEncoding::kRoaring, entries({UINT32_MAX, 1})).status().code(),
            absl::StatusCode::kDataLoss);
  std::string many;
  coding::put_varint64(&many, 1'000'000);
  EXPECT_EQ(decode_index(IndexEncoding::kRoaring, many).status().code(), absl::StatusCode::kDataLoss);
  std::string empty;
  coding::put_varint64(&empty, 1);
  coding::put_varint64(&empty, 4);
  coding::put_length_prefixed(&empty, Bitmap().serialize());
  const absl::Status s = decode_index(IndexEncoding::kRoaring, empty).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(s.message()), HasSubstr("no rows"));
}

TEST(IndexCodec, VerifyFindsEveryDisagreement) {
  const std::vector<uint32_t> c = column();
  BitmapIndex index = build_bitmap_index(c);
  index.at(1).remove(1);  // row 1 unlisted
  EXPECT_THAT(std::string(verify_index(index, c).message()), HasSubstr("rows"));
  index.at(1).add(1);
  ASSERT_TRUE(verify_index(index, c).ok());
  index.at(0).add(1);  // row 1 listed twice
  EXPECT_EQ(verify_index(index, c).code(), absl::StatusCode::kDataLoss);
  index.at(0).remove(1);
  index.at(2).add(5000);  // past the end
  EXPECT_EQ(verify_index(index, c).code(), absl::StatusCode::kDataLoss);
  index.at(2).remove(5000);
  index.emplace(9, Bitmap());  // empty
  EXPECT_EQ(verify_index(index, c).code(), absl::StatusCode::kDataLoss);
  index.erase(9);
  Bitmap rows = std::move(index.at(2));  // a value's rows under another value
  index.erase(2);
  index.emplace(4, std::move(rows));
  const absl::Status s = verify_index(index, c);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(s.message()), HasSubstr("the index says 4"));
}

// verify_index() checks what a reader relies on, not every row (see
// index_codec.h): a row moved from one bitmap to another, past each
// bitmap's first row, keeps every count and passes. Such an index can only
// come from a writer with a bug (the block's checksum covers the bytes);
// reads of it stay in bounds.
TEST(IndexCodec, VerifyDoesNotCompareEveryRow) {
  const std::vector<uint32_t> c = column();
  BitmapIndex index = build_bitmap_index(c);
  uint32_t moved = 0;
  index.at(1).for_each([&](uint32_t row) { moved = row; });  // its last row
  ASSERT_NE(moved, index.at(1).minimum());
  index.at(1).remove(moved);
  index.at(0).add(moved);
  ASSERT_GT(moved, index.at(0).minimum());
  EXPECT_TRUE(verify_index(index, c).ok());
}

TEST(IndexCodec, DecodeVerifiedIndexChecksAsItDecodes) {
  const std::vector<uint32_t> c = column();
  BitmapIndex index = build_bitmap_index(c);
  std::string out;
  encode_index(index, IndexEncoding::kRoaringZstd, 3, &out);
  auto back = decode_verified_index(IndexEncoding::kRoaringZstd, out, c);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->size(), index.size());
  std::vector<uint32_t> shorter(c.begin(), c.end() - 1);
  EXPECT_EQ(decode_verified_index(IndexEncoding::kRoaringZstd, out, shorter).status().code(),
            absl::StatusCode::kDataLoss);
}

// A part's user index is a PostingIndex in memory and the same bytes on
// disk: its encoding equals the bitmap index's of the same column, and it
// reads back verified.
TEST(IndexCodec, PostingIndexWritesTheBitmapIndexFormat) {
  const std::vector<uint32_t> c = column();
  const PostingIndex postings = PostingIndex::build(c);
  for (const IndexEncoding e : {IndexEncoding::kRoaring, IndexEncoding::kRoaringZstd}) {
    std::string from_bitmaps, from_postings;
    encode_index(build_bitmap_index(c), e, 3, &from_bitmaps);
    encode_index(postings, e, 3, &from_postings);
    EXPECT_EQ(from_postings, from_bitmaps);
    absl::StatusOr<PostingIndex> back = decode_verified_postings(e, from_postings, c);
    ASSERT_TRUE(back.ok()) << back.status();
    ASSERT_EQ(back->size(), postings.size());
    postings.for_each([&](uint32_t code, std::span<const uint32_t> rows) {
      const std::span<const uint32_t> got = back->rows(code);
      EXPECT_TRUE(std::equal(rows.begin(), rows.end(), got.begin(), got.end())) << code;
    });
    std::vector<uint32_t> shorter(c.begin(), c.end() - 1);
    EXPECT_EQ(decode_verified_postings(e, from_postings, shorter).status().code(), absl::StatusCode::kDataLoss);
    EXPECT_EQ(decode_verified_postings(e, from_postings.substr(0, from_postings.size() / 2), c).status().code(),
              absl::StatusCode::kDataLoss);
  }
}

}  // namespace
}  // namespace usagedb::storage
