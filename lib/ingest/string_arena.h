// StringArena: bump-allocated bytes whose addresses never change until
// clear(), so string_views into it stay valid while more is appended (a
// std::string would move its bytes when it grows).
//
//   StringArena arena;
//   std::string_view kept = arena.copy(decoded);    // valid until clear()
//   char* out = arena.reserve(n + slack);            // write at most n + slack bytes,
//   arena.commit(written);                           // then keep `written` of them
//
// clear() keeps the blocks for reuse, so a reader that clears its batch for
// every chunk allocates only while the largest chunk grows.
//
// Thread-safety: not thread-safe; one owner at a time.
#ifndef USAGEDB_INGEST_STRING_ARENA_H_
#define USAGEDB_INGEST_STRING_ARENA_H_

#include <cstddef>
#include <memory>
#include <string_view>
#include <vector>

namespace usagedb {

class StringArena {
 public:
  StringArena() = default;
  StringArena(const StringArena&) = delete;
  StringArena& operator=(const StringArena&) = delete;
  StringArena(StringArena&&) noexcept = default;
  StringArena& operator=(StringArena&&) noexcept = default;

  // Returns space for at least `n` bytes at a stable address. Only the
  // bytes later commit()ted are kept; the next reserve() may reuse the rest.
  char* reserve(size_t n) {
    if (!blocks_.empty() && blocks_[current_].size - used_ >= n) return blocks_[current_].bytes.get() + used_;
    return reserve_in_new_block(n);
  }
  // Keeps the first `n` bytes of the last reserve(). REQUIRES: n <= the
  // size given to that reserve().
  void commit(size_t n) { used_ += n; }

  // A stable copy of `s`.
  std::string_view copy(std::string_view s);

  // Forgets every byte handed out (views into the arena become invalid) and
  // keeps the memory for reuse.
  void clear();

  // Bytes of memory held (for tests and statistics).
  size_t capacity() const;

 private:
  struct Block {
    std::unique_ptr<char[]> bytes;
    size_t size = 0;
  };
  static constexpr size_t kBlockSize = 64 << 10;

  char* reserve_in_new_block(size_t n);

  std::vector<Block> blocks_;
  size_t current_ = 0;  // the block being filled (when any); later blocks are free
  size_t used_ = 0;     // bytes used in blocks_[current_]
};

}  // namespace usagedb

#endif  // USAGEDB_INGEST_STRING_ARENA_H_
