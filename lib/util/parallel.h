// for_each_index_on_two_threads: the store's CPU-bound batch steps (building
// the parts of a seal, encoding the parts of a checkpoint) split their
// independent items between the calling thread and one helper thread.
//
//   for_each_index_on_two_threads(parts.size(), parts.size() > 1,
//                                 [&](size_t i) { encoded[i] = encode(*parts[i]); });
#ifndef USAGEDB_UTIL_PARALLEL_H_
#define USAGEDB_UTIL_PARALLEL_H_

#include <cstddef>
#include <thread>

namespace usagedb {

// Calls body(i) once for every i in [0, n): all on the calling thread unless
// `two_threads` (and n >= 2), else the even indexes on it and the odd ones on
// a helper thread, joined before returning. `body` must be safe to call
// concurrently for different indexes.
template <typename Body>
void for_each_index_on_two_threads(size_t n, bool two_threads, const Body& body) {
  const auto stride = [&](size_t first, size_t step) {
    for (size_t i = first; i < n; i += step) body(i);
  };
  if (!two_threads || n < 2) {
    stride(0, 1);
    return;
  }
  std::thread helper(stride, 1, 2);
  stride(0, 2);
  helper.join();
}

}  // namespace usagedb

#endif  // USAGEDB_UTIL_PARALLEL_H_
