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
  m.dictionary_segments = {{Column::kUser, 5, 0, 10}, {Column::kFeature, 6, 0, 3}, {Column::kUser, 38, 10, 2}};
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

TEST(FramedFile, NewerVersionAndWrongMagicAreNamed) {
  const std::string v2 = frame_file("UDBMANIF", 2, "");
  auto r = decode_manifest(v2, "M");
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("format version 2 is not supported"));
  const std::string other = frame_file("UDBDICT1", 1, "");
  EXPECT_THAT(std::string(decode_manifest(other, "M").status().message()), HasSubstr("bad magic"));
}

}  // namespace
}  // namespace usagedb::storage
