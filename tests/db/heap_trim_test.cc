#include "lib/db/heap_trim.h"

#include "gtest/gtest.h"

namespace usagedb {
namespace {

constexpr size_t kMiB = size_t{1} << 20;

TEST(HeapTrim, TrimsOnceTheFreeResidentMemoryReachesTheThreshold) {
  EXPECT_FALSE(should_trim_heap(false, 4, 1000 * kMiB, 1000 * kMiB));
  EXPECT_FALSE(should_trim_heap(false, 4, 1000 * kMiB + kTrimFreeBytes - 1, 1000 * kMiB));
  EXPECT_TRUE(should_trim_heap(false, 4, 1000 * kMiB + kTrimFreeBytes, 1000 * kMiB));
  // A bulk ingest with several arenas: one thread's free memory is not
  // another's, so the same rule.
  EXPECT_FALSE(should_trim_heap(true, 3, 1000 * kMiB, 900 * kMiB));
  EXPECT_TRUE(should_trim_heap(true, 3, 3000 * kMiB, 900 * kMiB));
}

TEST(HeapTrim, ABulkIngestInOneArenaNeverTrims) {
  EXPECT_FALSE(should_trim_heap(true, 1, 3000 * kMiB, 900 * kMiB));
  EXPECT_FALSE(should_trim_heap(true, 1, 0, 900 * kMiB));
  // Outside a bulk ingest one arena trims as any process does.
  EXPECT_TRUE(should_trim_heap(false, 1, 3000 * kMiB, 900 * kMiB));
}

TEST(HeapTrim, UnknownResidentOrArenasTrimByTheRule) {
  // Without /proc (resident 0) it trims every time; arenas unknown (0) is
  // not one arena.
  EXPECT_TRUE(should_trim_heap(false, 4, 0, 900 * kMiB));
  EXPECT_TRUE(should_trim_heap(true, 0, 0, 900 * kMiB));
  EXPECT_TRUE(should_trim_heap(true, 0, 3000 * kMiB, 900 * kMiB));
}

}  // namespace
}  // namespace usagedb
