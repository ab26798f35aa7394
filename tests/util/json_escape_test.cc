// JSON string literals: each escape, UTF-8 kept, invalid bytes replaced.
#include "lib/util/json_escape.h"

#include <string>

#include "gtest/gtest.h"

namespace usagedb::text {
namespace {

TEST(JsonString, QuotesPlainText) {
  EXPECT_EQ(json_string(""), R"("")");
  EXPECT_EQ(json_string("feature_16 / v1.5.5"), R"("feature_16 / v1.5.5")");  // '/' is not escaped
}

TEST(JsonString, EscapesQuoteBackslashAndControlCharacters) {
  EXPECT_EQ(json_string("\"\\"), R"("\"\\")");
  EXPECT_EQ(json_string("\b\f\n\r\t"), R"("\b\f\n\r\t")");
  EXPECT_EQ(json_string(std::string("\0\x01\x1A\x1F", 4)), R"("\u0000\u0001\u001A\u001F")");
  EXPECT_EQ(json_string("\x7F"), "\"\x7F\"");  // DEL needs no escape in JSON
}

TEST(JsonString, KeepsUtf8ButEscapesTheJavaScriptLineSeparators) {
  EXPECT_EQ(json_string("機能 🚀 é"), "\"機能 🚀 é\"");
  EXPECT_EQ(json_string("a\u2028b\u2029c\u2027"), "\"a\\u2028b\\u2029c\u2027\"");
}

TEST(JsonString, ReplacesEachByteThatIsNotUtf8) {
  EXPECT_EQ(json_string("a\xFF"), R"("a\uFFFD")");
  EXPECT_EQ(json_string("\xC3"), R"("\uFFFD")");               // truncated at the end
  EXPECT_EQ(json_string("\xC3(x"), R"("\uFFFD(x")");           // bad continuation
  EXPECT_EQ(json_string("\xC0\xAF"), R"("\uFFFD\uFFFD")");     // overlong '/'
  EXPECT_EQ(json_string("\xED\xA0\x80"), R"("\uFFFD\uFFFD\uFFFD")");  // a surrogate
  EXPECT_EQ(json_string("\xF4\x90\x80\x80"), R"("\uFFFD\uFFFD\uFFFD\uFFFD")");  // above U+10FFFF
}

TEST(AppendJsonString, AppendsToWhatIsThere) {
  std::string out = "{\"k\":";
  append_json_string("v\n", &out);
  out += "}";
  EXPECT_EQ(out, R"({"k":"v\n"})");
}

}  // namespace
}  // namespace usagedb::text
