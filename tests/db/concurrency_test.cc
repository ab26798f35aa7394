// Concurrent writers and readers on one EventStore (also run under TSan).
// Checks the contract of usagedb/event_store.h: no lost or torn events, and a
// query sees every event whose record call returned before it started.
#include <atomic>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "usagedb/usagedb.h"

namespace usagedb {
namespace {

TEST(Concurrency, WritersAndReaders) {
  auto store = EventStore::open({.part_rows = 97}).value();  // frequent seals during the test
  constexpr int kWriters = 3;
  constexpr int kEventsPerWriter = 4000;
  std::atomic<int> acknowledged[kWriters] = {};
  std::atomic<bool> done{false};

  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      const std::string user = absl::StrCat("writer_", w);
      for (int i = 0; i < kEventsPerWriter; ++i) {
        const std::string id = absl::StrCat("w", w, "_", i);
        const std::string feature = absl::StrCat("f", i % 7);
        const std::string session = absl::StrCat("s", i / 10);
        // Spread over several months so several partitions change at once.
        const Timestamp t{std::chrono::seconds{1735689600 + (i % 5) * 2678400 + i}};
        Event e{.event_id = id, .user_id = user, .feature_id = feature,
                .product_version = "1.0", .event_type = "view", .timestamp = t,
                .session_id = session};
        if (i % 50 == 0) {
          ASSERT_TRUE(store->record_events(std::span<const Event>(&e, 1)).ok());
        } else {
          ASSERT_TRUE(store->record_event(e).ok());
        }
        acknowledged[w].store(i + 1, std::memory_order_release);
      }
    });
  }
  // Readers: every query must see at least the events acknowledged before it.
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&, r] {
      while (!done.load()) {
        const int w = r % kWriters;
        const int before = acknowledged[w].load(std::memory_order_acquire);
        auto usage = store->user_feature_usage({.user_id = absl::StrCat("writer_", w)});
        ASSERT_TRUE(usage.ok());
        uint64_t total = 0;
        for (const auto& row : usage->rows) total += row.usage_count;
        ASSERT_GE(total, static_cast<uint64_t>(before));
        auto summary = store->feature_usage_summary({.product_version = "1.0"});
        ASSERT_TRUE(summary.ok());
        auto timeline = store->feature_usage_timeline({.granularity = Granularity::kMonth});
        ASSERT_TRUE(timeline.ok());
      }
    });
  }
  // Maintenance racing with both: compaction, and deleting a user nobody
  // else writes, which rewrites parts the writers' rows live in.
  threads.emplace_back([&] {
    int round = 0;
    while (!done.load()) {
      const std::string victim = absl::StrCat("victim_", round++);
      Event e{.event_id = "", .user_id = victim, .feature_id = "f0", .product_version = "1.0",
              .event_type = "view", .timestamp = Timestamp{std::chrono::seconds{1735689600 + round}}};
      ASSERT_TRUE(store->record_event(e).ok());
      ASSERT_TRUE(store->compact().ok());
      auto removed = store->delete_user(victim);
      ASSERT_TRUE(removed.ok());
      ASSERT_EQ(*removed, 1u);
    }
  });
  for (int w = 0; w < kWriters; ++w) threads[w].join();
  done = true;
  for (size_t i = kWriters; i < threads.size(); ++i) threads[i].join();

  auto summary = store->feature_usage_summary({});
  ASSERT_TRUE(summary.ok());
  uint64_t total = 0;
  for (const auto& row : summary->rows) total += row.total_events;
  EXPECT_EQ(total, static_cast<uint64_t>(kWriters * kEventsPerWriter));
  for (int w = 0; w < kWriters; ++w) {
    auto usage = store->user_feature_usage({.user_id = absl::StrCat("writer_", w)});
    uint64_t n = 0;
    for (const auto& row : usage->rows) n += row.usage_count;
    EXPECT_EQ(n, static_cast<uint64_t>(kEventsPerWriter));
  }
}

// property_breakdown reads unsealed rows' metadata without a lock while the
// writer adds new distinct values (the buffer's value blocks and tables
// grow): every acknowledged event is counted, under its own value.
TEST(Concurrency, BreakdownReadsMetadataAsItIsWritten) {
  auto store = EventStore::open({.part_rows = 5000}).value();  // mostly unsealed rows
  constexpr int kEvents = 6000;
  std::atomic<int> acknowledged{0};
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int i = 0; i < kEvents; ++i) {
      // Each a value of its own: new strings all the time, some long.
      const std::string metadata =
          absl::StrCat(R"({"device":"d)", i % 3, R"(","n":")", i, std::string(i % 97 == 0 ? 70000 : 0, 'x'), R"("})");
      const std::string user = absl::StrCat("u", i % 50);  // outlives the Event's view of it
      const Event e{.user_id = user, .feature_id = "f", .product_version = "1.0",
                    .event_type = "view", .timestamp = Timestamp{std::chrono::seconds{1735689600 + i}},
                    .metadata = metadata};
      ASSERT_TRUE(store->record_event(e).ok());
      acknowledged.store(i + 1, std::memory_order_release);
    }
  });
  std::thread reader([&] {
    while (!done.load()) {
      const int before = acknowledged.load(std::memory_order_acquire);
      auto breakdown = store->property_breakdown({.property = "device"});
      ASSERT_TRUE(breakdown.ok()) << breakdown.status();
      uint64_t total = 0;
      for (const auto& row : breakdown->rows) {
        ASSERT_TRUE(row.value == "d0" || row.value == "d1" || row.value == "d2") << row.value;
        total += row.events;
      }
      ASSERT_GE(total, static_cast<uint64_t>(before));
      auto versions = store->version_adoption({.granularity = Granularity::kDay, .tz = "Asia/Kolkata"});
      ASSERT_TRUE(versions.ok()) << versions.status();
    }
  });
  writer.join();
  done = true;
  reader.join();
  auto breakdown = store->property_breakdown({.property = "device"});
  ASSERT_TRUE(breakdown.ok());
  ASSERT_EQ(breakdown->rows.size(), 3u);
  EXPECT_EQ(breakdown->rows[0].events + breakdown->rows[1].events + breakdown->rows[2].events,
            static_cast<uint64_t>(kEvents));
}

}  // namespace
}  // namespace usagedb
