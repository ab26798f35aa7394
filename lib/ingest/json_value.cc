#include "lib/ingest/json_value.h"

#include "absl/strings/str_cat.h"

namespace usagedb::json {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

std::string_view kind_phrase(Kind kind) {
  switch (kind) {
    case Kind::kString:
      return "a string";
    case Kind::kNumber:
      return "a number";
    case Kind::kBoolean:
      return "a boolean";
    case Kind::kNull:
      return "null";
    case Kind::kObject:
      return "an object";
    case Kind::kArray:
      return "an array";
  }
  return "a value";
}

bool is_json_number(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && s[i] == '-') ++i;
  if (i >= s.size()) return false;
  if (s[i] == '0') {
    ++i;
  } else if (is_digit(s[i])) {
    while (i < s.size() && is_digit(s[i])) ++i;
  } else {
    return false;
  }
  if (i < s.size() && s[i] == '.') {
    const size_t start = ++i;
    while (i < s.size() && is_digit(s[i])) ++i;
    if (i == start) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    const size_t start = i;
    while (i < s.size() && is_digit(s[i])) ++i;
    if (i == start) return false;
  }
  return i == s.size();
}

simdjson::error_code check_value(ondemand::value& value, int depth, Numbers numbers) {
  if (depth > kMaxDepth) return simdjson::DEPTH_ERROR;
  const std::string_view token = value.raw_json_token();
  Kind kind;
  SIMDJSON_TRY(kind_of(token, &kind));
  switch (kind) {
    case Kind::kString: {
      std::string_view s;
      return value.get_string().get(s);
    }
    case Kind::kNumber: {
      ondemand::number n;
      const simdjson::error_code err = value.get_number().get(n);
      // simdjson 3.0.1 cannot represent huge integers or exponents; they are
      // still JSON.
      if (err == simdjson::NUMBER_ERROR && numbers == Numbers::kGrammar && is_json_number(trim_token(token))) {
        return simdjson::SUCCESS;
      }
      return err;
    }
    case Kind::kBoolean: {
      bool b;
      return value.get_bool().get(b) == simdjson::SUCCESS ? simdjson::SUCCESS : simdjson::T_ATOM_ERROR;
    }
    case Kind::kNull: {
      bool is_null;
      return value.is_null().get(is_null) == simdjson::SUCCESS && is_null ? simdjson::SUCCESS : simdjson::N_ATOM_ERROR;
    }
    case Kind::kObject: {
      ondemand::object object;
      SIMDJSON_TRY(value.get_object().get(object));
      for (auto field_result : object) {
        ondemand::field field;
        SIMDJSON_TRY(std::move(field_result).get(field));
        std::string_view key;  // decoded only to validate its escapes
        SIMDJSON_TRY(field.unescaped_key().get(key));
        SIMDJSON_TRY(check_value(field.value(), depth + 1, numbers));
      }
      return simdjson::SUCCESS;
    }
    case Kind::kArray: {
      ondemand::array array;
      SIMDJSON_TRY(value.get_array().get(array));
      for (auto element : array) {
        ondemand::value v;
        SIMDJSON_TRY(std::move(element).get(v));
        SIMDJSON_TRY(check_value(v, depth + 1, numbers));
      }
      return simdjson::SUCCESS;
    }
  }
  return simdjson::TAPE_ERROR;
}

size_t minify(std::string_view json, char* out) {
  size_t n = 0;
  bool in_string = false;
  bool escaped = false;
  for (const char c : json) {
    if (in_string) {
      out[n++] = c;
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (!is_space(c)) {
      out[n++] = c;
      in_string = c == '"';
    }
  }
  return n;
}

std::string describe_error(simdjson::error_code error) {
  std::string_view why;
  switch (error) {
    case simdjson::UTF8_ERROR:
      return "invalid UTF-8";
    case simdjson::UNCLOSED_STRING:
      why = "unclosed string";
      break;
    case simdjson::UNESCAPED_CHARS:
      why = "control character in a string (must be escaped)";
      break;
    case simdjson::STRING_ERROR:
      why = "bad escape sequence or lone surrogate (\\uD800-\\uDFFF) in a string";
      break;
    case simdjson::NUMBER_ERROR:
      why = "malformed number";
      break;
    case simdjson::T_ATOM_ERROR:
    case simdjson::F_ATOM_ERROR:
    case simdjson::N_ATOM_ERROR:
      why = "unknown literal (expected true, false or null)";
      break;
    case simdjson::DEPTH_ERROR:
      why = "nested deeper than 1024 levels";
      break;
    case simdjson::INCOMPLETE_ARRAY_OR_OBJECT:
      why = "unclosed object or array, or text after the object";
      break;
    case simdjson::TAPE_ERROR:
    case simdjson::INCORRECT_TYPE:
      why = "missing or extra comma, colon, brace, bracket or quote";
      break;
    default:
      return absl::StrCat("not valid JSON: ", simdjson::error_message(error));
  }
  return absl::StrCat("not valid JSON: ", absl::string_view(why.data(), why.size()));
}

}  // namespace usagedb::json
