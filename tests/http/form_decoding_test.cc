#include "lib/http/form_decoding.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testutil/helpers.h"

namespace usagedb::http {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

TEST(FormDecoding, SplitsPairsAndDecodesPercentAndPlus) {
  auto p = parse_form("user_id=u%201&utm_campaign=tb+create+--prompt+DEV&c=%2F%2f&d=caf%C3%A9", "query string");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT(*p, ElementsAre(Pair("user_id", "u 1"), Pair("utm_campaign", "tb create --prompt DEV"), Pair("c", "//"),
                              Pair("d", "caf\xC3\xA9")));
}

TEST(FormDecoding, EmptyPairsSkippedValuelessNamesKeptEqualsInValues) {
  auto p = parse_form("&a=1&&dry_run&b=&c==x=y&", "form body");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT(*p, ElementsAre(Pair("a", "1"), Pair("dry_run", ""), Pair("b", ""), Pair("c", "=x=y")));
  EXPECT_THAT(*parse_form("", "query string"), ElementsAre());
}

TEST(FormDecoding, KeepsOrderAndRepeats) {
  auto p = parse_form("a=1&b=2&a=3", "query string");
  ASSERT_TRUE(p.ok());
  EXPECT_THAT(*p, ElementsAre(Pair("a", "1"), Pair("b", "2"), Pair("a", "3")));
}

TEST(FormDecoding, DecodesAnyByteIncludingNulAndAmpersand) {
  auto p = parse_form("v=%00%26%3D%2B+", "query string");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ((*p)[0].second, std::string("\0&=+ ", 5));
}

TEST(FormDecoding, MalformedEscapesNameTheParameter) {
  for (const char* bad : {"user_id=%G1", "user_id=%1", "user_id=abc%", "user_id=%%41"}) {
    auto p = parse_form(bad, "query string");
    ASSERT_FALSE(p.ok()) << bad;
    EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(testing::message(p.status()), HasSubstr("query string: user_id: malformed percent-escape")) << bad;
  }
  auto name = parse_form("us%zzer=1", "form body");
  ASSERT_FALSE(name.ok());
  EXPECT_THAT(testing::message(name.status()), HasSubstr("form body: malformed percent-escape '%zz'"));
}

TEST(FormDecoding, EmptyNameIsAnError) {
  auto p = parse_form("a=1&=x", "query string");
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(testing::message(p.status()), HasSubstr("a parameter without a name: '=x'"));
}

TEST(FormDecoding, QueryStringOfATarget) {
  EXPECT_EQ(query_string("/v0/pipes/x.json?a=1&b=2"), "a=1&b=2");
  EXPECT_EQ(query_string("/v0/pipes/x.json"), "");
  EXPECT_EQ(query_string("/v0/x?"), "");
  EXPECT_EQ(query_string("/v0/x?a=1#frag"), "a=1");
  EXPECT_EQ(query_string("/v0/x?a=?b"), "a=?b");
}

}  // namespace
}  // namespace usagedb::http
