// Decoding one UTF-8 sequence at a time, strictly (RFC 3629).
//
// Writers that must stay valid whatever bytes they are given (JSON output,
// the terminal table) walk text with this and decide what to do with a byte
// that does not start a well-formed sequence.
//
//   for (size_t i = 0; i < s.size();) {
//     const Utf8Char c = decode_utf8(s, i);
//     if (c.length == 0) { /* s[i] is not well-formed UTF-8 */ ++i; continue; }
//     use(c.code_point);
//     i += c.length;
//   }
//
// Thread-safety: pure functions.
#ifndef USAGEDB_UTIL_UTF8_H_
#define USAGEDB_UTIL_UTF8_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace usagedb::text {

struct Utf8Char {
  char32_t code_point = 0;
  size_t length = 0;  // bytes consumed, 1..4; 0 when s[pos] starts no well-formed sequence
};

// Decodes the sequence starting at s[pos]. REQUIRES: pos < s.size(). Rejects
// (length 0) stray continuation bytes, truncated sequences, overlong forms,
// UTF-16 surrogates and code points above U+10FFFF.
inline Utf8Char decode_utf8(std::string_view s, size_t pos) {
  const auto b0 = static_cast<unsigned char>(s[pos]);
  if (b0 < 0x80) return {b0, 1};
  size_t length;
  char32_t cp;
  char32_t min;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    length = 2, cp = b0 & 0x1F, min = 0x80;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    length = 3, cp = b0 & 0x0F, min = 0x800;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    length = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    return {};  // a continuation byte, C0/C1 (always overlong) or F5..FF
  }
  if (pos + length > s.size()) return {};
  for (size_t i = 1; i < length; ++i) {
    const auto b = static_cast<unsigned char>(s[pos + i]);
    if ((b & 0xC0) != 0x80) return {};
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return {};
  return {cp, length};
}

// Appends the UTF-8 encoding of `cp`. REQUIRES: cp is a Unicode scalar value.
inline void append_utf8(char32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace usagedb::text

#endif  // USAGEDB_UTIL_UTF8_H_
