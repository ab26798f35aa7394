// for_each_index_on_two_threads: the store's CPU-bound batch steps (building
// the parts of a seal, encoding the parts of a checkpoint, loading the files
// of a checkpoint) split their independent items between the calling thread
// and one helper thread.
//
//   for_each_index_on_two_threads(parts.size(), parts.size() > 1,
//                                 [&](size_t i) { encoded[i] = encode(*parts[i]); });
#ifndef USAGEDB_UTIL_PARALLEL_H_
#define USAGEDB_UTIL_PARALLEL_H_

#include <atomic>
#include <cstddef>
#include <thread>

namespace usagedb {

// Calls body(i) once for every i in [0, n): in order on the calling thread
// unless `two_threads` (and n >= 2); else the calling thread and a helper
// thread each take the next index not yet taken, in ascending order, until
// none is left (items of unequal cost keep both busy: order them costliest
// first), and the helper is joined before returning. `body` must be safe to
// call concurrently for different indexes.
template <typename Body>
void for_each_index_on_two_threads(size_t n, bool two_threads, const Body& body) {
  if (!two_threads || n < 2) {
    for (size_t i = 0; i < n; ++i) body(i);
    return;
  }
  std::atomic<size_t> next{0};
  const auto work = [&] {
    for (size_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) < n;) body(i);
  };
  std::thread helper(work);
  work();
  helper.join();
}

}  // namespace usagedb

#endif  // USAGEDB_UTIL_PARALLEL_H_
