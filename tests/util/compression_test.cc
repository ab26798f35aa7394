#include "lib/util/compression.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/gen/random.h"

namespace usagedb::compression {
namespace {

using ::testing::HasSubstr;

std::string sample() {
  std::string s;
  for (int i = 0; i < 5000; ++i) s += "evt_" + std::to_string(100000 + i);
  return s;
}

TEST(Compression, RoundTripShrinksRepetitiveBytes) {
  for (const std::string& in : {std::string(), std::string("x"), sample()}) {
    std::string packed = "prefix";  // compress() appends
    compress(in, kDefaultLevel, &packed);
    ASSERT_EQ(packed.substr(0, 6), "prefix");
    std::string back = "old contents";
    ASSERT_TRUE(decompress(std::string_view(packed).substr(6), in.size(), &back).ok());
    EXPECT_EQ(back, in);
  }
  std::string packed;
  compress(sample(), kDefaultLevel, &packed);
  EXPECT_LT(packed.size() * 4, sample().size());
}

TEST(Compression, RejectsWrongSizeGarbageTruncationAndTrailingBytes) {
  const std::string in = sample();
  std::string packed;
  compress(in, kDefaultLevel, &packed);
  std::string out;
  absl::Status s = decompress(packed, in.size() + 1, &out);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(s.message()), HasSubstr("expected"));

  s = decompress("not a zstd frame at all", 10, &out);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);

  for (size_t n = 0; n < packed.size(); n += 1 + n / 4) {
    s = decompress(std::string_view(packed).substr(0, n), in.size(), &out);
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << "truncated at " << n;
  }

  s = decompress(packed + "x", in.size(), &out);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(s.message()), HasSubstr("after the frame"));

  // Corrupt the compressed body: zstd's block decoding or its size check fails.
  gen::Random random(3);
  for (int i = 0; i < 200; ++i) {
    std::string bad = packed;
    bad[random.uniform(bad.size())] ^= static_cast<char>(1 + random.uniform(255));
    std::string back;
    s = decompress(bad, in.size(), &back);
    if (s.ok()) continue;  // a flip zstd cannot see (no content checksum); the part file's checksum does
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  }
}

TEST(Compression, RefusesAnImplausibleSizeBeforeAllocating) {
  // Zeros compress at zstd's maximum ratio (RLE blocks): still accepted.
  const std::string zeros(8 << 20, '\0');
  std::string packed;
  compress(zeros, kDefaultLevel, &packed);
  std::string out;
  ASSERT_TRUE(decompress(packed, zeros.size(), &out).ok());
  EXPECT_EQ(out, zeros);
  // The same frame header with too few bytes behind it to produce what it
  // claims: refused before the 8 MiB are allocated.
  out.clear();
  const absl::Status s = decompress(std::string_view(packed).substr(0, 24), zeros.size(), &out);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(s.message()), HasSubstr("cannot hold"));
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace usagedb::compression
