#include "lib/http/rate_limiter.h"

#include <atomic>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace usagedb::http {
namespace {

TEST(RateLimiter, AllowsRpsRequestsPerSecondThenAsksToRetryNextSecond) {
  RateLimiter limiter;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.acquire("t", 3, 100), 0u) << i;
  EXPECT_EQ(limiter.acquire("t", 3, 100), 1u);
  EXPECT_EQ(limiter.acquire("t", 3, 100), 1u);  // refusals are not counted against later seconds
  EXPECT_EQ(limiter.acquire("other", 3, 100), 0u);
  EXPECT_EQ(limiter.acquire("t", 3, 101), 0u);
  EXPECT_EQ(limiter.acquire("t", 0, 101), 0u);  // unlimited
  for (int i = 0; i < 100; ++i) EXPECT_EQ(limiter.acquire("free", 0, 101), 0u);
}

TEST(RateLimiter, ForgetsPastSecondsOfManyNames) {
  RateLimiter limiter;
  for (int i = 0; i < 100000; ++i) limiter.acquire("name" + std::to_string(i), 1, i / 1000);
  EXPECT_EQ(limiter.acquire("name99999", 1, 99), 1u);
  EXPECT_EQ(limiter.acquire("name0", 1, 99), 0u);
}

TEST(RateLimiterConcurrent, CountsExactlyAcrossThreads) {
  RateLimiter limiter;
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        if (limiter.acquire("shared", 250, 7) == 0) allowed.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(allowed.load(), 250);
}

}  // namespace
}  // namespace usagedb::http
