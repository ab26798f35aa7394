// StringColumn: an immutable column of byte strings stored as one blob plus
// end offsets (Arrow's layout), for event_id and metadata values.
//
//   StringColumn::Builder b;
//   b.add("evt_1");
//   StringColumn col = std::move(b).finish();
//   col.at(0);  // "evt_1"
//
// Thread-safety: a finished column is immutable and safe to share; a Builder
// needs exclusive access.
#ifndef USAGEDB_TABLE_STRING_COLUMN_H_
#define USAGEDB_TABLE_STRING_COLUMN_H_

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace usagedb {

// The end offsets of a column's strings in 4 bytes each (a part's event ids
// are ~11 bytes: 8-byte offsets were a third of their memory): each offset
// modulo 2^32, plus the rows at which the offsets pass each multiple of
// 2^32, which only a column of more than 4 GiB has.
class StringEnds {
 public:
  void reserve(size_t n) { low_.reserve(n); }
  // REQUIRES: `end` >= the last end pushed.
  void push_back(uint64_t end) {
    while ((end >> 32) > wraps_.size()) wraps_.push_back(static_cast<uint32_t>(low_.size()));
    low_.push_back(static_cast<uint32_t>(end));
  }
  size_t size() const { return low_.size(); }
  // String i of the column whose bytes are `bytes`.
  std::string_view string(std::string_view bytes, size_t i) const {
    const uint64_t begin = i == 0 ? 0 : (*this)[i - 1];
    return bytes.substr(begin, (*this)[i] - begin);
  }
  uint64_t operator[](size_t i) const {
    uint64_t end = low_[i];
    if (!wraps_.empty()) [[unlikely]] {
      end += static_cast<uint64_t>(std::upper_bound(wraps_.begin(), wraps_.end(), i) - wraps_.begin()) << 32;
    }
    return end;
  }
  size_t memory_bytes() const { return (low_.capacity() + wraps_.capacity()) * sizeof(uint32_t); }

 private:
  std::vector<uint32_t> low_;    // each end modulo 2^32
  std::vector<uint32_t> wraps_;  // k-th: the first row whose end is >= (k + 1) * 2^32
};

class StringColumn {
 public:
  class Builder {
   public:
    void reserve(size_t rows, size_t bytes) {
      ends_.reserve(rows);
      bytes_.reserve(bytes);
    }
    void add(std::string_view s) {
      bytes_.append(s);
      ends_.push_back(bytes_.size());
    }
    size_t size() const { return ends_.size(); }
    std::string_view at(size_t i) const { return ends_.string(bytes_, i); }
    StringColumn finish() && { return StringColumn(std::move(bytes_), std::move(ends_)); }

   private:
    std::string bytes_;
    StringEnds ends_;
  };

  StringColumn() = default;
  // REQUIRES: `ends` ascending, the last one bytes.size().
  StringColumn(std::string bytes, StringEnds ends) : bytes_(std::move(bytes)), ends_(std::move(ends)) {}
  StringColumn(std::string bytes, const std::vector<uint64_t>& ends) : bytes_(std::move(bytes)) {
    ends_.reserve(ends.size());
    for (const uint64_t end : ends) ends_.push_back(end);
  }

  size_t size() const { return ends_.size(); }
  std::string_view at(size_t i) const { return ends_.string(bytes_, i); }
  const std::string& bytes() const { return bytes_; }
  // The end offsets (a copy, for tests).
  std::vector<uint64_t> ends() const {
    std::vector<uint64_t> out(ends_.size());
    for (size_t i = 0; i < out.size(); ++i) out[i] = ends_[i];
    return out;
  }
  size_t memory_bytes() const { return bytes_.capacity() + ends_.memory_bytes(); }

 private:
  std::string bytes_;
  StringEnds ends_;
};

}  // namespace usagedb

#endif  // USAGEDB_TABLE_STRING_COLUMN_H_
