#include "lib/storage/int_codec.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/gen/random.h"
#include "lib/util/coding.h"

namespace usagedb::storage {
namespace {

using ::testing::HasSubstr;

absl::Status decode(IntEncoding e, std::string_view bytes, size_t count, uint64_t limit,
                    std::vector<uint32_t>* out) {
  std::string_view in = bytes;
  absl::Status s = decode_ints(e, &in, count, limit, out);
  if (s.ok() && !in.empty()) return absl::DataLossError("bytes left over");
  return s;
}

TEST(IntCodec, RoundTripsEveryEncoding) {
  gen::Random random(21);
  for (const size_t n : {0, 1, 2, 1023, 1024, 1025, 5000}) {
    std::vector<uint32_t> small(n), wide(n), ascending(n), sparse(n);
    uint64_t t = random.uniform(1u << 31);
    for (size_t i = 0; i < n; ++i) {
      small[i] = static_cast<uint32_t>(random.uniform(7));
      wide[i] = static_cast<uint32_t>(random.next());
      t += random.uniform(100);
      ascending[i] = static_cast<uint32_t>(std::min<uint64_t>(t, UINT32_MAX));
      sparse[i] = UINT32_MAX - static_cast<uint32_t>(random.uniform(4)) * 100'000'000u;
    }
    for (const auto* values : {&small, &wide, &ascending, &sparse}) {
      std::string a, b, c;
      encode_for(*values, &a);
      const IntEncoding e = encode_codes(*values, &b);
      std::vector<uint32_t> out;
      ASSERT_TRUE(decode(IntEncoding::kFor, a, n, kNoLimit, &out).ok());
      EXPECT_EQ(out, *values);
      ASSERT_TRUE(decode(e, b, n, kNoLimit, &out).ok());
      EXPECT_EQ(out, *values);
      EXPECT_LE(b.size(), a.size());
      EXPECT_EQ(for_size(*values), a.size());
    }
    std::string d;
    encode_ascending(ascending, &d);
    std::vector<uint32_t> out;
    ASSERT_TRUE(decode(IntEncoding::kDeltaFor, d, n, kNoLimit, &out).ok());
    EXPECT_EQ(out, ascending);
  }
}

TEST(IntCodec, ChoosesALocalDictionaryForFewSpreadCodes) {
  std::vector<uint32_t> values;
  for (int i = 0; i < 4096; ++i) values.push_back(i % 3 == 0 ? 5 : i % 3 == 1 ? 3'000'000 : 4'000'000'000u);
  std::string out;
  EXPECT_EQ(encode_codes(values, &out), IntEncoding::kDictFor);
  EXPECT_LT(out.size(), 4096u / 4 + 64);  // 2 bits a value, plus the dictionary and block headers
  std::vector<uint32_t> dense(4096);
  for (int i = 0; i < 4096; ++i) dense[i] = i % 8;
  out.clear();
  EXPECT_EQ(encode_codes(dense, &out), IntEncoding::kFor);
}

TEST(IntCodec, RejectsMalformedBlocks) {
  std::vector<uint32_t> out;
  std::string bytes;
  coding::put_varint64(&bytes, 0);
  bytes.push_back(33);  // width over 32
  bytes.append(200, '\0');
  absl::Status s = decode(IntEncoding::kFor, bytes, 10, kNoLimit, &out);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(s.message()), HasSubstr("bit width 33"));

  std::vector<uint32_t> values(3000, 7);
  values[2500] = 900;
  std::string good;
  encode_for(values, &good);
  for (size_t n = 0; n < good.size(); ++n) {
    EXPECT_EQ(decode(IntEncoding::kFor, good.substr(0, n), values.size(), kNoLimit, &out).code(),
              absl::StatusCode::kDataLoss)
        << "truncated to " << n;
  }
  s = decode(IntEncoding::kFor, good, values.size(), 900, &out);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(s.message()), HasSubstr("value 7 + 893 is out of range"));
  EXPECT_TRUE(decode(IntEncoding::kFor, good, values.size(), 901, &out).ok());

  // A min past 2^32-1.
  std::string over;
  coding::put_varint64(&over, uint64_t{1} << 32);
  over.push_back(0);
  EXPECT_EQ(decode(IntEncoding::kFor, over, 1, kNoLimit, &out).code(), absl::StatusCode::kDataLoss);

  // A min near 2^64 whose sum with a packed value wraps past 0.
  std::string wraps;
  coding::put_varint64(&wraps, UINT64_MAX);
  wraps.push_back(1);
  wraps.push_back(1);
  s = decode(IntEncoding::kFor, wraps, 1, kNoLimit, &out);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(s.message()), HasSubstr("out of range"));

  // A row count far beyond what the bytes can hold is refused before allocating.
  s = decode(IntEncoding::kFor, good, size_t{1} << 40, kNoLimit, &out);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(s.message()), HasSubstr("cannot hold"));

  EXPECT_EQ(decode(static_cast<IntEncoding>(9), good, values.size(), kNoLimit, &out).code(),
            absl::StatusCode::kDataLoss);
}

TEST(IntCodec, RejectsDeltasThatOverflow) {
  std::string bytes;
  coding::put_varint64(&bytes, UINT32_MAX - 5);
  const std::vector<uint32_t> deltas = {3, 3};  // reaches 2^32 + 0
  encode_for(deltas, &bytes);
  std::vector<uint32_t> out;
  EXPECT_EQ(decode(IntEncoding::kDeltaFor, bytes, 3, kNoLimit, &out).code(), absl::StatusCode::kDataLoss);
  std::string first;
  coding::put_varint64(&first, uint64_t{1} << 32);
  EXPECT_EQ(decode(IntEncoding::kDeltaFor, first, 1, kNoLimit, &out).code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(decode(IntEncoding::kDeltaFor, "", 1, kNoLimit, &out).code(), absl::StatusCode::kDataLoss);
}

TEST(IntCodec, RejectsMalformedDictionaries) {
  auto dict = [](std::vector<uint64_t> gaps, std::vector<uint32_t> ids) {
    std::string bytes;
    coding::put_varint64(&bytes, gaps.size());
    for (const uint64_t g : gaps) coding::put_varint64(&bytes, g);
    encode_for(ids, &bytes);
    return bytes;
  };
  std::vector<uint32_t> out;
  ASSERT_TRUE(decode(IntEncoding::kDictFor, dict({4, 6}, {0, 1, 1}), 3, kNoLimit, &out).ok());
  EXPECT_EQ(out, (std::vector<uint32_t>{4, 10, 10}));
  const struct {
    const char* what;
    std::string bytes;
    uint64_t limit;
  } cases[] = {
      {"repeated value", dict({4, 0}, {0, 1, 1}), kNoLimit},
      {"id past the dictionary", dict({4, 6}, {0, 2, 1}), kNoLimit},
      {"value past the limit", dict({4, 6}, {0, 1, 1}), 10},
      {"value past 2^32", dict({UINT32_MAX, 1}, {0, 1, 1}), kNoLimit},
      {"empty dictionary", dict({}, {0, 0, 0}), kNoLimit},
      {"more values than rows", dict({1, 1, 1, 1}, {0, 1, 2}), kNoLimit},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(decode(IntEncoding::kDictFor, c.bytes, 3, c.limit, &out).code(), absl::StatusCode::kDataLoss)
        << c.what;
  }
}

}  // namespace
}  // namespace usagedb::storage
