#include "lib/util/text.h"

#include <cstdint>
#include <cstring>

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

bool is_valid_utf8(std::string_view s) {
  // Most values are short ASCII: test 8 bytes at a time before paying for
  // simdjson's vectorized validator.
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t word;
    std::memcpy(&word, s.data() + i, 8);
    if (word & 0x8080808080808080ULL) return simdjson::validate_utf8(s.data(), s.size());
  }
  for (; i < s.size(); ++i) {
    if (static_cast<unsigned char>(s[i]) >= 0x80) return simdjson::validate_utf8(s.data(), s.size());
  }
  return true;
}

}  // namespace usagedb::text
