#include "lib/table/sequence_column.h"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "lib/gen/random.h"

namespace usagedb {
namespace {

// Values shaped like a part's: mostly ascending within a few thousand,
// some far apart (a merge of old and new rows), some equal spans of zero
// width, and the extremes of uint64_t.
std::vector<uint64_t> sequence_values(uint64_t seed, size_t n) {
  gen::Random random(seed);
  std::vector<uint64_t> v(n);
  const uint64_t base = random.chance(0.2) ? ~uint64_t{0} - n * 4 : random.uniform(1'000'000);
  for (size_t i = 0; i < n; ++i) {
    switch (random.uniform(10)) {
      case 0: v[i] = random.chance(0.5) ? random.next() : base; break;
      default: v[i] = base + i * 3 + random.uniform(3); break;
    }
  }
  return v;
}

TEST(SequenceColumn, RandomColumnsAnswerAsTheirValues) {
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    const size_t n = seed % 7 == 0 ? 1 : static_cast<size_t>(1 + (seed * 997) % 5000);
    const std::vector<uint64_t> v = sequence_values(seed, n);
    const SequenceColumn c = SequenceColumn::pack(v);
    ASSERT_EQ(c.size(), n);
    EXPECT_EQ(c.min(), *std::min_element(v.begin(), v.end()));
    EXPECT_EQ(c.max(), *std::max_element(v.begin(), v.end()));
    std::vector<uint64_t> unpacked;
    c.unpack(&unpacked);
    ASSERT_EQ(unpacked, v) << "seed " << seed;
    for (size_t i = 0; i < n; i += 13) ASSERT_EQ(c.at(i), v[i]);

    gen::Random random(seed + 100);
    for (int q = 0; q < 20; ++q) {
      uint64_t after = v[random.uniform(n)] - (random.chance(0.5) ? 1 : 0);
      uint64_t through = std::max(after, v[random.uniform(n)]) + random.uniform(5);
      if (through < after) through = after;  // wrapped
      std::optional<uint64_t> want;
      std::vector<std::pair<uint32_t, uint64_t>> rows_want, rows_got;
      for (size_t i = 0; i < n; ++i) {
        if (v[i] > after && v[i] <= through) {
          if (!want || v[i] < *want) want = v[i];
          rows_want.emplace_back(static_cast<uint32_t>(i), v[i]);
        }
      }
      EXPECT_EQ(c.smallest_in(after, through), want) << "seed " << seed << " (" << after << ", " << through << "]";
      c.for_each_in(after, through, [&](uint32_t row, uint64_t s) { rows_got.emplace_back(row, s); });
      EXPECT_EQ(rows_got, rows_want);
    }

    std::string bytes;
    c.encode(&bytes);
    std::string_view in = bytes;
    absl::StatusOr<SequenceColumn> back = SequenceColumn::decode(&in, n);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_TRUE(in.empty());
    EXPECT_TRUE(*back == c);
  }
}

TEST(SequenceColumn, MalformedBytesAreErrors) {
  std::vector<uint64_t> v(1500);
  for (size_t i = 0; i < v.size(); ++i) v[i] = 1000 + i * 5;
  std::string bytes;
  SequenceColumn::pack(v).encode(&bytes);
  for (size_t cut = 0; cut < bytes.size(); cut += 7) {
    std::string_view in = std::string_view(bytes).substr(0, cut);
    EXPECT_FALSE(SequenceColumn::decode(&in, v.size()).ok()) << "cut at " << cut;
  }
  // A width over 64 bits (the byte after the first block's varint min).
  std::string wide;
  wide.push_back('\x01');  // min 1
  wide.push_back('\x41');  // width 65
  wide.append(200, '\0');
  std::string_view in = wide;
  absl::StatusOr<SequenceColumn> got = SequenceColumn::decode(&in, 3);
  ASSERT_FALSE(got.ok());
  EXPECT_NE(std::string(got.status().message()).find("width of 65"), std::string::npos) << got.status();
  // Padding bits that are not zero: 3 values of 3 bits use 9 bits of 2 bytes.
  std::string padded = {'\x00', '\x03', '\x00', '\x80'};
  in = padded;
  got = SequenceColumn::decode(&in, 3);
  ASSERT_FALSE(got.ok());
  EXPECT_NE(std::string(got.status().message()).find("padding"), std::string::npos) << got.status();
  // A value past 2^64 - 1: min 2^64 - 1, width 1, a delta of 1.
  std::string past = {'\xff', '\xff', '\xff', '\xff', '\xff', '\xff', '\xff', '\xff', '\xff', '\x01', '\x01', '\x01'};
  in = past;
  got = SequenceColumn::decode(&in, 1);
  ASSERT_FALSE(got.ok());
  EXPECT_NE(std::string(got.status().message()).find("past 2^64"), std::string::npos) << got.status();
}

}  // namespace
}  // namespace usagedb
