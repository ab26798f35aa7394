#include "lib/http/rate_limiter.h"

#include "lib/util/hash.h"
#include "lib/util/text.h"

namespace usagedb::http {

uint64_t RateLimiter::acquire(std::string_view name, uint64_t rps, int64_t now) {
  if (rps == 0) return 0;
  Shard& shard = shards_[hash::hash64(name) % kShards];
  MutexLock lock(&shard.mu);
  if (shard.windows.size() >= kPruneAt) {
    absl::erase_if(shard.windows, [now](const auto& entry) { return entry.second.second != now; });
  }
  auto it = shard.windows.find(text::absl_view(name));
  if (it == shard.windows.end()) it = shard.windows.emplace(std::string(name), Window{now, 0}).first;
  Window& w = it->second;
  if (w.second != now) w = Window{now, 0};
  if (w.count >= rps) return 1;
  ++w.count;
  return 0;
}

}  // namespace usagedb::http
