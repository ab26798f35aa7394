#include "lib/table/string_rank.h"

#include <algorithm>
#include <cstring>
#include <string_view>
#include <utility>

namespace usagedb {
namespace {

struct Named {
  uint64_t hi;  // bytes 0-7, big-endian, zero-padded
  uint64_t lo;  // bytes 8-15
  std::string_view s;
  uint32_t second;  // the code

  static uint64_t big_endian(std::string_view s, size_t from) {
    unsigned char bytes[8] = {};
    if (s.size() > from) std::memcpy(bytes, s.data() + from, std::min<size_t>(8, s.size() - from));
    uint64_t v = 0;
    for (const unsigned char b : bytes) v = v << 8 | b;
    return v;
  }
  static Named of(std::string_view s, uint32_t code) { return Named{big_endian(s, 0), big_endian(s, 8), s, code}; }
  // Byte order of the strings (equal prefixes: "a" and "a\0" tie on them).
  friend bool operator<(const Named& a, const Named& b) {
    if (a.hi != b.hi) return a.hi < b.hi;
    if (a.lo != b.lo) return a.lo < b.lo;
    return a.s < b.s;
  }
};

}  // namespace

StringRank::StringRank(const Dictionary& dict, std::vector<uint32_t> codes) {
  // Distinct codes: through a bitmap when the codes are dense enough (the
  // common case, a small dictionary), else by sorting.
  uint32_t max_code = 0;
  for (const uint32_t c : codes) max_code = std::max(max_code, c);
  const bool dense = max_code < 4 * codes.size() + 4096;
  if (dense) {
    std::vector<bool> seen(max_code + 1);
    size_t n = 0;
    for (const uint32_t c : codes) {
      if (!seen[c]) {
        seen[c] = true;
        codes[n++] = c;
      }
    }
    codes.resize(n);
  } else {
    std::sort(codes.begin(), codes.end());
    codes.erase(std::unique(codes.begin(), codes.end()), codes.end());
  }
  // Sorted by each string's first 16 bytes as two big-endian integers
  // (zero-padded), then by the whole string when those tie: most strings
  // of a column differ within 16 bytes ("feature_12", "1.4.2",
  // "user_17373"), and two integer compares cost less than a memcmp call.
  std::vector<Named> named;
  named.reserve(codes.size());
  for (const uint32_t c : codes) named.push_back(Named::of(dict.lookup(c), c));
  std::sort(named.begin(), named.end());
  if (dense) {
    dense_.assign(max_code + 1, UINT32_MAX);
  } else {
    rank_.reserve(named.size());
  }
  codes_.reserve(named.size());
  for (uint32_t i = 0; i < named.size(); ++i) {
    if (dense) {
      dense_[named[i].second] = i;
    } else {
      rank_.emplace(named[i].second, i);
    }
    codes_.push_back(named[i].second);
  }
}

}  // namespace usagedb
