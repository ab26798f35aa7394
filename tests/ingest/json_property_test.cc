#include "lib/ingest/json_property.h"

#include <string>

#include "gtest/gtest.h"
#include "tests/testutil/plain_json.h"

namespace usagedb::json {
namespace {

struct PropertyCase {
  std::string document;
  std::string want;  // ClickHouse's if(JSONType(d, 'a') = 'String', JSONExtractString(d, 'a'), '')
  bool valid;        // a valid JSON object
};

// Each verdict as chDB 26.7 returned it for `property` = "a".
TEST(PropertyReader, AsClickHouseReadsIt) {
  const PropertyCase cases[] = {
      {R"({"a":"x"})", "x", true},
      {R"({"a":"x","a":"y"})", "x", true},  // the first member wins
      {R"({"b":"1","a":"2"})", "2", true},
      {R"({"\u0061":"esc"})", "esc", true},  // names compare decoded
      {R"({"A":"upper"})", "", true},
      {R"({"a":1})", "", true},
      {R"({"a":true})", "", true},
      {R"({"a":null})", "", true},
      {R"({"a":{}})", "", true},
      {R"({"a":[]})", "", true},
      {R"({"a":1,"a":"later"})", "", true},  // the first `a` is not a string
      {R"({"a":"\ud83d\ude00"})", "\xF0\x9F\x98\x80", true},
      {R"({"a":"x\u0000y"})", std::string("x\0y", 3), true},
      {R"({"a":"\"q\""})", "\"q\"", true},
      {R"({"a":"tab\tq"})", "tab\tq", true},
      {R"({"a":"\/"})", "/", true},
      {"{\"a\":\"caf\xC3\xA9\"}", "caf\xC3\xA9", true},
      {R"({"a" : "sp" })", "sp", true},
      {R"( {"a":"x"} )", "x", true},
      {"{\"a\":\"x\"}\n", "x", true},
      {R"({"a":"x","b":18446744073709551615})", "x", true},
      {R"({"a":"x","b":-9223372036854775808})", "x", true},
      {R"({"a":"x","b":1e-400})", "x", true},
      {R"({"a":"x","b":1.7976931348623157e308})", "x", true},
      {R"({"a":"x","b":123456789012345678901234567890.5})", "x", true},
      {R"({"a":"x","b":1E+2})", "x", true},
      {R"({"a":"x","b":-0})", "x", true},
      {R"({"a":"x","b":[[[]]]})", "x", true},
      {R"(["a"])", "", false},  // valid JSON, but no object
      {R"("a")", "", false},
      // Invalid anywhere: ''.
      {R"({"a":"x","b":1e400})", "", false},
      {R"({"a":"x","b":99999999999999999999})", "", false},
      {R"({"a":"x","b":123456789012345678901})", "", false},
      {R"({"a":"x","b":-9223372036854775809})", "", false},
      {R"({"a":"x","b":1.8e308})", "", false},
      {R"({"a":"x","b":0.1e1000})", "", false},
      {R"({"a":"x","b":"\ud800"})", "", false},
      {R"({"a":"x","b":"\udc00"})", "", false},
      {R"({"a":"x","b":"\ud800\u0041"})", "", false},
      {R"({"a":"\ud800"})", "", false},
      {R"({"a":"x","b":"\x"})", "", false},
      {"{\"a\":\"raw\ttab\"}", "", false},
      {R"({"a":"x",})", "", false},
      {R"({"a":"x"}x)", "", false},
      {R"({"a":"x"}{"a":"y"})", "", false},
      {R"({"a":"x"}])", "", false},
      {R"({"a" "x"})", "", false},
      {R"({"a":"x" "b":1})", "", false},
      {R"({"a":"x","b":[1,2,{"c":nul}]})", "", false},
      {R"({"a":"x","b":tru})", "", false},
      {R"({"a":"x","b":truefalse})", "", false},
      {R"({"a":"x","b":01})", "", false},
      {R"({"a":"x","b":1.})", "", false},
      {R"({"a":"x","b":-})", "", false},
      {R"({"a":"x","b":[1 2]})", "", false},
      {R"({"a":"x","b":{"c":1,}})", "", false},
      {R"({"a":"x")", "", false},
      {R"({"a":"x",)", "", false},
      {R"({"a":"x","b":"y"z})", "", false},
      {"", "", false},
      {"not json", "", false},
  };
  PropertyReader reader;
  std::string value = "stale";
  for (const PropertyCase& c : cases) {
    EXPECT_EQ(reader.read(c.document, "a", &value), c.valid) << c.document;
    EXPECT_EQ(value, c.want) << c.document;
    // The differential tests' reference reads them alike.
    EXPECT_EQ(testing::plain_json::property_value(c.document, "a"), c.want) << c.document;
  }
}

// chDB 26.7: the object and 1023 nested arrays are read, 1024 are not.
TEST(PropertyReader, NestingUpTo1024Levels) {
  PropertyReader reader;
  std::string value;
  const auto nested = [](int arrays) {
    return std::string(R"({"a":"x","b":)") + std::string(arrays, '[') + std::string(arrays, ']') + "}";
  };
  EXPECT_TRUE(reader.read(nested(1023), "a", &value));  // the object and 1023 arrays
  EXPECT_EQ(value, "x");
  EXPECT_FALSE(reader.read(nested(1024), "a", &value));
  EXPECT_EQ(value, "");
  // Scalars count too: a value inside the 1024th level is too deep.
  const std::string scalar_inside = std::string(R"({"a":"x","b":)") + std::string(1023, '[') + "1" +
                                    std::string(1023, ']') + "}";
  EXPECT_FALSE(reader.read(scalar_inside, "a", &value));
  for (const std::string& d : {nested(1023), nested(1024), scalar_inside}) {
    EXPECT_EQ(testing::plain_json::property_value(d, "a"), d == nested(1023) ? "x" : "");
  }
}

TEST(PropertyReader, ReusesItsBufferForDocumentsOfAnySize) {
  PropertyReader reader;
  std::string value;
  const std::string big = R"({"pad":")" + std::string(100000, 'p') + R"(","a":"end"})";
  EXPECT_TRUE(reader.read(big, "a", &value));
  EXPECT_EQ(value, "end");
  EXPECT_TRUE(reader.read(R"({"a":"small"})", "a", &value));
  EXPECT_EQ(value, "small");
  // A key that is a prefix, a longer key, an empty key.
  EXPECT_TRUE(reader.read(R"({"ab":"1","":"2"})", "a", &value));
  EXPECT_EQ(value, "");
  EXPECT_TRUE(reader.read(R"({"ab":"1","":"2"})", "", &value));
  EXPECT_EQ(value, "2");
}

}  // namespace
}  // namespace usagedb::json
