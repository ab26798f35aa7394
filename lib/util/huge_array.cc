#include "lib/util/huge_array.h"

#include <sys/mman.h>

#include <new>

namespace usagedb::huge_array_internal {

void* allocate(size_t bytes) {
  if (bytes < kHugePageBytes) {
    void* p = std::malloc(bytes == 0 ? 1 : bytes);
    if (p == nullptr) throw std::bad_alloc();
    return p;
  }
  const size_t rounded = (bytes + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
  void* p = std::aligned_alloc(kHugePageBytes, rounded);
  if (p == nullptr) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
  // A hint (see huge_array.h): its failure leaves small pages.
  (void)::madvise(p, rounded, MADV_HUGEPAGE);
#endif
  return p;
}

}  // namespace usagedb::huge_array_internal
