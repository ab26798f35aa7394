// HugeArray: an array of trivially constructible values (the slots of a
// hash table) on transparent huge pages once it is large.
//
// A hash table of millions of slots is probed at random: with 4 KiB pages
// each probe of a table larger than the TLB's reach also misses the TLB
// (a page walk before the cache miss). The store's largest tables (the
// session dictionary's index, 512 MiB at 100M events, and each month's
// dedup index) were ~15% of a 100M-event ingest's CPU time in their probes.
// Linux backs a region with 2 MiB pages when it is asked to
// (madvise(MADV_HUGEPAGE); transparent_hugepage "madvise", the Debian
// default), so an array of at least kHugePageBytes is allocated aligned to
// a huge page, rounded up to whole huge pages, and advised; a smaller one
// is a plain allocation. The advice is a hint: where it is refused the
// array is the same array on small pages.
//
//   HugeArray<uint64_t> slots = allocate_huge_array<uint64_t>(1 << 24);  // uninitialized
//
// Thread-safety: a value (std::unique_ptr).
#ifndef USAGEDB_UTIL_HUGE_ARRAY_H_
#define USAGEDB_UTIL_HUGE_ARRAY_H_

#include <cstddef>
#include <cstdlib>
#include <memory>
#include <type_traits>

namespace usagedb {

namespace huge_array_internal {
struct Free {
  void operator()(void* p) const { std::free(p); }
};
// `bytes` of uninitialized memory, on huge pages when it is large (see
// above). Throws std::bad_alloc when none is left.
void* allocate(size_t bytes);
}  // namespace huge_array_internal

inline constexpr size_t kHugePageBytes = size_t{2} << 20;

template <typename T>
using HugeArray = std::unique_ptr<T[], huge_array_internal::Free>;

// `n` uninitialized values.
template <typename T>
HugeArray<T> allocate_huge_array(size_t n) {
  static_assert(std::is_trivially_default_constructible_v<T> && std::is_trivially_destructible_v<T>);
  return HugeArray<T>(static_cast<T*>(huge_array_internal::allocate(n * sizeof(T))));
}

}  // namespace usagedb

#endif  // USAGEDB_UTIL_HUGE_ARRAY_H_
