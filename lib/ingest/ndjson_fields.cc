// The field readers of NdjsonReader (ndjson_reader.h): what each known key
// accepts and the words for what it does not (docs/INGEST.md).
#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "absl/strings/str_cat.h"
#include "lib/ingest/ndjson_reader.h"
#include "lib/ingest/validate.h"
#include "lib/util/text.h"

namespace usagedb {
namespace {

namespace ondemand = simdjson::ondemand;
using json::Kind;
using simdjson::error_code;

constexpr size_t kPadding = simdjson::SIMDJSON_PADDING;

std::optional<TableColumn> column_of_key(std::string_view key) {
  switch (key.size()) {
    case 7:
      if (key == "user_id") return TableColumn::kUserId;
      break;
    case 8:
      if (key == "event_id") return TableColumn::kEventId;
      if (key == "metadata") return TableColumn::kMetadata;
      break;
    case 9:
      if (key == "timestamp") return TableColumn::kTimestamp;
      break;
    case 10:
      if (key == "feature_id") return TableColumn::kFeatureId;
      if (key == "event_type") return TableColumn::kEventType;
      if (key == "session_id") return TableColumn::kSessionId;
      break;
    case 15:
      if (key == "product_version") return TableColumn::kProductVersion;
      break;
  }
  return std::nullopt;
}

// The column of a raw key (the bytes after its opening quote, closed by an
// unescaped '"'), when it is a known key written without escapes. Compares
// at most 16 bytes, which the padding makes readable.
std::optional<TableColumn> known_key(const char* raw) {
  auto is = [raw](std::string_view name) {
    return std::memcmp(raw, name.data(), name.size()) == 0 && raw[name.size()] == '"';
  };
  switch (raw[0]) {
    case 'e':
      if (is("event_id")) return TableColumn::kEventId;
      if (is("event_type")) return TableColumn::kEventType;
      break;
    case 'u':
      if (is("user_id")) return TableColumn::kUserId;
      break;
    case 'f':
      if (is("feature_id")) return TableColumn::kFeatureId;
      break;
    case 'p':
      if (is("product_version")) return TableColumn::kProductVersion;
      break;
    case 't':
      if (is("timestamp")) return TableColumn::kTimestamp;
      break;
    case 's':
      if (is("session_id")) return TableColumn::kSessionId;
      break;
    case 'm':
      if (is("metadata")) return TableColumn::kMetadata;
      break;
  }
  return std::nullopt;
}

// Bit i set when p[i] (i < 16) ends a plain run of string bytes: '"', '\\',
// a control character (below 0x20: '\n' ends every line) or a non-ASCII
// byte. Reads 16 bytes.
inline uint32_t special_mask(const char* p) {
#ifdef __SSE2__
  const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  // Signed: bytes of 0x80 and up are negative, so below 0x20 too.
  const __m128i special =
      _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(b, _mm_set1_epi8('"')), _mm_cmpeq_epi8(b, _mm_set1_epi8('\\'))),
                   _mm_cmplt_epi8(b, _mm_set1_epi8(0x20)));
  return static_cast<uint32_t>(_mm_movemask_epi8(special));
#else
  uint32_t mask = 0;
  for (int i = 0; i < 16; ++i) {
    const auto c = static_cast<unsigned char>(p[i]);
    if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) mask |= 1u << i;
  }
  return mask;
#endif
}

// The first byte in [p, end) that special_mask() marks, or a pointer at or
// past `end` when there is none. Reads 16 bytes at a time, up to 15 past
// `end`.
inline const char* find_special(const char* p, const char* end) {
  for (; p < end; p += 16) {
    if (const uint32_t mask = special_mask(p); mask != 0) return p + std::countr_zero(mask);
  }
  return p;
}

// The column of the known key whose bytes and closing quote start at
// `key`, and the key's length; 0 when it is none of them (or an escaped
// form of one). `*hint` (0-7) is the known key to try first, as a rule the
// one at the same place in the previous line; it is set to the one found.
// Reads 16 bytes.
inline size_t known_key_at(const char* key, uint8_t* hint, TableColumn* column) {
#ifdef __SSE2__
  // Each known key and its closing quote, and which of 16 bytes those are.
  struct Pattern {
    __m128i bytes, mask;
    size_t size;
    TableColumn column;
  };
  static const auto* const kPatterns = [] {
    auto* patterns = new std::array<Pattern, kTableColumns>();
    for (int i = 0; i < kTableColumns; ++i) {
      const auto column = static_cast<TableColumn>(i);
      const std::string_view name = column_name(column);  // at most 15 bytes, and its quote
      alignas(16) char bytes[16] = {}, mask[16] = {};
      std::memcpy(bytes, name.data(), name.size());
      bytes[name.size()] = '"';
      std::memset(mask, 0xFF, name.size() + 1);
      (*patterns)[i] = Pattern{_mm_load_si128(reinterpret_cast<const __m128i*>(bytes)),
                               _mm_load_si128(reinterpret_cast<const __m128i*>(mask)), name.size(), column};
    }
    return patterns;
  }();
  const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(key));
  const auto matches = [&](const Pattern& pattern) {
    return _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_and_si128(b, pattern.mask), pattern.bytes)) == 0xFFFF;
  };
  if (const Pattern& hinted = (*kPatterns)[*hint & 7]; matches(hinted)) {
    *column = hinted.column;
    return hinted.size;
  }
  for (uint8_t i = 0; i < kPatterns->size(); ++i) {
    if (matches((*kPatterns)[i])) {
      *hint = i;
      *column = (*kPatterns)[i].column;
      return (*kPatterns)[i].size;
    }
  }
#else
  (void)key;
  (void)hint;
  (void)column;
