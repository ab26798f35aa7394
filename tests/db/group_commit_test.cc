// The writer queue (EventStoreImpl::commit): concurrent record_event calls
// with Options::sync, and concurrent flush() calls, share fsyncs, lose no
// acknowledged event, and fail together when the log fails. (Also run under
// TSan: the suite's name matches tools/check.sh's filter.)
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/db/durability_testing.h"
#include "tests/testutil/temp_dir.h"

namespace usagedb::testing {
namespace {

// A slow disk: each fsync takes 5 ms, so writers arriving meanwhile queue up.
constexpr std::chrono::milliseconds kSlowSync{5};

TEST(ConcurrentWrites, SyncWritersShareFsyncsAndLoseNothing) {
  ScopedTempDir dir;
  FaultInjectionFileSystem fs(posix_without_fsync());
  auto store = open_durable(dir.path(), &fs, {.sync = true});
  ASSERT_TRUE(store.ok()) << store.status();
  constexpr int kThreads = 6;
  constexpr int kEach = 25;
  const std::vector<OwnedEvent> events = generate_events({.events = kThreads * kEach, .seed = 11});
  fs.set_sync_delay(kSlowSync);
  const uint64_t syncs_before = fs.file_syncs();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t * kEach; i < (t + 1) * kEach; ++i) {
        EXPECT_TRUE((*store)->record_event(events[i].view()).ok());
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const uint64_t syncs = fs.file_syncs() - syncs_before;
  // One fsync per call would be 150; groups share them.
  EXPECT_LT(syncs, kThreads * kEach / 2u) << syncs << " fsyncs for " << kThreads * kEach << " synced writes";
  // Every write returned, so every event survives a power loss.
  fs.set_sync_delay(std::chrono::milliseconds{0});
  ASSERT_NO_FATAL_FAILURE(crash(*store, fs));
  store = open_durable(dir.path(), &fs);
  ASSERT_TRUE(store.ok()) << store.status();
  std::vector<OwnedEvent> expected(events.begin(), events.end());
  const std::vector<OwnedEvent> got = sorted(stored_events(**store));
  expected = sorted(std::move(expected));
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i) ASSERT_TRUE(same_event(got[i], expected[i])) << i;
}

TEST(ConcurrentWrites, FlushCallsShareOneFsync) {
  ScopedTempDir dir;
  FaultInjectionFileSystem fs(posix_without_fsync());
  auto store = open_durable(dir.path(), &fs);
  ASSERT_TRUE(store.ok()) << store.status();
  const std::vector<OwnedEvent> events = generate_events({.events = 8 * 10, .seed = 12});
  fs.set_sync_delay(kSlowSync);
  const uint64_t syncs_before = fs.file_syncs();
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t * 10; i < (t + 1) * 10; ++i) {
        EXPECT_TRUE((*store)->record_event(events[i].view()).ok());
        EXPECT_TRUE((*store)->flush().ok());
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const uint64_t syncs = fs.file_syncs() - syncs_before;
  EXPECT_LT(syncs, 60u) << syncs << " fsyncs for 80 flush() calls";
  fs.set_sync_delay(std::chrono::milliseconds{0});
  ASSERT_NO_FATAL_FAILURE(crash(*store, fs));
  store = open_durable(dir.path(), &fs);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(stored_events(**store).size(), events.size());
}

TEST(ConcurrentWrites, AFailedFsyncFailsTheWholeGroupAndStopsWrites) {
  ScopedTempDir dir;
  FaultInjectionFileSystem fs(posix_without_fsync());
  auto store = open_durable(dir.path(), &fs, {.sync = true});
  ASSERT_TRUE(store.ok()) << store.status();
  const std::vector<OwnedEvent> events = generate_events({.events = 40, .seed = 13});
  fs.set_fail_syncs(true);
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t * 10; i < (t + 1) * 10; ++i) {
        const absl::Status s = (*store)->record_event(events[i].view());
        if (!s.ok()) {
          EXPECT_NE(s.message().find("stopped accepting writes"), std::string::npos) << s;
          ++failed;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failed.load(), 40) << "no write may be acknowledged without its fsync";
  fs.clear_faults();
  EXPECT_FALSE((*store)->flush().ok());  // until the store is reopened
}

}  // namespace
}  // namespace usagedb::testing
