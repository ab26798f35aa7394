#include "lib/util/hash.h"

#include <cstring>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace usagedb::hash {

uint64_t hash64(std::string_view bytes) { return XXH3_64bits(bytes.data(), bytes.size()); }

namespace {
// A seed distinct from hash64's, so a checksum is never mistaken for a key hash.
constexpr uint64_t kChecksumSeed = 0x75736167656462ULL;  // "usagedb"
// XXH3 hashes up to this many bytes in one shot faster than it streams them.
constexpr size_t kCopyLimit = 256;
}  // namespace

uint64_t checksum(std::string_view bytes) { return XXH3_64bits_withSeed(bytes.data(), bytes.size(), kChecksumSeed); }

uint64_t checksum(std::string_view head, std::string_view tail) {
  if (head.size() + tail.size() <= kCopyLimit) {
    char buf[kCopyLimit];
    std::memcpy(buf, head.data(), head.size());
    if (!tail.empty()) std::memcpy(buf + head.size(), tail.data(), tail.size());
    return XXH3_64bits_withSeed(buf, head.size() + tail.size(), kChecksumSeed);
  }
  XXH3_state_t state;
  // A stack state needs a zero seed before a _withSeed reset (see xxhash.h).
  XXH3_INITSTATE(&state);
  XXH3_64bits_reset_withSeed(&state, kChecksumSeed);
  XXH3_64bits_update(&state, head.data(), head.size());
  XXH3_64bits_update(&state, tail.data(), tail.size());
  return XXH3_64bits_digest(&state);
}

struct Checksum::State {
  XXH3_state_t xxh;
};

Checksum::Checksum() : state_(std::make_unique<State>()) {
  XXH3_INITSTATE(&state_->xxh);
  XXH3_64bits_reset_withSeed(&state_->xxh, kChecksumSeed);
}

Checksum::~Checksum() = default;

void Checksum::update(std::string_view bytes) { XXH3_64bits_update(&state_->xxh, bytes.data(), bytes.size()); }

uint64_t Checksum::digest() const { return XXH3_64bits_digest(&state_->xxh); }

}  // namespace usagedb::hash
