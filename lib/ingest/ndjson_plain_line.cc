// NdjsonReader's plain-line reader (ndjson_reader.h): a line in the form
// every event exporter writes, read in one scan without simdjson, with the
// same row or the same rejection simdjson would give; anything else is left
// to the On Demand field readers (ndjson_fields.cc).
#include <array>
#include <bit>
#include <chrono>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "lib/ingest/ndjson_keys.h"
#include "lib/ingest/ndjson_reader.h"
#include "lib/ingest/validate.h"
#include "lib/util/text.h"

namespace usagedb {
namespace {

using ndjson::column_of_key;

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

}  // namespace

bool NdjsonReader::read_plain_line(std::string_view text, size_t pos, size_t end_pos, uint64_t number, size_t* next,
                                   ParsedBatch* out) {
  // The line's end is found where the object ends: its '\n' stops every
  // scan below (a control character ends strings, and no token takes it),
  // so the window's end bounds them.
  const char* const start = text.data() + pos;
  const char* p = start;
  const char* const end = text.data() + end_pos;
  // Called four times a field; as a rule there is no space to skip. p is
  // never past `end` here, and the byte at `end` may be read (the scans
  // below read up to 15 bytes past it): a byte above ' ' is neither space
  // nor tab, one compare (callgrind: 310 -> ~100 instructions a line).
  const auto skip_space = [&] {
    if (static_cast<unsigned char>(*p) > ' ') return;
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
    // The closing quote at q: the string ends there.
    const auto close_at = [&](const char* q) {
      p = q + 1;
      *value = std::string_view(content, static_cast<size_t>(q - content));
      if (!escaped) return true;
      // Only escapes this reader decoded before (valid JSON, then).
      const auto it = decoded_.find(*value);
      if (it == decoded_.end()) return false;
      *value = it->second;
      return true;
    };
    for (const char* block = content;; block += 16) {
      // Past the window only when a '\n' was escaped: no string ends there.
      if (block >= end) return false;
#ifdef __SSE2__
      // A block with a '\\' (or after one), whole inside the window, and
      // without an escaped '\\' ("\\\\"), as the blocks of the escaped JSON
      // in metadata values are: its bytes at once rather than one special
      // byte at a time (a branch each: a metadata value has a dozen). Only
      // the bytes before the closing quote count. Same outcome as the loop
      // below, which reads every other block (a string with escapes is
      // taken only as a value simdjson decoded before, whatever its bytes).
      // A parse of 1M generated lines: 34% fewer mispredicted branches
      // (callgrind --branch-sim).
      const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block));
      const auto backslashes = static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(b, _mm_set1_epi8('\\'))));
      const uint32_t escaped_bytes = ((backslashes << 1) | carried) & 0xFFFF;
      if (escaped_bytes != 0 && end - block >= 16 && (backslashes & escaped_bytes) == 0) {
        const auto quotes = static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(b, _mm_set1_epi8('"'))));
        // Signed: bytes of 0x80 and up are negative, so below 0x20 too.
        const auto below_space = static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmplt_epi8(b, _mm_set1_epi8(0x20))));
        const auto high = static_cast<uint32_t>(_mm_movemask_epi8(b));
        const uint32_t closing = quotes & ~escaped_bytes;
        // The bytes before the closing quote (all 16 without one).
        const uint32_t before = closing != 0 ? (closing & (0u - closing)) - 1 : 0xFFFF;
        if ((below_space & ~high & ~escaped_bytes & before) != 0) return false;  // a control character
        if ((high & ~escaped_bytes & before) != 0) non_ascii = true;  // validated with the whole line below
        if ((backslashes & before) != 0) escaped = true;
        if (closing != 0) return close_at(block + std::countr_zero(closing));
        carried = backslashes >> 15;
        continue;
      }
#endif
      uint32_t mask = special_mask(block) & ~carried;
      carried = 0;
      for (; mask != 0; mask &= mask - 1) {
        const int i = std::countr_zero(mask);
        const char* const q = block + i;
        if (q >= end) return false;
        if (*q == '"') return close_at(q);
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

}  // namespace usagedb
