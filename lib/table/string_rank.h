// StringRank: the rank of each of some dictionary codes in the byte order of
// their strings. ORDER BY a string column (queries) and the sorting key of a
// part (PartBuilder) compare integers per row, and strings once per
// distinct value.
//
//   StringRank rank(dict, codes);       // codes may repeat
//   rank(code) < rank(other_code)       // iff dict.lookup(code) < dict.lookup(other_code)
//   rank.code_of(0)                     // the code of the smallest string
//
// Thread-safety: immutable after construction; the constructor reads the
// dictionary with lookup().
#ifndef USAGEDB_TABLE_STRING_RANK_H_
#define USAGEDB_TABLE_STRING_RANK_H_

#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "lib/table/dictionary.h"

namespace usagedb {

class StringRank {
 public:
  // `codes` may repeat.
  StringRank(const Dictionary& dict, std::vector<uint32_t> codes);
  uint32_t operator()(uint32_t code) const { return dense_.empty() ? rank_.find(code)->second : dense_[code]; }
  // The code of rank `r`.
  uint32_t code_of(uint32_t r) const { return codes_[r]; }

 private:
  // The rank by code: a table indexed by code when the codes are dense
  // enough (the common case, a small dictionary), else a hash map.
  std::vector<uint32_t> dense_;
  absl::flat_hash_map<uint32_t, uint32_t> rank_;
  std::vector<uint32_t> codes_;  // by rank
};

}  // namespace usagedb

#endif  // USAGEDB_TABLE_STRING_RANK_H_
