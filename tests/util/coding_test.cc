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

}  // namespace
}  // namespace usagedb::coding
