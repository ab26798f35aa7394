#include "lib/ingest/string_arena.h"

#include <algorithm>
#include <cstring>

namespace usagedb {

char* StringArena::reserve_in_new_block(size_t n) {
  // Blocks after current_ are free (kept from before the last clear()); take
  // the first one large enough, else allocate a new one in its place.
  const size_t next = blocks_.empty() ? 0 : current_ + 1;
  size_t found = next;
  while (found < blocks_.size() && blocks_[found].size < n) ++found;
  if (found < blocks_.size()) {
    std::swap(blocks_[found], blocks_[next]);
  } else {
    const size_t size = std::max(n, kBlockSize);
    blocks_.insert(blocks_.begin() + static_cast<std::ptrdiff_t>(next),
                   Block{std::unique_ptr<char[]>(new char[size]), size});
  }
  current_ = next;
  used_ = 0;
  return blocks_[current_].bytes.get();
}

std::string_view StringArena::copy(std::string_view s) {
  if (s.empty()) return {};
  char* out = reserve(s.size());
  std::memcpy(out, s.data(), s.size());
  commit(s.size());
  return {out, s.size()};
}

void StringArena::clear() {
  current_ = 0;
  used_ = 0;
}

size_t StringArena::capacity() const {
  size_t total = 0;
  for (const Block& b : blocks_) total += b.size;
  return total;
}

}  // namespace usagedb
