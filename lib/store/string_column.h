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
#ifndef USAGEDB_STORE_STRING_COLUMN_H_
#define USAGEDB_STORE_STRING_COLUMN_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace usagedb {

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
    std::string_view at(size_t i) const {
      const uint64_t begin = i == 0 ? 0 : ends_[i - 1];
      return std::string_view(bytes_).substr(begin, ends_[i] - begin);
    }
    StringColumn finish() && { return StringColumn(std::move(bytes_), std::move(ends_)); }

   private:
    std::string bytes_;
    std::vector<uint64_t> ends_;
  };

  StringColumn() = default;
  StringColumn(std::string bytes, std::vector<uint64_t> ends) : bytes_(std::move(bytes)), ends_(std::move(ends)) {}

  size_t size() const { return ends_.size(); }
  std::string_view at(size_t i) const {
    const uint64_t begin = i == 0 ? 0 : ends_[i - 1];
    return std::string_view(bytes_).substr(begin, ends_[i] - begin);
  }
  const std::string& bytes() const { return bytes_; }
  const std::vector<uint64_t>& ends() const { return ends_; }
  size_t memory_bytes() const { return bytes_.capacity() + ends_.capacity() * sizeof(uint64_t); }

 private:
  std::string bytes_;
  std::vector<uint64_t> ends_;
};

}  // namespace usagedb

#endif  // USAGEDB_STORE_STRING_COLUMN_H_
