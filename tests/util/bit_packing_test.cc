#include "lib/util/bit_packing.h"

#include <memory>
#include <vector>

#include "gtest/gtest.h"
#include "lib/gen/random.h"

namespace usagedb::coding {
namespace {

TEST(BitPacking, RoundTripsEveryWidthAndCount) {
  gen::Random random(5);
  for (unsigned width = 0; width <= kMaxBitWidth; ++width) {
    for (const size_t count : {0, 1, 2, 7, 8, 9, 63, 64, 65, 1000, 1024}) {
      std::vector<uint32_t> values(count);
      const uint64_t limit = uint64_t{1} << width;
      for (uint32_t& v : values) v = static_cast<uint32_t>(random.uniform(limit));
      if (count > 0) values[0] = static_cast<uint32_t>(limit - 1);  // the widest value
      std::string packed;
      pack_bits(values, width, &packed);
      ASSERT_EQ(packed.size(), packed_size(count, width));
      // An exact-size heap copy, so ASan reports any read past the packed bytes.
      auto exact = std::make_unique<char[]>(packed.size() + (packed.empty() ? 1 : 0));
      std::copy(packed.begin(), packed.end(), exact.get());
      std::vector<uint32_t> back(count, 12345);
      unpack_bits(exact.get(), count, width, back.data());
      ASSERT_EQ(back, values) << "width " << width << ", count " << count;
    }
  }
}

TEST(BitPacking, LayoutIsLsbFirst) {
  // 3-bit values 1, 2, 3, 4 -> bits 001 010 011 100 from the low end.
  std::string packed;
  const uint32_t values[] = {1, 2, 3, 4};
  pack_bits(values, 3, &packed);
  ASSERT_EQ(packed.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(packed[0]), 0b11010001);
  EXPECT_EQ(static_cast<unsigned char>(packed[1]), 0b00001000);
}

TEST(BitPacking, BitWidthOf) {
  EXPECT_EQ(bit_width_of(0), 0u);
  EXPECT_EQ(bit_width_of(1), 1u);
  EXPECT_EQ(bit_width_of(255), 8u);
  EXPECT_EQ(bit_width_of(256), 9u);
  EXPECT_EQ(bit_width_of(UINT32_MAX), 32u);
}

}  // namespace
}  // namespace usagedb::coding
