#include "lib/util/text.h"

#include <string>

#include "gtest/gtest.h"

namespace usagedb::text {
namespace {

TEST(IsValidUtf8, AsciiOfEveryLengthAroundTheWordSize) {
  for (size_t n = 0; n <= 300; ++n) EXPECT_TRUE(is_valid_utf8(std::string(n, 'a'))) << n;
}

TEST(IsValidUtf8, FindsABadByteAtEveryPosition) {
  // Short strings take the ASCII fast path until a high byte shows up, long
  // ones go to simdjson: both must see every byte.
  for (size_t n : {1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 63, 64, 65, 255, 256, 257, 1000}) {
    for (size_t at = 0; at < n; ++at) {
      std::string s(n, 'a');
      s[at] = '\xff';
      EXPECT_FALSE(is_valid_utf8(s)) << n << " " << at;
      s[at] = '\xC3';  // a lead byte without its continuation
      EXPECT_FALSE(is_valid_utf8(s)) << n << " " << at;
    }
  }
}

TEST(IsValidUtf8, MultiByteSequences) {
  EXPECT_TRUE(is_valid_utf8("caf\xC3\xA9"));
  EXPECT_TRUE(is_valid_utf8("\xF0\x9F\x98\x80"));
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));      // a surrogate
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // beyond U+10FFFF
}

TEST(Excerpt, ShowsControlBytesAndCuts) {
  EXPECT_EQ(excerpt("a\tb"), "a\\x09b");
  EXPECT_EQ(excerpt(std::string(100, 'x'), 10), std::string(10, 'x') + "...");
}

}  // namespace
}  // namespace usagedb::text
