// The one place usagedb hashes bytes: xxHash (XXH3), for hash tables and for
// the checksums of persisted data. Pure functions, thread-safe.
#ifndef USAGEDB_UTIL_HASH_H_
#define USAGEDB_UTIL_HASH_H_

#include <cstdint>
#include <memory>
#include <string_view>

namespace usagedb::hash {

// XXH3 64-bit hash of `bytes`.
uint64_t hash64(std::string_view bytes);

// Checksum of persisted bytes (XXH3 64-bit with a fixed seed).
uint64_t checksum(std::string_view bytes);

// checksum() of the concatenation `head` + `tail`, without copying them
// together: a record header checksummed with the payload that follows it.
uint64_t checksum(std::string_view head, std::string_view tail);

// checksum() of bytes given in pieces (a file written piece by piece).
class Checksum {
 public:
  Checksum();
  ~Checksum();
  Checksum(const Checksum&) = delete;
  Checksum& operator=(const Checksum&) = delete;
  void update(std::string_view bytes);
  // checksum() of everything given so far.
  uint64_t digest() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace usagedb::hash

#endif  // USAGEDB_UTIL_HASH_H_
