// InputBuffer: bytes read from an input (a file's chunk, a request body),
// grown without zero-filling the room a read is about to overwrite, as
// std::string::resize would (2 MiB per file chunk; a request body's size).
//
//   InputBuffer buf;
//   size_t n = read(buf.room(1 << 20), 1 << 20);   // write into the room...
//   buf.commit(n);                                  // ...and keep what was written
//   use(buf.view());
//
// Thread-safety: a plain value; used by one thread at a time.
#ifndef USAGEDB_UTIL_INPUT_BUFFER_H_
#define USAGEDB_UTIL_INPUT_BUFFER_H_

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>

namespace usagedb {

class InputBuffer {
 public:
  std::string_view view() const { return {data_.get(), size_}; }
  const char* data() const { return data_.get(); }
  size_t size() const { return size_; }
  void assign(std::string_view s) {
    size_ = 0;
    if (!s.empty()) std::memcpy(room(s.size()), s.data(), s.size());
    size_ = s.size();
  }
  // Room for `n` more bytes after size(), uninitialized; commit() the ones written.
  char* room(size_t n) {
    if (capacity_ - size_ < n) {
      const size_t capacity = std::max(size_ + n, 2 * capacity_);
      std::unique_ptr<char[]> bigger(new char[capacity]);
      if (size_ > 0) std::memcpy(bigger.get(), data_.get(), size_);
      data_ = std::move(bigger);
      capacity_ = capacity;
    }
    return data_.get() + size_;
  }
  void commit(size_t n) { size_ += n; }

 private:
  std::unique_ptr<char[]> data_;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

}  // namespace usagedb

#endif  // USAGEDB_UTIL_INPUT_BUFFER_H_
