#include "lib/http/group_commit.h"

#include <atomic>
#include <latch>
#include <mutex>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace usagedb::http {
namespace {

using Clock = std::chrono::steady_clock;

// A flush that takes `duration` and records when each one started and ended.
struct FakeFlush {
  std::chrono::milliseconds duration{10};
  std::mutex mu;
  std::vector<std::pair<Clock::time_point, Clock::time_point>> runs;
  std::atomic<int> running{0};
  std::atomic<bool> overlapped{false};
  std::atomic<bool> fail{false};

  absl::Status operator()() {
    if (running.fetch_add(1) != 0) overlapped = true;
    const auto start = Clock::now();
    std::this_thread::sleep_for(duration);
    const auto end = Clock::now();
    running.fetch_sub(1);
    std::lock_guard<std::mutex> lock(mu);
    runs.emplace_back(start, end);
    return fail ? absl::UnavailableError("disk gone") : absl::OkStatus();
  }
};

TEST(GroupCommitConcurrent, ConcurrentSyncsShareFlushesAndEachWaitsForAFlushStartedAfterIt) {
  FakeFlush fake;
  // Long enough that every thread calls while the first flush runs, even
  // when the threads start slowly (TSan, a loaded machine).
  fake.duration = std::chrono::milliseconds(50);
  GroupCommit commit([&fake] { return fake(); }, std::chrono::seconds(10));
  constexpr int kThreads = 32;
  std::vector<std::pair<Clock::time_point, Clock::time_point>> calls(kThreads);
  std::vector<std::thread> threads;
  std::latch start(kThreads);  // all call sync() together
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      const auto called = Clock::now();
      EXPECT_TRUE(commit.sync().ok());
      calls[i] = {called, Clock::now()};
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_FALSE(fake.overlapped.load());
  // About two flushes for all of them (one running, one for the rest), not 32.
  EXPECT_LE(fake.runs.size(), 8u);
  EXPECT_EQ(commit.flushes(), fake.runs.size());
  for (const auto& [called, returned] : calls) {
    bool covered = false;
    for (const auto& [start, end] : fake.runs) covered |= start >= called && end <= returned;
    EXPECT_TRUE(covered) << "a sync returned without a flush that started after it was called";
  }
}

TEST(GroupCommit, SequentialSyncsEachFlush) {
  FakeFlush fake;
  fake.duration = std::chrono::milliseconds(0);
  GroupCommit commit([&fake] { return fake(); }, std::chrono::seconds(10));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(commit.sync().ok());
  EXPECT_EQ(commit.flushes(), 5u);
}

TEST(GroupCommitConcurrent, AFailedFlushFailsTheSyncsItWasToCover) {
  FakeFlush fake;
  fake.fail = true;
  GroupCommit commit([&fake] { return fake(); }, std::chrono::seconds(10));
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      const absl::Status s = commit.sync();
      if (absl::IsUnavailable(s)) failures.fetch_add(1);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 8);
  fake.fail = false;
  EXPECT_TRUE(commit.sync().ok());
}

TEST(GroupCommit, UnwaitedWritesAreFlushedWithinTheDelay) {
  FakeFlush fake;
  fake.duration = std::chrono::milliseconds(1);
  GroupCommit commit([&fake] { return fake(); }, std::chrono::milliseconds(200));
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  EXPECT_EQ(commit.flushes(), 0u);  // nothing written, nothing flushed
  const auto written = Clock::now();
  commit.note_write();
  commit.note_write();
  while (commit.flushes() == 0 && Clock::now() - written < std::chrono::seconds(5)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(commit.flushes(), 1u);
  std::lock_guard<std::mutex> lock(fake.mu);
  EXPECT_LE(fake.runs[0].second - written, std::chrono::milliseconds(200) + std::chrono::milliseconds(100));
  EXPECT_GE(fake.runs[0].first - written, std::chrono::milliseconds(90));  // it gathered writes first
}

TEST(GroupCommit, CloseFlushesWhatIsLeftAndStopsTheFlusher) {
  FakeFlush fake;
  fake.duration = std::chrono::milliseconds(0);
  GroupCommit commit([&fake] { return fake(); }, std::chrono::seconds(60));
  commit.note_write();
  EXPECT_TRUE(commit.close().ok());
  EXPECT_EQ(commit.flushes(), 1u);
  EXPECT_TRUE(commit.close().ok());
}

}  // namespace
}  // namespace usagedb::http
