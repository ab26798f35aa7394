#include "lib/util/hash.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace usagedb::hash {

uint64_t hash64(std::string_view bytes) { return XXH3_64bits(bytes.data(), bytes.size()); }

uint64_t checksum(std::string_view bytes) {
  // A seed distinct from hash64's, so a checksum is never mistaken for a key hash.
  return XXH3_64bits_withSeed(bytes.data(), bytes.size(), 0x75736167656462ULL /* "usagedb" */);
}

}  // namespace usagedb::hash
