// Strict UTF-8 decoding and encoding.
#include "lib/util/utf8.h"

#include <string>

#include "gtest/gtest.h"

namespace usagedb::text {
namespace {

TEST(DecodeUtf8, EachLength) {
  const std::pair<std::string, char32_t> cases[] = {
      {"A", U'A'}, {"\x7F", 0x7F}, {"\u0080", 0x80}, {"é", 0xE9}, {"\u07FF", 0x7FF}, {"\u0800", 0x800},
      {"機", 0x6A5F}, {"\uFFFD", 0xFFFD}, {"\U00010000", 0x10000}, {"🚀", 0x1F680}, {"\U0010FFFF", 0x10FFFF}};
  for (const auto& [s, cp] : cases) {
    const Utf8Char c = decode_utf8(s, 0);
    EXPECT_EQ(c.code_point, cp) << s;
    EXPECT_EQ(c.length, s.size()) << s;
  }
}

TEST(DecodeUtf8, RejectsMalformedSequences) {
  for (const std::string bad : {"\x80", "\xBF", "\xC0\x80", "\xC1\xBF", "\xE0\x80\x80", "\xF0\x80\x80\x80",
                                "\xED\xA0\x80", "\xED\xBF\xBF", "\xF4\x90\x80\x80", "\xF5\x80\x80\x80", "\xFF",
                                "\xC3", "\xE6\xA9", "\xF0\x9F\x9A", "\xC3(", "\xE6(\x9F"}) {
    EXPECT_EQ(decode_utf8(bad, 0).length, 0u) << ::testing::PrintToString(bad);
  }
}

TEST(DecodeUtf8, ReadsAtTheGivenPosition) {
  const std::string s = "a機b";
  EXPECT_EQ(decode_utf8(s, 1).code_point, 0x6A5Fu);
  EXPECT_EQ(decode_utf8(s, 1).length, 3u);
  EXPECT_EQ(decode_utf8(s, 2).length, 0u);  // inside the sequence
  EXPECT_EQ(decode_utf8(s, 4).code_point, U'b');
}

TEST(AppendUtf8, InvertsDecode) {
  for (const char32_t cp : {char32_t{0}, char32_t{0x7F}, char32_t{0x80}, char32_t{0x7FF}, char32_t{0x800},
                            char32_t{0xD7FF}, char32_t{0xE000}, char32_t{0xFFFF}, char32_t{0x10000},
                            char32_t{0x10FFFF}}) {
    std::string s;
    append_utf8(cp, &s);
    const Utf8Char c = decode_utf8(s, 0);
    EXPECT_EQ(c.code_point, cp);
    EXPECT_EQ(c.length, s.size());
  }
}

}  // namespace
}  // namespace usagedb::text
