#include "lib/util/text.h"

#include "simdjson.h"

namespace usagedb::text {

std::string excerpt(std::string_view s, size_t max_bytes) {
  std::string out;
  const bool cut = s.size() > max_bytes;
  if (cut) {
    s = s.substr(0, max_bytes);
    // Do not end in the middle of a UTF-8 sequence.
    while (!s.empty() && (static_cast<unsigned char>(s.back()) & 0xC0) == 0x80) s.remove_suffix(1);
    if (!s.empty() && static_cast<unsigned char>(s.back()) >= 0xC0) s.remove_suffix(1);
  }
  out.reserve(s.size() + 3);
  static constexpr char kHex[] = "0123456789abcdef";
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) {
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 15];
    } else {
      out += c;
    }
  }
  if (cut) out += "...";
  return out;
}

bool internal::is_valid_utf8_simd(std::string_view s) { return simdjson::validate_utf8(s.data(), s.size()); }

}  // namespace usagedb::text
