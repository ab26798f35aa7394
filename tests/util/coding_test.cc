#include "lib/util/coding.h"

#include "gtest/gtest.h"

namespace usagedb::coding {
namespace {

TEST(Coding, VarintRoundTrip) {
  std::string buf;
  const uint64_t values[] = {0, 1, 127, 128, 300, 16383, 16384, UINT32_MAX, UINT64_MAX};
  for (uint64_t v : values) put_varint64(&buf, v);
  std::string_view in = buf;
  for (uint64_t v : values) {
    uint64_t got;
    ASSERT_TRUE(get_varint64(&in, &got));
    EXPECT_EQ(got, v);
  }
  EXPECT_TRUE(in.empty());
}

TEST(Coding, VarintRejectsTruncatedAndOverlong) {
  std::string buf;
  put_varint64(&buf, UINT64_MAX);
  uint64_t v;
  std::string_view truncated(buf.data(), buf.size() - 1);
  EXPECT_FALSE(get_varint64(&truncated, &v));
  std::string overlong(11, '\xff');
  std::string_view in = overlong;
  EXPECT_FALSE(get_varint64(&in, &v));
}

TEST(Coding, FixedAndLengthPrefixed) {
  std::string buf;
  put_fixed32(&buf, 0xDEADBEEF);
  put_fixed64(&buf, 0x0123456789ABCDEFULL);
  put_length_prefixed(&buf, "hello");
  std::string_view in = buf;
  uint32_t a;
  uint64_t b;
  std::string_view s;
  ASSERT_TRUE(get_fixed32(&in, &a));
  ASSERT_TRUE(get_fixed64(&in, &b));
  ASSERT_TRUE(get_length_prefixed(&in, &s));
  EXPECT_EQ(a, 0xDEADBEEFu);
  EXPECT_EQ(b, 0x0123456789ABCDEFULL);
  EXPECT_EQ(s, "hello");
  std::string_view short_in = std::string_view(buf).substr(12, 3);  // length 5, only 2 bytes follow
  EXPECT_FALSE(get_length_prefixed(&short_in, &s));
}

TEST(Coding, FixedInPlaceIsLittleEndianAndRoundTrips) {
  char buf[8];
  encode_fixed16(buf, 0xBEEF);
  EXPECT_EQ(static_cast<unsigned char>(buf[0]), 0xEF);
  EXPECT_EQ(static_cast<unsigned char>(buf[1]), 0xBE);
  EXPECT_EQ(decode_fixed16(buf), 0xBEEF);
  for (uint16_t v : {0, 1, 0x7FFF, 0x8000, 0xFFFF}) {
    encode_fixed16(buf, v);
    EXPECT_EQ(decode_fixed16(buf), v);
  }
  encode_fixed32(buf, 0x01020304);
  EXPECT_EQ(std::string(buf, 4), std::string("\x04\x03\x02\x01", 4));
  EXPECT_EQ(decode_fixed32(buf), 0x01020304u);
  encode_fixed64(buf, 0xF0E0D0C0B0A09080ULL);
  EXPECT_EQ(static_cast<unsigned char>(buf[0]), 0x80);
  EXPECT_EQ(static_cast<unsigned char>(buf[7]), 0xF0);
  EXPECT_EQ(decode_fixed64(buf), 0xF0E0D0C0B0A09080ULL);
  // put_ and encode_ agree.
  std::string s;
  put_fixed64(&s, 0xF0E0D0C0B0A09080ULL);
  EXPECT_EQ(s, std::string(buf, 8));
}

}  // namespace
}  // namespace usagedb::coding
