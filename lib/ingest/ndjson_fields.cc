// NdjsonReader's On Demand field readers (ndjson_reader.h): for the lines
// the plain-line reader (ndjson_plain_line.cc) leaves to simdjson, what each
// known key accepts and the words for what it does not (docs/INGEST.md).
#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "lib/ingest/ndjson_keys.h"
#include "lib/ingest/ndjson_reader.h"
#include "lib/ingest/validate.h"
#include "lib/util/text.h"

namespace usagedb {
namespace {

namespace ondemand = simdjson::ondemand;
using json::Kind;
using ndjson::column_of_key;
using ndjson::known_key;
using simdjson::error_code;

constexpr size_t kPadding = simdjson::SIMDJSON_PADDING;

std::string out_of_range(std::string_view number) {
  return absl::StrCat(text::excerpt(number),
                      " seconds is outside the DateTime range 1970-01-01 00:00:00 to 2105-12-31 23:59:59 UTC");
}

}  // namespace

error_code NdjsonReader::read_object(ondemand::object object, ParsedBatch* out) {
  for (auto field_result : object) {
    ondemand::field field;
    SIMDJSON_TRY(std::move(field_result).get(field));
    std::optional<TableColumn> column = known_key(field.key().raw());
    if (!column.has_value()) {
      // Not one of the known keys as written plainly; it may still be one
      // with escapes ("user\u005fid").
      const char* raw = field.key().raw();
      size_t n = 0;
      while (raw[n] != '"' && raw[n] != '\\') ++n;
      if (raw[n] == '\\') {
        std::string_view key;
        SIMDJSON_TRY(field.unescaped_key().get(key));
        column = column_of_key(key);
      }
    }
    if (!column.has_value()) {
      SIMDJSON_TRY(json::check_value(field.value()));  // unknown keys are ignored, but must be JSON
      continue;
    }
    const auto bit = static_cast<uint8_t>(1u << static_cast<int>(*column));
    if ((seen_ & bit) != 0) {
      SIMDJSON_TRY(json::check_value(field.value()));
      row_.fail(*column, "duplicated key");
      continue;
    }
    seen_ |= bit;
    switch (*column) {
      case TableColumn::kTimestamp:
        SIMDJSON_TRY(read_timestamp(field.value(), out));
        break;
      case TableColumn::kMetadata:
        SIMDJSON_TRY(read_metadata(field.value(), out));
        break;
      default:
        SIMDJSON_TRY(read_string(*column, field.value(), out));
        break;
    }
  }
  return simdjson::SUCCESS;
}

error_code NdjsonReader::decode_string(Value& value, std::string_view token, ParsedBatch* out,
                                       std::string_view* decoded) {
  token = json::trim_token(token);  // "..." with both quotes
  if (token.size() < 2) return simdjson::STRING_ERROR;
  // Strings without escapes are views into the input. Rather than search
  // each string, remember the next backslash of the line: one memchr per
  // string with escapes, plus one.
  const char* content = token.data() + 1;
  if (next_backslash_ < content) {
    // To the end of the line, or of this string when it lies beyond: a
    // window walks a document before it knows the document is one line.
    const char* end = std::max(parse_start_ + line_.size(), token.data() + token.size());
    const void* found = std::memchr(content, '\\', static_cast<size_t>(end - content));
    next_backslash_ = found != nullptr ? static_cast<const char*>(found) : end;
  }
  // Consume the string even when its bytes are used in place: a value left
  // for On Demand to skip is not checked, and a string followed by ':' is
  // skipped as if it were a key ({"timestamp":"":[]}} would pass).
  ondemand::raw_json_string raw;
  SIMDJSON_TRY(value.get_raw_json_string().get(raw));
  if (next_backslash_ >= content + (token.size() - 2)) {
    *decoded = input_view(token.data() + 1, token.size() - 2);
    return simdjson::SUCCESS;
  }
  const std::string_view escaped(content, token.size() - 2);
  if (auto it = decoded_.find(escaped); it != decoded_.end()) {
    *decoded = it->second;  // the same bytes decoded before: the same value
    return simdjson::SUCCESS;
  }
  // Decoding writes whole blocks: leave simdjson its padding.
  auto* dst = reinterpret_cast<uint8_t*>(out->storage.reserve(token.size() + kPadding));
  SIMDJSON_TRY(parser_.unescape(raw, dst).get(*decoded));
  out->storage.commit(decoded->size());
  if (escaped.size() <= kMaxCachedString && decoded_bytes_ + escaped.size() + decoded->size() <= kMaxCachedBytes) {
    decoded_bytes_ += escaped.size() + decoded->size();
    decoded_.emplace(decoded_arena_.copy(escaped), decoded_arena_.copy(*decoded));
  }
  return simdjson::SUCCESS;
}

error_code NdjsonReader::wrong_type(TableColumn column, Value& value, Kind kind, std::string_view expected) {
  SIMDJSON_TRY(json::check_value(value));
  row_.fail(column, absl::StrCat("expected ", text::absl_view(expected), ", got ",
                                 text::absl_view(json::kind_phrase(kind))));
  return simdjson::SUCCESS;
}

error_code NdjsonReader::read_string(TableColumn column, Value& value, ParsedBatch* out) {
  const std::string_view token = value.raw_json_token();
  Kind kind;
  SIMDJSON_TRY(json::kind_of(token, &kind));
  if (kind == Kind::kString) {
    std::string_view s;
    SIMDJSON_TRY(decode_string(value, token, out, &s));
    row_.set_string(column, s);
    return simdjson::SUCCESS;
  }
  const bool required = is_required(column);
  if (kind == Kind::kNull) {
    SIMDJSON_TRY(json::check_value(value));
    if (required) {
      row_.fail(column, "must not be null");
    } else {
      row_.set_string(column, {});
    }
    return simdjson::SUCCESS;
  }
  return wrong_type(column, value, kind, required ? "a string" : "a string or null");
}

error_code NdjsonReader::read_timestamp(Value& value, ParsedBatch* out) {
  const std::string_view token = value.raw_json_token();
  Kind kind;
  SIMDJSON_TRY(json::kind_of(token, &kind));
  switch (kind) {
    case Kind::kString: {
      std::string_view s;
      SIMDJSON_TRY(decode_string(value, token, out, &s));
      absl::StatusOr<Timestamp> t = parse_timestamp(s);
      if (t.ok()) {
        row_.set_timestamp(*t);
      } else {
        row_.fail(TableColumn::kTimestamp, std::string(t.status().message()));
      }
      return simdjson::SUCCESS;
    }
    case Kind::kNumber: {
      const std::string_view digits = json::trim_token(token);
      ondemand::number n;
      const error_code err = value.get_number().get(n);
      if (err != simdjson::SUCCESS) {
        // Beyond what simdjson represents, but JSON: out of range either way.
        if (err != simdjson::NUMBER_ERROR || !json::is_json_number(digits)) return err;
        const bool integer = digits.find_first_of(".eE") == std::string_view::npos;
        row_.fail(TableColumn::kTimestamp,
                  integer ? out_of_range(digits)
                          : absl::StrCat(text::excerpt(digits), " is not a whole number of Unix seconds"));
        return simdjson::SUCCESS;
      }
      if (n.is_int64()) {
        const Timestamp t{std::chrono::seconds{n.get_int64()}};
        if (std::optional<FieldError> range = validate_timestamp(t)) {
          row_.fail(TableColumn::kTimestamp, std::move(range->message));
        } else {
          row_.set_timestamp(t);
        }
      } else if (n.is_uint64()) {
        row_.fail(TableColumn::kTimestamp, out_of_range(digits));
      } else {
        row_.fail(TableColumn::kTimestamp, absl::StrCat(text::excerpt(digits), " is not a whole number of Unix seconds"));
      }
      return simdjson::SUCCESS;
    }
    case Kind::kNull:
      SIMDJSON_TRY(json::check_value(value));
      row_.fail(TableColumn::kTimestamp, "must not be null");
      return simdjson::SUCCESS;
    default:
      return wrong_type(TableColumn::kTimestamp, value, kind, "a DateTime string or an integer of Unix seconds");
  }
}

error_code NdjsonReader::read_metadata(Value& value, ParsedBatch* out) {
  const std::string_view token = value.raw_json_token();
  Kind kind;
  SIMDJSON_TRY(json::kind_of(token, &kind));
  switch (kind) {
    case Kind::kString: {
      std::string_view s;
      SIMDJSON_TRY(decode_string(value, token, out, &s));
      row_.set_string(TableColumn::kMetadata, s);
      return simdjson::SUCCESS;
    }
    case Kind::kNull:
      SIMDJSON_TRY(json::check_value(value));
      row_.set_string(TableColumn::kMetadata, {});
      return simdjson::SUCCESS;
    case Kind::kObject:
    case Kind::kArray: {
      // Validate the whole value, then keep its text without whitespace.
      const char* start = token.data();
      SIMDJSON_TRY(json::check_value(value));
      const char* end;
      SIMDJSON_TRY(value.current_location().get(end));
      const std::string_view text(start, static_cast<size_t>(end - start));
      char* dst = out->storage.reserve(text.size());
      const size_t n = json::minify(text, dst);
      out->storage.commit(n);
      row_.set_string(TableColumn::kMetadata, std::string_view(dst, n));
      return simdjson::SUCCESS;
    }
    default:
      return wrong_type(TableColumn::kMetadata, value, kind, "a string, object, array or null");
  }
}

}  // namespace usagedb
