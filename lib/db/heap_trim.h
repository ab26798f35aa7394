// When a store gives the free pages of malloc's heap back to the system
// (malloc_trim), after a bulk ingest freed a month's dedup index or a
// checkpoint handed written parts to the part cache: see
// EventStoreImpl::trim_freed_memory and docs/STORAGE.md.
//
//   if (should_trim_heap(bulk_ingest, malloc_arenas(), resident, in_use)) malloc_trim(0);
//
// Thread-safety: pure function.
#ifndef USAGEDB_DB_HEAP_TRIM_H_
#define USAGEDB_DB_HEAP_TRIM_H_

#include <cstddef>

namespace usagedb {

// Free resident bytes (resident less what malloc has handed out) from which
// the heap is trimmed.
inline constexpr size_t kTrimFreeBytes = size_t{512} << 20;

// Whether to trim: never during a bulk ingest (`bulk_ingest`) when malloc
// has exactly one arena (`arenas`; 0 when unknown), whose freed memory any
// thread reuses; otherwise when `resident` bytes exceed `in_use` (malloc's
// handed-out bytes) by kTrimFreeBytes, or when `resident` is unknown (0).
inline bool should_trim_heap(bool bulk_ingest, size_t arenas, size_t resident, size_t in_use) {
  if (bulk_ingest && arenas == 1) return false;
  return resident == 0 || resident >= in_use + kTrimFreeBytes;
}

}  // namespace usagedb

#endif  // USAGEDB_DB_HEAP_TRIM_H_
