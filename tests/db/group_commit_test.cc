// The writer queue (EventStoreImpl::commit, a lock-free list of the calls'
// nodes): concurrent record_event calls with Options::sync, and concurrent
// flush() calls, share fsyncs, lose no acknowledged event, fail together
// when the log fails, and deduplicate exactly whatever groups the calls
// form; many unsynced writers get every event stored once, numbered in each
// thread's call order without gaps, and threads that come and go hand
// their queue nodes on. (Also run under TSan: the suite's name matches
// tools/check.sh's filter.)
#include <atomic>
#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/db/durability_testing.h"
#include "usagedb/feed.h"
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

// Every thread records every event, in its own order, in calls of one or
// three events, alternating between two stores: each store keeps each
// event_id once (the leader probes with the hashes its callers made) and
// every event without one each time, and each call's report adds up. Then
// one call of all of them, a record larger than a thread keeps for its next
// call, finds them all again.
TEST(ConcurrentWrites, WritersOfTheSameIdsIntoTwoStoresStoreEachOnce) {
  ScopedTempDir dir_a, dir_b;
  auto a = open_durable(dir_a.path());
  auto b = open_durable(dir_b.path());
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  constexpr int kThreads = 4;
  std::vector<OwnedEvent> events = generate_events({.events = 1000, .seed = 14});
  size_t without_id = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    if (i % 10 == 3) {
      events[i].event_id.clear();
      ++without_id;
    } else {
      events[i].event_id = absl::StrCat("id-", i);  // unique: no question of which copy wins
    }
  }
  const std::vector<Event> all = views(events, 0, events.size());
  std::atomic<uint64_t> stored{0}, duplicates{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      size_t i = 0;
      for (int call = 0; i < all.size(); ++call) {
        const size_t n = std::min<size_t>(call % 2 == 0 ? 1 : 3, all.size() - i);
        std::vector<Event> batch;
        for (size_t k = 0; k < n; ++k) batch.push_back(all[(i + k + 250 * t) % all.size()]);
        i += n;
        EventStoreImpl& store = call % 4 < 2 ? **a : **b;
        for (int copy = 0; copy < 2; ++copy) {  // into both stores, in alternating order
          EventStoreImpl& into = copy == 0 ? store : (&store == a->get() ? **b : **a);
          auto report = into.record_events(batch);
          ASSERT_TRUE(report.ok()) << report.status();
          stored += report->successful_rows;
          duplicates += report->duplicate_rows;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const uint64_t expected_rows = events.size() - without_id + kThreads * without_id;
  EXPECT_EQ(stored.load(), 2 * expected_rows);
  EXPECT_EQ(stored.load() + duplicates.load(), 2 * kThreads * events.size());
  auto again = (*a)->record_events(all);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->duplicate_rows, events.size() - without_id);
  EXPECT_EQ(again->successful_rows, without_id);
  for (auto* store : {a->get(), b->get()}) {
    std::map<std::string, int> ids;
    size_t no_id = 0;
    for (const OwnedEvent& e : stored_events(*store)) {
      if (e.event_id.empty()) ++no_id;
      else ++ids[e.event_id];
    }
    EXPECT_EQ(ids.size(), events.size() - without_id);
    for (const auto& [id, n] : ids) EXPECT_EQ(n, 1) << id;
    EXPECT_EQ(no_id, (store == a->get() ? kThreads + 1 : kThreads) * without_id);
  }
}

// The arrival sequence and event_id of every event the store holds.
std::vector<std::pair<uint64_t, std::string>> sequences(EventStoreImpl& store) {
  std::vector<std::pair<uint64_t, std::string>> out;
  const absl::Status s = store.scan_events({}, [&](std::span<const StoredEvent> page) {
    for (const StoredEvent& e : page) out.emplace_back(e.sequence, std::string(e.event.event_id));
    return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

// Checks that `store` holds each of `ids[t][i]` once, numbered 1..N without
// a gap, each thread's events in its calls' order.
void expect_every_event_once_in_call_order(EventStoreImpl& store, const std::vector<std::vector<std::string>>& ids) {
  std::map<std::string, uint64_t> sequence_of;
  for (const auto& [sequence, id] : sequences(store)) {
    EXPECT_TRUE(sequence_of.emplace(id, sequence).second) << id << " stored twice";
  }
  size_t total = 0;
  std::vector<bool> numbered;
  for (const auto& thread_ids : ids) total += thread_ids.size();
  ASSERT_EQ(sequence_of.size(), total);
  numbered.assign(total + 1, false);
  for (const auto& [id, sequence] : sequence_of) {
    ASSERT_GE(sequence, 1u);
    ASSERT_LE(sequence, total) << id;
    EXPECT_FALSE(numbered[sequence]) << sequence;
    numbered[sequence] = true;
  }
  for (size_t t = 0; t < ids.size(); ++t) {
    uint64_t previous = 0;
    for (const std::string& id : ids[t]) {
      auto it = sequence_of.find(id);
      ASSERT_NE(it, sequence_of.end()) << id;
      EXPECT_GT(it->second, previous) << "thread " << t << ": " << id << " numbered before its predecessor";
      previous = it->second;
    }
  }
}

// Eight threads without Options::sync, in calls of one event and of a few,
// 4,000 events each (several sealed buffers): every event is stored once,
// the arrival numbers are 1..N without a gap, each thread's in the order it
// made its calls, and so again after the store is closed and reopened.
TEST(ConcurrentWrites, ManyUnsyncedWritersStoreEveryEventOnceInCallOrder) {
  ScopedTempDir dir;
  auto store = open_durable(dir.path());
  ASSERT_TRUE(store.ok()) << store.status();
  constexpr int kThreads = 8;
  constexpr int kEach = 4000;
  std::vector<OwnedEvent> events = generate_events({.events = kThreads * kEach, .seed = 15});
  std::vector<std::vector<std::string>> ids(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kEach; ++i) {
      events[t * kEach + i].event_id = absl::StrCat("t", t, "-", i);
      ids[t].push_back(events[t * kEach + i].event_id);
    }
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t * kEach; i < (t + 1) * kEach;) {
        const int n = std::min((t % 2 == 0 || i % 7 != 0) ? 1 : 5, (t + 1) * kEach - i);
        const std::vector<Event> batch = views(events, i, i + n);
        if (n == 1) {
          const absl::Status s = (*store)->record_event(batch[0]);
          ASSERT_TRUE(s.ok()) << s;
        } else {
          auto report = (*store)->record_events(batch);
          ASSERT_TRUE(report.ok()) << report.status();
          ASSERT_EQ(report->successful_rows, static_cast<uint64_t>(n));
        }
        i += n;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  ASSERT_NO_FATAL_FAILURE(expect_every_event_once_in_call_order(**store, ids));
  store->reset();
  store = open_durable(dir.path());
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_NO_FATAL_FAILURE(expect_every_event_once_in_call_order(**store, ids));
}

// Threads that record a few events and exit, 4 at a time, 60 rounds, some
// flushing: each exiting thread hands its queue node back to the pool and a
// later thread takes it (ThreadWrite), possibly while a leader still wakes
// it. Nothing is lost or stored twice, and after a power loss every event
// recorded before a flush() that returned is there.
TEST(ConcurrentWrites, ThreadsThatComeAndGoReuseQueueNodes) {
  ScopedTempDir dir;
  FaultInjectionFileSystem fs(posix_without_fsync());
  auto store = open_durable(dir.path(), &fs);
  ASSERT_TRUE(store.ok()) << store.status();
  constexpr int kRounds = 60;
  constexpr int kThreads = 4;
  constexpr int kEach = 12;
  std::vector<OwnedEvent> events = generate_events({.events = kRounds * kThreads * kEach, .seed = 16});
  for (size_t i = 0; i < events.size(); ++i) events[i].event_id = absl::StrCat("id-", i);
  for (int round = 0; round < kRounds; ++round) {
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, round, t] {
        const size_t first = (static_cast<size_t>(round) * kThreads + t) * kEach;
        for (size_t i = first; i < first + kEach; ++i) {
          EXPECT_TRUE((*store)->record_event(events[i].view()).ok());
        }
        if (t % 2 == 0) EXPECT_TRUE((*store)->flush().ok());
      });
    }
    for (std::thread& t : threads) t.join();
  }
  // Every call returned before this flush: all of them are durable.
  ASSERT_TRUE((*store)->flush().ok());
  ASSERT_NO_FATAL_FAILURE(crash(*store, fs));
  store = open_durable(dir.path(), &fs);
  ASSERT_TRUE(store.ok()) << store.status();
  std::map<std::string, int> stored;
  for (const auto& [sequence, id] : sequences(**store)) ++stored[id];
  ASSERT_EQ(stored.size(), events.size());
  for (const auto& [id, n] : stored) EXPECT_EQ(n, 1) << id;
}

// StoreStats' writer-queue counters of one thread's calls: each call is a
// group of its own; only flush() fsyncs a store without Options::sync, and
// every call of a store with it does.
TEST(ConcurrentWrites, GroupCountsOfOneThreadsCalls) {
  const std::vector<OwnedEvent> events = generate_events({.events = 7, .seed = 17});
  for (const bool sync : {false, true}) {
    SCOPED_TRACE(sync ? "sync" : "no sync");
    ScopedTempDir dir;
    auto store = open_durable(dir.path(), storage::FileSystem::posix(), {.sync = sync});
    ASSERT_TRUE(store.ok()) << store.status();
    for (int i = 0; i < 3; ++i) ASSERT_TRUE((*store)->record_event(events[i].view()).ok());
    auto report = (*store)->record_events(views(events, 3, 7));
    ASSERT_TRUE(report.ok()) << report.status();
    ASSERT_TRUE((*store)->flush().ok());
    auto stats = (*store)->stats();
    ASSERT_TRUE(stats.ok()) << stats.status();
    EXPECT_EQ(stats->write_groups, 5u);
    EXPECT_EQ(stats->write_group_calls, 5u);
    EXPECT_EQ(stats->write_group_events, 7u);
    EXPECT_EQ(stats->write_syncs, sync ? 5u : 1u);
    EXPECT_EQ(stats->write_synced_events, sync ? 7u : 0u);  // the flush carries no event of its own
    ASSERT_EQ(stats->write_group_sizes.size(), StoreStats::kWriteGroupSizes);
    EXPECT_EQ(stats->write_group_sizes[0], 5u);
    for (size_t i = 1; i < stats->write_group_sizes.size(); ++i) EXPECT_EQ(stats->write_group_sizes[i], 0u) << i;
  }
  // In memory: groups, no fsync.
  auto memory = EventStoreImpl::open(Options{}, storage::FileSystem::posix());
  ASSERT_TRUE(memory.ok()) << memory.status();
  ASSERT_TRUE((*memory)->record_event(events[0].view()).ok());
  auto stats = (*memory)->stats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->write_groups, 1u);
  EXPECT_EQ(stats->write_syncs, 0u);
}

