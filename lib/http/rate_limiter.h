// RateLimiter: per-token request rate limits (SPEC 5's `limits.rps`),
// counted per wall-clock second, as Tinybird counts them.
//
//   if (uint64_t wait = limiter.acquire(principal.name, principal.rps_limit, now)) {
//     // 429 with Retry-After: wait
//   }
//
// A token is known by its name (a JWT's `name` claim): every JWT with the
// same name shares one budget, whichever request presents it.
//
// Thread-safety: safe for concurrent use (the counters are sharded by name,
// each shard behind its own mutex).
#ifndef USAGEDB_HTTP_RATE_LIMITER_H_
#define USAGEDB_HTTP_RATE_LIMITER_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "lib/util/mutex.h"

namespace usagedb::http {

class RateLimiter {
 public:
  // Counts one request of token `name`, allowed `rps` requests per second,
  // in second `now` (Unix seconds). Returns 0 when it is within the limit,
  // else the whole seconds until the next second's budget (>= 1: the
  // Retry-After value). A refused request is not counted. `rps` 0 =
  // unlimited (returns 0 and counts nothing).
  uint64_t acquire(std::string_view name, uint64_t rps, int64_t now);

 private:
  struct Window {
    int64_t second = 0;
    uint64_t count = 0;
  };
  struct Shard {
    Mutex mu;
    absl::flat_hash_map<std::string, Window> windows ABSL_GUARDED_BY(mu);
  };
  static constexpr size_t kShards = 16;
  // Past this many names a shard forgets the windows of past seconds.
  static constexpr size_t kPruneAt = 4096;
  std::array<Shard, kShards> shards_;
};

}  // namespace usagedb::http

#endif  // USAGEDB_HTTP_RATE_LIMITER_H_
