// Helpers over simdjson's On Demand values for the NDJSON reader: what kind
// of JSON value a token is, a full validation walk (On Demand skips values
// it is not asked about without checking them, but a line with an invalid
// value anywhere is not JSON and must be rejected), compacting JSON text, and
// readable words for simdjson's error codes.
//
//   json::Kind kind;
//   if (auto err = json::kind_of(value.raw_json_token(), &kind)) ...;
//   if (auto err = json::check_value(value)) ...;   // walks and validates all of it
//
// This header, ndjson_reader.cc and json_property.cc are the only users of
// simdjson's On Demand API. Thread-safety: pure functions.
#ifndef USAGEDB_INGEST_JSON_VALUE_H_
#define USAGEDB_INGEST_JSON_VALUE_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "simdjson.h"

namespace usagedb::json {

namespace ondemand = simdjson::ondemand;

// Deeper nesting is rejected (simdjson's default limit).
inline constexpr int kMaxDepth = 1024;

enum class Kind { kString, kNumber, kBoolean, kNull, kObject, kArray };

// "a string", "a number", "a boolean", "null", "an object", "an array".
std::string_view kind_phrase(Kind kind);

// The kind of the value a raw token (value.raw_json_token()) starts,
// judged by its first character; TAPE_ERROR when no JSON value starts so.
// Inline: the NDJSON reader asks for every field.
inline simdjson::error_code kind_of(std::string_view token, Kind* kind) {
  if (token.empty()) return simdjson::TAPE_ERROR;
  switch (token[0]) {
    case '"':
      *kind = Kind::kString;
      return simdjson::SUCCESS;
    case '{':
      *kind = Kind::kObject;
      return simdjson::SUCCESS;
    case '[':
      *kind = Kind::kArray;
      return simdjson::SUCCESS;
    case 't':
    case 'f':
      *kind = Kind::kBoolean;
      return simdjson::SUCCESS;
    case 'n':
      *kind = Kind::kNull;
      return simdjson::SUCCESS;
    case '-':
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9':
      *kind = Kind::kNumber;
      return simdjson::SUCCESS;
    default:
      return simdjson::TAPE_ERROR;
  }
}

// `token` without the whitespace simdjson includes after it.
inline std::string_view trim_token(std::string_view token) {
  while (!token.empty() && (token.back() == ' ' || token.back() == '\t' || token.back() == '\n' || token.back() == '\r')) {
    token.remove_suffix(1);
  }
  return token;
}

// True when `text` is a number by JSON's grammar (RFC 8259 section 6),
// including those simdjson cannot represent (99999999999999999999, 1e400).
bool is_json_number(std::string_view text);

// Which numbers check_value() accepts.
enum class Numbers {
  kGrammar,        // any number of JSON's grammar (what the NDJSON reader stores)
  kRepresentable,  // only those simdjson represents, as ClickHouse's JSON
                   // functions require: an integer that fits int64 or
                   // uint64, a decimal or exponent form that fits a double
};

// Walks `value` completely, validating every string (escapes, surrogate
// pairs), number and literal in it, and consumes it: On Demand does not
// check what it skips (a string followed by ':' is even skipped as a key), so
// no value may be left for it to skip. SUCCESS or the first error.
// REQUIRES: `value` not yet consumed.
simdjson::error_code check_value(ondemand::value& value, int depth = 1, Numbers numbers = Numbers::kGrammar);

// Writes `json` without the whitespace outside strings to `out` (which has
// room for json.size() bytes) and returns the bytes written. Strings are
// copied as given, escapes included.
size_t minify(std::string_view json, char* out);

// Why a line is not valid JSON, for a person: e.g. "not valid JSON: unclosed
// string".
std::string describe_error(simdjson::error_code error);

}  // namespace usagedb::json

#endif  // USAGEDB_INGEST_JSON_VALUE_H_
