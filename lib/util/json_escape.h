// Writing text as JSON string literals.
//
// The one place that escapes strings for JSON output: the endpoint response
// formats (lib/api/format.h) and the HTTP API's error bodies use it, so every
// JSON document the project writes is valid whatever bytes a string holds.
//
//   std::string body = "{\"error\": ";
//   usagedb::text::append_json_string(std::string(status.message()), &body);
//   body += "}";
//
// Thread-safety: pure functions.
#ifndef USAGEDB_UTIL_JSON_ESCAPE_H_
#define USAGEDB_UTIL_JSON_ESCAPE_H_

#include <string>
#include <string_view>

namespace usagedb::text {

// Appends `s` to `*out` as a JSON string literal, quotes included. Escapes as
// ClickHouse's JSON formats do: `"` and `\`, \b \f \n \r \t, every other byte
// below 0x20 as \u00XX, and U+2028/U+2029 as \u2028/\u2029 (JavaScript
// treats them as line ends). '/' is not escaped. Other UTF-8 is copied as is.
// A byte that does not start well-formed UTF-8 becomes \uFFFD (the
// replacement character), one per byte, so the result is always valid JSON.
void append_json_string(std::string_view s, std::string* out);

// The same, returned as a new string.
std::string json_string(std::string_view s);

}  // namespace usagedb::text

#endif  // USAGEDB_UTIL_JSON_ESCAPE_H_
