#include "lib/storage/string_codec.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/storage/int_codec.h"
#include "lib/util/coding.h"
#include "lib/util/compression.h"

namespace usagedb::storage {
namespace {

StringColumn column_of(const std::vector<std::string>& strings) {
  StringColumn::Builder b;
  for (const std::string& s : strings) b.add(s);
  return std::move(b).finish();
}

StringEncoding round_trip(const std::vector<std::string>& strings) {
  const StringColumn column = column_of(strings);
  std::string bytes;
  const StringEncoding e = encode_strings(column, compression::kDefaultLevel, &bytes);
  absl::StatusOr<StringColumn> back = decode_strings(e, bytes);
  EXPECT_TRUE(back.ok()) << back.status();
  if (back.ok()) {
    EXPECT_EQ(back->bytes(), column.bytes());
    EXPECT_EQ(back->ends(), column.ends());
  }
  return e;
}

TEST(StringCodec, SequenceIdsAsPrefixAndNumbers) {
  std::vector<std::string> ids;
  for (int i = 0; i < 3000; ++i) ids.push_back("evt_" + std::to_string(100000 + (i * 7919) % 3000));
  EXPECT_EQ(round_trip(ids), StringEncoding::kPrefixedInts);
  // Prefixes that end in digits, no prefix, 0, 2^64-1, a single id.
  EXPECT_EQ(round_trip({"x12", "x13", "x9"}), StringEncoding::kPrefixedInts);
  EXPECT_EQ(round_trip({"5", "0", "1"}), StringEncoding::kPrefixedInts);
  EXPECT_EQ(round_trip({"18446744073709551615", "18446744073709551614"}), StringEncoding::kPrefixedInts);
  EXPECT_EQ(round_trip({"evt_7"}), StringEncoding::kPrefixedInts);
  EXPECT_EQ(round_trip({"a1_5", "a1_6", "a1_10000"}), StringEncoding::kPrefixedInts);
}

TEST(StringCodec, EverythingElseAsZstdOrPlain) {
  // Leading zeros, a sign, empty ids, mixed prefixes, over 2^64-1, deltas over 2^31: not exact as numbers.
  EXPECT_NE(round_trip({"evt_01", "evt_2"}), StringEncoding::kPrefixedInts);
  EXPECT_NE(round_trip({"evt_-1", "evt_2"}), StringEncoding::kPrefixedInts);
  EXPECT_NE(round_trip({"evt_1", ""}), StringEncoding::kPrefixedInts);
  EXPECT_NE(round_trip({"evt_1", "usr_2"}), StringEncoding::kPrefixedInts);
  EXPECT_NE(round_trip({"18446744073709551616"}), StringEncoding::kPrefixedInts);
  EXPECT_NE(round_trip({"1", "9999999999"}), StringEncoding::kPrefixedInts);
  EXPECT_NE(round_trip({"0", "18446744073709551615"}), StringEncoding::kPrefixedInts);  // -1 only modulo 2^64
  EXPECT_EQ(round_trip({"ab", std::string(1, '\0'), "\xff\xfe"}), StringEncoding::kPlain);
  EXPECT_EQ(round_trip(std::vector<std::string>(100, R"({"device":"desktop","os":"linux"})")), StringEncoding::kZstd);
  round_trip({});
  round_trip({"", "", ""});
  round_trip({std::string(300'000, 'q'), "", "x"});
}

TEST(StringCodec, RejectsMalformedPayloads) {
  const StringColumn column = column_of(std::vector<std::string>(50, "metadata value"));
  std::string zstd;
  ASSERT_EQ(encode_strings(column, compression::kDefaultLevel, &zstd), StringEncoding::kZstd);
  for (size_t n = 0; n < zstd.size(); ++n) {
    EXPECT_EQ(decode_strings(StringEncoding::kZstd, zstd.substr(0, n)).status().code(), absl::StatusCode::kDataLoss)
        << n;
  }
  EXPECT_EQ(decode_strings(StringEncoding::kZstd, zstd + "x").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(decode_strings(StringEncoding::kPlain, zstd).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(decode_strings(static_cast<StringEncoding>(7), zstd).status().code(), absl::StatusCode::kDataLoss);

  // Lengths that disagree with the stated total.
  std::string bad;
  coding::put_varint64(&bad, 2);
  coding::put_varint64(&bad, 5);
  encode_for(std::vector<uint32_t>{2, 2}, &bad);
  bad += "abcde";
  const absl::Status s = decode_strings(StringEncoding::kPlain, bad).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("add up to 4 bytes"));
}

TEST(StringCodec, RejectsPrefixedNumbersThatWrap) {
  auto payload = [](uint64_t first, std::vector<uint32_t> zigzag_deltas) {
    std::string bytes;
    coding::put_varint64(&bytes, zigzag_deltas.size() + 1);
    coding::put_length_prefixed(&bytes, "evt_");
    coding::put_varint64(&bytes, first);
    encode_for(zigzag_deltas, &bytes);
    return bytes;
  };
  absl::StatusOr<StringColumn> ok = decode_strings(StringEncoding::kPrefixedInts, payload(10, {2, 1}));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->at(1), "evt_11");
  EXPECT_EQ(ok->at(2), "evt_10");
  EXPECT_EQ(decode_strings(StringEncoding::kPrefixedInts, payload(0, {1})).status().code(),
            absl::StatusCode::kDataLoss);  // 0 - 1
  EXPECT_EQ(decode_strings(StringEncoding::kPrefixedInts, payload(UINT64_MAX, {2})).status().code(),
            absl::StatusCode::kDataLoss);  // 2^64-1 + 1
  // A million copies of a 2 KiB prefix: 23 bytes of deltas that would print 2 GiB.
  std::string bomb;
  coding::put_varint64(&bomb, 1'000'000);
  coding::put_length_prefixed(&bomb, std::string(2048, 'p'));
  coding::put_varint64(&bomb, 1);
  encode_for(std::vector<uint32_t>(999'999, 0), &bomb);
  const absl::Status s = decode_strings(StringEncoding::kPrefixedInts, bomb).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("print more than"));
  std::string none;
  coding::put_varint64(&none, 0);
  EXPECT_EQ(decode_strings(StringEncoding::kPrefixedInts, none).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(decode_strings(StringEncoding::kPrefixedInts, payload(5, {2}) + "z").status().code(),
            absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace usagedb::storage
