// Small string helpers shared by error messages and output.
#ifndef USAGEDB_UTIL_TEXT_H_
#define USAGEDB_UTIL_TEXT_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "absl/strings/string_view.h"

namespace usagedb::text {

// A printable excerpt of arbitrary bytes for an error message: at most
// `max_bytes` bytes, control bytes shown as \xNN, "..." when cut.
std::string excerpt(std::string_view s, size_t max_bytes = 80);

// Debian's Abseil has its own absl::string_view (not std::string_view);
// StrCat and friends take this.
inline absl::string_view absl_view(std::string_view s) { return absl::string_view(s.data(), s.size()); }

namespace internal {
inline uint64_t load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline uint64_t load32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
// simdjson's validator, for strings the inline check cannot vouch for.
bool is_valid_utf8_simd(std::string_view s);
}  // namespace internal

// True when `s` is well-formed UTF-8 (no overlongs, no surrogates). Inline
// because validate_event() asks for every string of every event: short ASCII
// strings are checked here 8 bytes at a time, much cheaper than a call to
// simdjson's dispatched validator, which gets everything else.
inline bool is_valid_utf8(std::string_view s) {
  if (s.size() <= 64) {
    const char* p = s.data();
    const size_t n = s.size();
    uint64_t high = 0;
    if (n >= 8) {
      // Whole words, then the last 8 bytes (overlapping): no byte loop.
      for (size_t i = 0; i + 8 <= n; i += 8) high |= internal::load64(p + i);
      high |= internal::load64(p + n - 8);
    } else if (n >= 4) {
      high = internal::load32(p) | internal::load32(p + n - 4);
    } else {
      for (size_t i = 0; i < n; ++i) high |= static_cast<unsigned char>(p[i]);
    }
    if ((high & 0x8080808080808080ull) == 0) return true;
  }
  return internal::is_valid_utf8_simd(s);
}

// a == b, inline for strings of up to 16 bytes (two overlapping loads per
// side, no call): the dictionaries compare every interned string this way,
// and a call to memcmp cost more than the comparison.
inline bool equal(std::string_view a, std::string_view b) {
  const size_t n = a.size();
  if (n != b.size()) return false;
  const char* p = a.data();
  const char* q = b.data();
  if (n >= 8) {
    if (n > 16) return std::memcmp(p, q, n) == 0;
    return ((internal::load64(p) ^ internal::load64(q)) |
            (internal::load64(p + n - 8) ^ internal::load64(q + n - 8))) == 0;
  }
  if (n >= 4)
    return ((internal::load32(p) ^ internal::load32(q)) |
            (internal::load32(p + n - 4) ^ internal::load32(q + n - 4))) == 0;
  for (size_t i = 0; i < n; ++i) {
    if (p[i] != q[i]) return false;
  }
  return true;
}

}  // namespace usagedb::text

#endif  // USAGEDB_UTIL_TEXT_H_
