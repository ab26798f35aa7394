// Terminal column counts: ASCII, wide CJK and emoji, zero-width marks, and
// the emoji sequences terminals draw as one glyph.
#include "lib/util/display_width.h"

#include "gtest/gtest.h"

namespace usagedb::text {
namespace {

TEST(CodePointWidth, Classes) {
  EXPECT_EQ(code_point_width(U'a'), 1);
  EXPECT_EQ(code_point_width(0xE9), 1);      // é
  EXPECT_EQ(code_point_width(0x0416), 1);    // Cyrillic Ж
  EXPECT_EQ(code_point_width(0x6A5F), 2);    // 機
  EXPECT_EQ(code_point_width(0xAC00), 2);    // Hangul 가
  EXPECT_EQ(code_point_width(0xFF21), 2);    // fullwidth Ａ
  EXPECT_EQ(code_point_width(0x3000), 2);    // ideographic space
  EXPECT_EQ(code_point_width(0x1F680), 2);   // 🚀
  EXPECT_EQ(code_point_width(0x2705), 2);    // ✅ (emoji presentation)
  EXPECT_EQ(code_point_width(0x2713), 1);    // ✓ (text presentation)
  EXPECT_EQ(code_point_width(0x20000), 2);   // CJK extension B
  EXPECT_EQ(code_point_width(0x0301), 0);    // combining acute accent
  EXPECT_EQ(code_point_width(0x200B), 0);    // zero width space
  EXPECT_EQ(code_point_width(0xFE0F), 0);    // variation selector 16
  EXPECT_EQ(code_point_width(0x1160), 0);    // Hangul medial vowel
  EXPECT_EQ(code_point_width(0x00AD), 1);    // soft hyphen: terminals draw it
  EXPECT_EQ(code_point_width(0x0A), 0);      // control characters draw nothing
  EXPECT_EQ(code_point_width(0x85), 0);
  EXPECT_EQ(code_point_width(0x0378), 1);    // unassigned outside the CJK planes
}

TEST(DisplayWidth, SumsCodePoints) {
  EXPECT_EQ(display_width(""), 0u);
  EXPECT_EQ(display_width("user_615"), 8u);
  EXPECT_EQ(display_width("機能"), 4u);
  EXPECT_EQ(display_width("a機b"), 4u);
  EXPECT_EQ(display_width("e\u0301"), 1u);
  EXPECT_EQ(display_width("naïve café"), 10u);
}

TEST(DisplayWidth, EmojiSequencesCountAsOneGlyph) {
  EXPECT_EQ(display_width("👍🏽"), 2u);                          // skin tone modifier
  EXPECT_EQ(display_width("👨\u200D👩\u200D👧"), 2u);           // ZWJ family
  EXPECT_EQ(display_width("🏽"), 2u);                            // a lone modifier is drawn
  EXPECT_EQ(display_width("a🏽"), 3u);                           // after a narrow letter it is drawn too
  EXPECT_EQ(display_width("a\u200Db"), 2u);                      // ZWJ between letters joins nothing
  EXPECT_EQ(display_width("🇪🇸"), 2u);                          // a flag: two regional indicators
}

TEST(DisplayWidth, InvalidBytesCountOneEach) {
  EXPECT_EQ(display_width("\xFF\xFE"), 2u);
  EXPECT_EQ(display_width("a\xC3"), 2u);
}

}  // namespace
}  // namespace usagedb::text
