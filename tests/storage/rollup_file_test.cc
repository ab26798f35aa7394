// Rollup files: what is written reads back the same, and damage is a
// DataLossError naming the file, whether the checksum catches it or the
// body disagrees with what the manifest says it must hold.
#include "lib/storage/rollup_file.h"

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/gen/random.h"
#include "lib/storage/framed_file.h"
#include "lib/storage/int_codec.h"
#include "lib/table/dictionary.h"
#include "lib/table/part_builder.h"
#include "lib/util/civil_time.h"
#include "lib/util/coding.h"
#include "lib/util/compression.h"
#include "tests/testutil/rollup_testing.h"

namespace usagedb::storage {
namespace {

using ::testing::HasSubstr;
using usagedb::testing::expect_same_rollup;

constexpr uint32_t kFileTestMonth = 202505;

struct RollupFileFixture {
  std::vector<std::shared_ptr<const Part>> parts;
  std::shared_ptr<const PartitionRollup> rollup;
  std::vector<uint32_t> users;
  RollupExpectation expect;
};

// Two parts of random rows in May 2025.
RollupFileFixture make_rollup_file_fixture() {
  RollupFileFixture f;
  Dictionary features, versions;  // the parts' sort order
  for (int i = 0; i < 5; ++i) features.intern(absl::StrCat("feature_", i));
  for (int i = 0; i < 3; ++i) versions.intern(absl::StrCat("2.", i));
  gen::Random rng(17);
  const auto begin = static_cast<uint32_t>(civil::month_start(kFileTestMonth));
  for (int p = 0; p < 2; ++p) {
    PartBuilder builder;
    for (int i = 0; i < 700; ++i) {
      RowCodes r;
      r.timestamp = begin + static_cast<uint32_t>(rng.uniform(31 * 86400));
      r.feature = static_cast<uint32_t>(rng.uniform(5));
      r.version = static_cast<uint32_t>(rng.uniform(3));
      r.user = static_cast<uint32_t>(rng.uniform(60));
      r.event_type = 0;
      r.session = static_cast<uint32_t>(rng.uniform(300));
      builder.add(r, absl::StrCat("id", p, "_", i), absl::StrCat(R"({"device":"d)", rng.uniform(4), R"("})"));
    }
    f.parts.push_back(std::move(builder).finish(10 + p, kFileTestMonth, features, versions));
  }
  f.rollup = PartitionRollup::build(kFileTestMonth, f.parts);
  for (uint32_t u = 0; u < 61; ++u) f.users.push_back(u);
  f.expect = RollupExpectation{1400, 60, 5, 3, 300};
  return f;
}

TEST(RollupFile, RoundTrip) {
  const RollupFileFixture f = make_rollup_file_fixture();
  const std::string bytes = encode_rollup(*f.rollup, f.rollup->part_ids());
  auto back = decode_rollup(bytes, "r.udbr", f.expect);
  ASSERT_TRUE(back.ok()) << back.status();
  expect_same_rollup(**back, *f.rollup, f.users);
  EXPECT_NE((*back)->serial(), f.rollup->serial());  // a cache key of its own
}

// After a merge the same rows are covered by another part: the file names
// the parts it covers now.
TEST(RollupFile, CoveredPartsAreTheFilesNotTheBuildsOnes) {
  const RollupFileFixture f = make_rollup_file_fixture();
  const std::vector<uint64_t> merged = {12};
  auto back = decode_rollup(encode_rollup(*f.rollup, merged), "r.udbr", f.expect);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ((*back)->part_ids(), merged);
}

TEST(RollupFile, EveryByteFlipOrTruncationIsDataLoss) {
  const RollupFileFixture f = make_rollup_file_fixture();
  const std::string bytes = encode_rollup(*f.rollup, f.rollup->part_ids());
  for (size_t i = 0; i < bytes.size(); i += 7) {
    std::string bad = bytes;
    bad[i] ^= 0x04;
    auto r = decode_rollup(bad, "/s/rollup-202505-9.udbr", f.expect);
    ASSERT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << i;
    EXPECT_THAT(std::string(r.status().message()), HasSubstr("/s/rollup-202505-9.udbr"));
  }
  for (size_t n = 0; n < bytes.size(); n += 5) {
    ASSERT_EQ(decode_rollup(bytes.substr(0, n), "r", f.expect).status().code(), absl::StatusCode::kDataLoss) << n;
  }
}

// A well-framed file that does not hold what the manifest says it must.
TEST(RollupFile, RejectsContentsTheManifestDoesNotAllow) {
  const RollupFileFixture f = make_rollup_file_fixture();
  const std::string bytes = encode_rollup(*f.rollup, f.rollup->part_ids());
  const auto message = [&](const RollupExpectation& e) {
    auto r = decode_rollup(bytes, "R", e);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
    return std::string(r.status().message());
  };
  // Each expectation the file does not meet, and what the error says.
  const std::pair<uint64_t RollupExpectation::*, std::pair<uint64_t, const char*>> cases[] = {
      {&RollupExpectation::rows, {1399, "R: holds 1400 rows, its parts 1399"}},
      {&RollupExpectation::users, {50, "R: summary users"}},
      {&RollupExpectation::features, {4, "R: summary code out of range"}},
      {&RollupExpectation::sessions, {200, "R: summary sessions"}},
  };
  for (const auto& [field, change] : cases) {
    RollupExpectation e = f.expect;
    e.*field = change.first;
    EXPECT_THAT(message(e), HasSubstr(change.second));
  }

  auto framed = unframe_file(bytes, "UDBROLUP", 2, "R");
  ASSERT_TRUE(framed.ok());
  const std::string after_frame = frame_file("UDBROLUP", 2, std::string(framed->body) + "x");
  EXPECT_THAT(std::string(decode_rollup(after_frame, "R", f.expect).status().message()),
              HasSubstr("R: body: zstd: 1 bytes after the frame"));
  // A byte past the rollup inside the compressed body.
  std::string_view packed = framed->body;
  uint64_t size = 0;
  ASSERT_TRUE(coding::get_varint64(&packed, &size));
  std::string body;
  ASSERT_TRUE(compression::decompress(packed, size, &body).ok());
  body += "x";
  std::string longer;
  coding::put_varint64(&longer, body.size());
  compression::compress(body, 1, &longer);
  EXPECT_THAT(std::string(decode_rollup(frame_file("UDBROLUP", 2, longer), "R", f.expect).status().message()),
              HasSubstr("R: trailing bytes"));
  const std::string newer = frame_file("UDBROLUP", 3, framed->body);
  EXPECT_THAT(std::string(decode_rollup(newer, "R", f.expect).status().message()),
              HasSubstr("format version 3 is not supported"));
}

// The sections of version 2: present, built from the rows, read back the
// same; the metadata counts absent past their limit, and so read back.
TEST(RollupFile, VersionTimelineAndMetadataCounts) {
  const RollupFileFixture f = make_rollup_file_fixture();
  ASSERT_NE(f.rollup->versions(), nullptr);
  ASSERT_NE(f.rollup->metadata(), nullptr);
  EXPECT_EQ(f.rollup->metadata()->values.size(), 4u);
  const std::string bytes = encode_rollup(*f.rollup, f.rollup->part_ids());
  auto back = decode_rollup(bytes, "r.udbr", f.expect);
  ASSERT_TRUE(back.ok()) << back.status();
  expect_same_rollup(**back, *f.rollup, f.users);

  // Every row its own metadata string: more than MetadataCounts::kMaxValues.
  Dictionary features, versions;
  features.intern("f");
  versions.intern("1.0");
  PartBuilder builder;
  const auto begin = static_cast<uint32_t>(civil::month_start(kFileTestMonth));
  for (uint32_t i = 0; i <= MetadataCounts::kMaxValues; ++i) {
    builder.add(RowCodes{begin + i, 0, 0, i % 7, 0, 0}, "", absl::StrCat(R"({"n":)", i, "}"));
  }
  const std::shared_ptr<const Part> part = std::move(builder).finish(20, kFileTestMonth, features, versions);
  const auto rollup = PartitionRollup::build(kFileTestMonth, {&part, 1});
  EXPECT_EQ(rollup->metadata(), nullptr);
  EXPECT_NE(rollup->versions(), nullptr);
  const RollupExpectation expect{MetadataCounts::kMaxValues + 1, 7, 1, 1, 1};
  auto distinct = decode_rollup(encode_rollup(*rollup, rollup->part_ids()), "r.udbr", expect);
  ASSERT_TRUE(distinct.ok()) << distinct.status();
  EXPECT_EQ((*distinct)->metadata(), nullptr);
  expect_same_rollup(**distinct, *rollup, {0, 1, 2, 3, 4, 5, 6});
}

// A user's count of one group past 32 bits (a month of over 4G events, which
// no test can build from rows): written by hand in the file's format, read
// back exactly, and written again the same.
TEST(RollupFile, CountsPast32BitsStayExact) {
  constexpr uint64_t kEvents = (uint64_t{5} << 30) + 7;  // > UINT32_MAX
  const auto t = static_cast<uint32_t>(civil::month_start(kFileTestMonth));
  std::string body;
  const auto put = [&](uint64_t v) { coding::put_varint64(&body, v); };
  const auto one = [](uint32_t v) { return std::vector<uint32_t>{v}; };
  put(kFileTestMonth);
  put(kEvents);  // rows
  put(1);        // covered parts
  put(10);
  put(1);  // summary cells
  put(0);  // feature
  put(0);  // version
  put(kEvents);
  put(t);
  put(0);  // last - first
  for (int i = 0; i < 2; ++i) coding::put_length_prefixed(&body, Bitmap::from_sorted(one(0)).serialize());
  put(1);  // users
  encode_ascending(one(0), &body);
  encode_for(one(1), &body);  // entries of the user
  encode_for(one(0), &body);  // its summary cell
  put(kEvents);
  encode_for(one(t), &body);
  encode_for(one(0), &body);
  for (int level = 0; level < 4; ++level) {
    put(1);  // cells
    encode_ascending(one(t), &body);
    encode_for(one(0), &body);  // feature
    put(kEvents);
    encode_for(one(1), &body);  // users per cell
    encode_for(one(0), &body);  // user 0
  }
  std::string packed;
  coding::put_varint64(&packed, body.size());
  compression::compress(body, 1, &packed);
  const RollupExpectation expect{kEvents, 1, 1, 1, 1};
  auto rollup = decode_rollup(frame_file("UDBROLUP", 1, packed), "R", expect);
  ASSERT_TRUE(rollup.ok()) << rollup.status();
  // A version 1 file: without the sections version 2 added.
  EXPECT_EQ((*rollup)->versions(), nullptr);
  EXPECT_EQ((*rollup)->metadata(), nullptr);
  ASSERT_EQ((*rollup)->user(0).size(), 1u);
  EXPECT_EQ((*rollup)->user(0)[0].count32, UserEntry::kBigCount);
  EXPECT_EQ((*rollup)->count((*rollup)->user(0)[0]), kEvents);
  auto again = decode_rollup(encode_rollup(**rollup, (*rollup)->part_ids()), "R", expect);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ((*again)->count((*again)->user(0)[0]), kEvents);
  expect_same_rollup(**again, **rollup, {0});
}

}  // namespace
}  // namespace usagedb::storage
