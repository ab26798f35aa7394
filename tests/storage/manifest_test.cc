#include "lib/storage/manifest.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/storage/framed_file.h"

namespace usagedb::storage {
namespace {

using ::testing::HasSubstr;

Manifest sample() {
  Manifest m;
  m.next_file_number = 42;
  m.log_number = 40;
  m.quarantine_number = 3;
  m.parts = {{202501, 7, 1000, 12345}, {202502, 39, 5, 99}};
  m.dictionary_segments = {
      {DictionaryColumn::kUser, 5, 0, 10}, {DictionaryColumn::kFeature, 6, 0, 3}, {DictionaryColumn::kUser, 38, 10, 2}};
  m.rollups = {{202501, 8, {7}}, {202502, 41, {39}}};
  return m;
}

TEST(Manifest, RoundTrip) {
  const Manifest m = sample();
  auto back = decode_manifest(encode_manifest(m), "MANIFEST");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, m);
  EXPECT_EQ(*decode_manifest(encode_manifest(Manifest{}), "MANIFEST"), Manifest{});
}

TEST(Manifest, EveryByteFlipOrTruncationIsDataLoss) {
  const std::string bytes = encode_manifest(sample());
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string bad = bytes;
    bad[i] ^= 0x20;
    auto r = decode_manifest(bad, "/store/MANIFEST");
    ASSERT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << i;
    EXPECT_THAT(std::string(r.status().message()), HasSubstr("/store/MANIFEST"));
  }
  for (size_t n = 0; n < bytes.size(); ++n) {
    ASSERT_EQ(decode_manifest(bytes.substr(0, n), "M").status().code(), absl::StatusCode::kDataLoss) << n;
  }
}

TEST(Manifest, RejectsInconsistentContentsEvenWithAValidChecksum) {
  Manifest gap = sample();
  gap.dictionary_segments[2].first_code = 11;  // codes 10 missing
  auto r = decode_manifest(encode_manifest(gap), "M");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("expected 10"));
  Manifest month = sample();
  month.parts[0].month = 202513;
  EXPECT_THAT(std::string(decode_manifest(encode_manifest(month), "M").status().message()), HasSubstr("month"));
  Manifest number = sample();
  number.parts[0].file_number = 42;
  EXPECT_EQ(decode_manifest(encode_manifest(number), "M").status().code(), absl::StatusCode::kDataLoss);
}

// A version 1 manifest (before rollup files) reads as one without rollups.
TEST(Manifest, VersionOneHasNoRollups) {
  Manifest m = sample();
  m.rollups.clear();
  const std::string v2 = encode_manifest(m);
  auto framed = unframe_file(v2, "UDBMANIF", 3, "M");
  ASSERT_TRUE(framed.ok()) << framed.status();
  ASSERT_EQ(framed->body.back(), '\0');  // the rollup count, last
  const std::string v1 = frame_file("UDBMANIF", 1, framed->body.substr(0, framed->body.size() - 1));
  auto back = decode_manifest(v1, "M");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, m);
}

TEST(Manifest, RejectsRollupsThatDoNotMatchItsParts) {
  const auto message = [](const Manifest& m) {
    return std::string(decode_manifest(encode_manifest(m), "M").status().message());
  };
  Manifest other_month = sample();
  other_month.rollups[0].parts = {39};  // a part of 202502
  EXPECT_THAT(message(other_month), HasSubstr("rollup 8 covers part 39, not a part of month 202501"));
  Manifest unknown = sample();
  unknown.rollups[1].parts = {39, 40};
  EXPECT_THAT(message(unknown), HasSubstr("covers part 40"));
  Manifest order = sample();
  std::swap(order.rollups[0], order.rollups[1]);
  EXPECT_THAT(message(order), HasSubstr("rollups out of month order"));
  Manifest number = sample();
  number.rollups[1].file_number = 42;
  EXPECT_THAT(message(number), HasSubstr("rollup file number"));
  Manifest none = sample();
  none.rollups[0].parts.clear();
  EXPECT_THAT(message(none), HasSubstr("truncated rollup list"));
  Manifest twice = sample();
  twice.parts.push_back({202501, 9, 10, 100});
  twice.rollups.insert(twice.rollups.begin() + 1, RollupFileEntry{202501, 10, {7, 9}});
  EXPECT_THAT(message(twice), HasSubstr("part 7 is covered by two rollups"));
}

// Version 3: a month may have several rollups (one per part, as the store
// keeps them); version 2 allowed one.
TEST(Manifest, SeveralRollupsPerMonthFromVersionThree) {
  Manifest m = sample();
  m.parts.push_back({202501, 9, 10, 100});
  m.rollups.insert(m.rollups.begin() + 1, RollupFileEntry{202501, 10, {9}});
  auto back = decode_manifest(encode_manifest(m), "M");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, m);
  const std::string v3 = encode_manifest(m);
  auto framed = unframe_file(v3, "UDBMANIF", 3, "M");
  ASSERT_TRUE(framed.ok());
  auto v2 = decode_manifest(frame_file("UDBMANIF", 2, framed->body), "M");
  EXPECT_THAT(std::string(v2.status().message()), HasSubstr("rollups out of month order"));
  // A version 2 manifest as written before (one rollup per month) reads as it is.
  const Manifest one = sample();
  const std::string one_v3 = encode_manifest(one);
  framed = unframe_file(one_v3, "UDBMANIF", 3, "M");
  ASSERT_TRUE(framed.ok());
  v2 = decode_manifest(frame_file("UDBMANIF", 2, framed->body), "M");
  ASSERT_TRUE(v2.ok()) << v2.status();
  EXPECT_EQ(*v2, one);
}

TEST(FramedFile, NewerVersionAndWrongMagicAreNamed) {
  const std::string v4 = frame_file("UDBMANIF", 4, "");
  auto r = decode_manifest(v4, "M");
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("format version 4 is not supported"));
  const std::string other = frame_file("UDBDICT1", 1, "");
  EXPECT_THAT(std::string(decode_manifest(other, "M").status().message()), HasSubstr("bad magic"));
}

}  // namespace
}  // namespace usagedb::storage
