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

// text::equal takes another path for each length class (0-3, 4-7, 8-16,
// longer): for every length up to 40, a difference at any one position, in
// either direction, or in the length alone is seen, and equal bytes at other
// addresses (offset by 1, so the loads are unaligned) compare equal.
TEST(Equal, EveryLengthAndEveryDifferingPosition) {
  for (size_t n = 0; n <= 40; ++n) {
    std::string a, b = "x";
    for (size_t i = 0; i < n; ++i) a.push_back(static_cast<char>('a' + i % 26));
    b += a;
    const std::string_view same(b.data() + 1, n);
    EXPECT_TRUE(equal(a, same)) << n;
    EXPECT_FALSE(equal(a, a + "a")) << n;
    for (size_t i = 0; i < n; ++i) {
      for (const int delta : {1, -1, 0x80}) {
        std::string c = a;
        c[i] = static_cast<char>(c[i] + delta);
        EXPECT_FALSE(equal(a, c)) << n << " at " << i;
        EXPECT_FALSE(equal(c, a)) << n << " at " << i;
      }
    }
  }
  EXPECT_TRUE(equal(std::string_view(), ""));
}

TEST(Excerpt, ShowsControlBytesAndCuts) {
  EXPECT_EQ(excerpt("a\tb"), "a\\x09b");
  EXPECT_EQ(excerpt(std::string(100, 'x'), 10), std::string(10, 'x') + "...");
}

}  // namespace
}  // namespace usagedb::text