// Synced writers on a slow disk, some recording several events a call, one
// flushing too: whatever groups they form, the counters add up to the calls
// and events made, every group fsyncs, and the histogram adds up to the
// groups and the calls, with a thread that spends its call encoding a large
// batch and threads that stop calling.
TEST(ConcurrentWrites, GroupCountsAddUpToTheCallsWhateverGroupsForm) {
  ScopedTempDir dir;
  FaultInjectionFileSystem fs(posix_without_fsync());
  auto store = open_durable(dir.path(), &fs, {.sync = true});
  ASSERT_TRUE(store.ok()) << store.status();
  constexpr int kThreads = 6;
  constexpr int kEach = 20;
  constexpr size_t kLarge = 20000;
  std::vector<OwnedEvent> events = generate_events({.events = kThreads * kEach * 2 + kLarge, .seed = 18});
  for (size_t i = 0; i < events.size(); ++i) events[i].event_id = absl::StrCat("id-", i);
  fs.set_sync_delay(std::chrono::milliseconds{2});
  std::atomic<uint64_t> calls{0}, recorded{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Thread t records kEach calls of 1 (even t) or 2 (odd t) events.
      const int per_call = t % 2 == 0 ? 1 : 2;
      for (int c = 0; c < kEach; ++c) {
        const size_t first = (static_cast<size_t>(t) * kEach + c) * 2;
        auto report = (*store)->record_events(views(events, first, first + per_call));
        ASSERT_TRUE(report.ok()) << report.status();
        ++calls;
        recorded += per_call;
        if (t == 0 && c % 5 == 0) {
          ASSERT_TRUE((*store)->flush().ok());
          ++calls;
        }
      }
      if (t == 1) {
        const size_t first = static_cast<size_t>(kThreads) * kEach * 2;
        auto report = (*store)->record_events(views(events, first, first + kLarge));
        ASSERT_TRUE(report.ok()) << report.status();
        ++calls;
        recorded += kLarge;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  auto stats = (*store)->stats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->write_group_calls, calls.load());
  EXPECT_EQ(stats->write_group_events, recorded.load());
  EXPECT_EQ(stats->write_syncs, stats->write_groups);
  EXPECT_EQ(stats->write_synced_events, recorded.load());
  EXPECT_LE(stats->write_syncs, fs.file_syncs());
  uint64_t groups = 0, grouped_calls = 0;
  for (size_t i = 0; i < stats->write_group_sizes.size(); ++i) {
    groups += stats->write_group_sizes[i];
    grouped_calls += (i + 1) * stats->write_group_sizes[i];
  }
  EXPECT_EQ(groups, stats->write_groups);
  EXPECT_EQ(grouped_calls, calls.load());  // kThreads callers: no group reaches the last entry
  EXPECT_EQ(stats->rows, recorded.load());
}

// 16 synced writers (some calls of 3 events, two threads flushing too) on a
// slow disk, so groups of many calls form, and every queued caller sleeps at
// once (a synced call does not spin: EventStoreImpl::commit): every call is
// woken and returns, each with its own report, the counters add up to the
// calls, and every event is there once after a power loss.
TEST(ConcurrentWrites, LargeSyncedGroupsReleaseEveryCallerOnce) {
  ScopedTempDir dir;
  FaultInjectionFileSystem fs(posix_without_fsync());
  auto store = open_durable(dir.path(), &fs, {.sync = true});
  ASSERT_TRUE(store.ok()) << store.status();
  constexpr int kThreads = 16;
  constexpr int kCalls = 12;
  constexpr int kMost = 3;  // events a call at most
  std::vector<OwnedEvent> events = generate_events({.events = kThreads * kCalls * kMost, .seed = 19});
  for (size_t i = 0; i < events.size(); ++i) events[i].event_id = absl::StrCat("id-", i);
  fs.set_sync_delay(std::chrono::milliseconds{3});
  std::atomic<uint64_t> recorded{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int c = 0; c < kCalls; ++c) {
        const size_t first = (static_cast<size_t>(t) * kCalls + c) * kMost;
        const size_t n = t % 3 == 0 ? kMost : 1;
        auto report = (*store)->record_events(views(events, first, first + n));
        ASSERT_TRUE(report.ok()) << report.status();
        EXPECT_EQ(report->successful_rows, n);
        EXPECT_EQ(report->duplicate_rows, 0u);
        recorded += n;
        if (t < 2 && c % 4 == 0) ASSERT_TRUE((*store)->flush().ok());
      }
    });
  }
  for (std::thread& t : threads) t.join();
  auto stats = (*store)->stats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->write_group_events, recorded.load());
  EXPECT_EQ(stats->write_group_calls, kThreads * kCalls + 2u * (kCalls / 4));
  // Every call returned: all of them are durable.
  fs.set_sync_delay(std::chrono::milliseconds{0});
  ASSERT_NO_FATAL_FAILURE(crash(*store, fs));
  store = open_durable(dir.path(), &fs);
  ASSERT_TRUE(store.ok()) << store.status();
  std::map<std::string, int> stored;
  for (const auto& [sequence, id] : sequences(**store)) ++stored[id];
  EXPECT_EQ(stored.size(), recorded.load());
  for (const auto& [id, n] : stored) EXPECT_EQ(n, 1) << id;
}

}  // namespace
}  // namespace usagedb::testing
