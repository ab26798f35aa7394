#include "lib/util/json_escape.h"

#include "lib/util/utf8.h"

namespace usagedb::text {
namespace {

constexpr char kHex[] = "0123456789ABCDEF";

// Bytes that are copied without looking further: printable ASCII other than
// the quote and the backslash.
bool is_plain(unsigned char c) { return c >= 0x20 && c < 0x80 && c != '"' && c != '\\'; }

}  // namespace

void append_json_string(std::string_view s, std::string* out) {
  out->reserve(out->size() + s.size() + 2);
  out->push_back('"');
  size_t i = 0;
  while (i < s.size()) {
    // Copy the longest run of plain bytes at once.
    size_t run = i;
    while (run < s.size() && is_plain(static_cast<unsigned char>(s[run]))) ++run;
    out->append(s.data() + i, run - i);
    i = run;
    if (i == s.size()) break;
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': *out += "\\\""; break;
        case '\\': *out += "\\\\"; break;
        case '\b': *out += "\\b"; break;
        case '\f': *out += "\\f"; break;
        case '\n': *out += "\\n"; break;
        case '\r': *out += "\\r"; break;
        case '\t': *out += "\\t"; break;
        default:
          *out += "\\u00";
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 15]);
      }
      ++i;
      continue;
    }
    const Utf8Char u = decode_utf8(s, i);
    if (u.length == 0) {
      *out += "\\uFFFD";
      ++i;
    } else if (u.code_point == 0x2028 || u.code_point == 0x2029) {
      *out += u.code_point == 0x2028 ? "\\u2028" : "\\u2029";
      i += u.length;
    } else {
      out->append(s.data() + i, u.length);
      i += u.length;
    }
  }
  out->push_back('"');
}

std::string json_string(std::string_view s) {
  std::string out;
  append_json_string(s, &out);
  return out;
}

}  // namespace usagedb::text
