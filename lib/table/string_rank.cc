#include "lib/table/string_rank.h"

#include <algorithm>
#include <string_view>
#include <utility>

namespace usagedb {

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
  std::vector<std::pair<std::string_view, uint32_t>> named;
  named.reserve(codes.size());
  for (const uint32_t c : codes) named.emplace_back(dict.lookup(c), c);
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
