// The tests' own JSON reader for SPEC 2.9, independent of simdjson and of
// the library: a plain recursive-descent parser of RFC 8259 with the limits
// simdjson (and so ClickHouse's JSON functions) put on valid documents:
// an integer (no fraction, no exponent) must fit int64 or uint64, any other
// number a double (strtod's overflow is invalid, its underflow is not), a
// string may not hold a raw byte below 0x20, a \u escape of a surrogate must
// be a high one followed by a low one, and the nesting depth is at most
// 1024 (the document's outermost value is level 1).
//
//   std::string v = plain_json::property_value(R"({"device":"mobile"})", "device");  // "mobile"
//
// Thread-safety: pure functions.
#ifndef USAGEDB_TESTS_TESTUTIL_PLAIN_JSON_H_
#define USAGEDB_TESTS_TESTUTIL_PLAIN_JSON_H_

#include <string>
#include <string_view>

namespace usagedb::testing::plain_json {

// Whether `document` is one valid JSON value, surrounded by whitespace only.
bool valid(std::string_view document);

// SPEC 2.9: the decoded string value of the first member named `property`
// (compared decoded) when `document` is a valid JSON object and that member
// holds a string; "" otherwise.
std::string property_value(std::string_view document, std::string_view property);

}  // namespace usagedb::testing::plain_json

#endif  // USAGEDB_TESTS_TESTUTIL_PLAIN_JSON_H_