#endif
  return 0;
}

std::string out_of_range(std::string_view number) {
  return absl::StrCat(text::excerpt(number),
                      " seconds is outside the DateTime range 1970-01-01 00:00:00 to 2105-12-31 23:59:59 UTC");
}

}  // namespace

bool NdjsonReader::read_plain_line(std::string_view text, size_t pos, size_t end_pos, uint64_t number, size_t* next,
                                   ParsedBatch* out) {
  // The line's end is found where the object ends: its '\n' stops every
  // scan below (a control character ends strings, and no token takes it),
  // so the window's end bounds them.
  const char* const start = text.data() + pos;
  const char* p = start;
  const char* const end = text.data() + end_pos;
  const auto skip_space = [&] {
    while (p < end && (*p == ' ' || *p == '\t')) ++p;
  };
  // A string whose opening quote is at p: its content (decoded), and p past
  // its closing quote. false when it is not plain.
  bool non_ascii = false;
  const auto read_string = [&](std::string_view* value) {
    if (p >= end || *p != '"') return false;
    const char* const content = ++p;
    bool escaped = false;
    // Special bytes 16 at a time; a '\\' escapes the byte after it, so that
    // byte's bit is cleared (in the next block's mask when it is there).
    uint32_t carried = 0;
    for (const char* block = content;; block += 16) {
      // Past the window only when a '\n' was escaped: no string ends there.
      if (block >= end) return false;
      uint32_t mask = special_mask(block) & ~carried;
      carried = 0;
      for (; mask != 0; mask &= mask - 1) {
        const int i = std::countr_zero(mask);
        const char* const q = block + i;
        if (q >= end) return false;
        if (*q == '"') {
          p = q + 1;
          *value = std::string_view(content, static_cast<size_t>(q - content));
          if (!escaped) return true;
          // Only escapes this reader decoded before (valid JSON, then).
          const auto it = decoded_.find(*value);
          if (it == decoded_.end()) return false;
          *value = it->second;
          return true;
        }
        if (*q == '\\') {
          escaped = true;
          if (i == 15) {
            carried = 1;
          } else {
            mask &= ~(2u << i);
          }
        } else if (static_cast<unsigned char>(*q) >= 0x80) {
          non_ascii = true;  // validated with the whole line below
        } else {
          return false;  // a control character: not JSON
        }
      }
    }
  };

  row_.start();
  uint8_t seen = 0;
  constexpr auto kTimestampBit = static_cast<uint8_t>(1u << static_cast<int>(TableColumn::kTimestamp));
  skip_space();
  if (p >= end || *p != '{') return false;
  ++p;
  skip_space();
  for (size_t field = 0;; ++field) {
    // A key without escapes, then ':' and a string value.
    if (p >= end || *p != '"') return false;  // `{}` and `{,` too: simdjson words those
    const char* const key = p + 1;
    std::optional<TableColumn> column;
    TableColumn known;
    if (const size_t size = known_key_at(key, &key_hints_[field % kKeyHints], &known); size > 0) {
      column = known;
      p = key + size + 1;
    } else {
      const char* const key_end = find_special(key, end);
      if (key_end >= end || *key_end != '"') return false;
      column = column_of_key(std::string_view(key, static_cast<size_t>(key_end - key)));
      p = key_end + 1;
    }
    if (p > end) return false;
    skip_space();
    if (p >= end || *p != ':') return false;
    ++p;
    skip_space();
    if (column == TableColumn::kTimestamp && p < end && *p >= '0' && *p <= '9') {
      // Unix seconds: digits only, few enough to be an int64. A sign, and
      // leading zeros (which JSON forbids), are simdjson's to word; so are
      // a fraction or an exponent, which the ',' or '}' expected after the
      // value turns away.
      const char* const digits = p;
      int64_t seconds = 0;
      for (; p < end && *p >= '0' && *p <= '9'; ++p) {
        if (p - digits == 18) return false;
        seconds = seconds * 10 + (*p - '0');
      }
      if (*digits == '0' && p - digits > 1) return false;
      if ((seen & kTimestampBit) != 0) return false;  // a duplicated key
      seen |= kTimestampBit;
      const Timestamp t{std::chrono::seconds{seconds}};
      if (std::optional<FieldError> range = validate_timestamp(t)) {
        row_.fail(TableColumn::kTimestamp, std::move(range->message));
      } else {
        row_.set_timestamp(t);
      }
    } else if (std::string_view value; !read_string(&value)) {
      return false;
    } else if (column.has_value()) {
      const auto bit = static_cast<uint8_t>(1u << static_cast<int>(*column));
      if ((seen & bit) != 0) return false;  // a duplicated key
      seen |= bit;
      if (*column == TableColumn::kTimestamp) {
        absl::StatusOr<Timestamp> t = parse_timestamp(value);
        if (t.ok()) {
          row_.set_timestamp(*t);
        } else {
          row_.fail(TableColumn::kTimestamp, std::string(t.status().message()));
        }
      } else {
        row_.set_string(*column, value);
      }
    }
    skip_space();
    if (p < end && *p == ',') {
      ++p;
      skip_space();
      continue;
    }
    if (p >= end || *p != '}') return false;
    ++p;
    skip_space();
    break;
  }
  // Then the line ends ("\n" or "\r\n", the '\r' not part of it), or the
  // object has text after it.
  const std::string_view line(start, static_cast<size_t>(p - start));
  if (p < end && *p == '\r') ++p;
  if (p >= end || *p != '\n') return false;
  if (non_ascii && !text::is_valid_utf8(line)) return false;
  row_.finish(number, line, out);
  *next = static_cast<size_t>(p + 1 - text.data());
  return true;
}

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
