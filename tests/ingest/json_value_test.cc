#include "lib/ingest/json_value.h"

#include <string>

#include "gtest/gtest.h"

namespace usagedb::json {
namespace {

std::string minified(std::string_view in) {
  std::string out(in.size(), '\0');
  out.resize(minify(in, out.data()));
  return out;
}

TEST(JsonMinify, DropsWhitespaceOutsideStringsOnly) {
  EXPECT_EQ(minified(" { \"a b\" :\t[ 1 ,\r\n 2 ] } "), "{\"a b\":[1,2]}");
  EXPECT_EQ(minified(R"({"q":"a \" b \\", "r" : "\\\" x"})"), R"({"q":"a \" b \\","r":"\\\" x"})");
  EXPECT_EQ(minified("[]"), "[]");
}

TEST(JsonNumber, Grammar) {
  for (const char* ok : {"0", "-0", "12", "1.5", "-1.5e10", "1E+2", "1e-2", "99999999999999999999999", "1e400"}) {
    EXPECT_TRUE(is_json_number(ok)) << ok;
  }
  for (const char* bad : {"", "-", "01", "1.", ".5", "1e", "1e+", "+1", "0x10", "1.5.5", "NaN", "1 "}) {
    EXPECT_FALSE(is_json_number(bad)) << bad;
  }
}

TEST(JsonKind, ByFirstCharacter) {
  Kind kind;
  EXPECT_EQ(kind_of("\"x\"", &kind), simdjson::SUCCESS);
  EXPECT_EQ(kind, Kind::kString);
  EXPECT_EQ(kind_of("-1", &kind), simdjson::SUCCESS);
  EXPECT_EQ(kind, Kind::kNumber);
  EXPECT_EQ(kind_of("}", &kind), simdjson::TAPE_ERROR);
  EXPECT_EQ(kind_of("", &kind), simdjson::TAPE_ERROR);
  EXPECT_EQ(kind_phrase(Kind::kObject), "an object");
}

TEST(JsonTrimToken, DropsTrailingWhitespace) {
  EXPECT_EQ(trim_token("\"a\" \t\r\n"), "\"a\"");
  EXPECT_EQ(trim_token("   "), "");
}

TEST(JsonDescribeError, NamesTheProblem) {
  EXPECT_EQ(describe_error(simdjson::UTF8_ERROR), "invalid UTF-8");
  EXPECT_EQ(describe_error(simdjson::UNCLOSED_STRING), "not valid JSON: unclosed string");
  // Codes without words of their own still say it is not JSON.
  EXPECT_EQ(describe_error(simdjson::CAPACITY).rfind("not valid JSON: ", 0), 0u);
}

}  // namespace
}  // namespace usagedb::json
