// Concurrent writers and readers on one EventStore (also run under TSan).
// Checks the contract of usagedb/event_store.h: no lost or torn events, and a
// query sees every event whose record call returned before it started.
#include <atomic>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/testutil/temp_dir.h"
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

// Readers of a reopened store whose cache (one byte) drops every rollup's
// sections as soon as no query holds it: each query holds the rollups it
// reads while another thread's query ends and drops them, so sections are
// read, dropped and read again all the time, and every answer stays the
// one a single reader got.
TEST(Concurrency, ReadersOfRollupsATinyCacheDrops) {
  usagedb::testing::ScopedTempDir dir;
  {
    auto store = EventStore::open({.directory = dir.path(), .part_rows = 400}).value();
    std::vector<Event> events;
    std::vector<std::string> ids, users, features, sessions, metadata;  // what the events view
    for (int i = 0; i < 6000; ++i) {
      ids.push_back(absl::StrCat("e", i));
      sessions.push_back(absl::StrCat("s", i / 20));
      users.push_back(absl::StrCat("u", i % 37));
      features.push_back(absl::StrCat("f", i % 5));
      metadata.push_back(absl::StrCat(R"({"device":"d)", i % 3, R"("})"));
    }
    for (int i = 0; i < 6000; ++i) {
      events.push_back(Event{.event_id = ids[i], .user_id = users[i], .feature_id = features[i],
                             .product_version = i % 4 == 0 ? "2.0" : "1.0", .event_type = "view",
                             // three months
                             .timestamp = Timestamp{std::chrono::seconds{1735689600 + (i % 3) * 2678400 + i * 61}},
                             .session_id = sessions[i], .metadata = metadata[i]});
    }
    ASSERT_TRUE(store->record_events(events).ok());
    ASSERT_TRUE(store->compact().ok());
  }  // closed: the parts and rollups are files
  auto store = EventStore::open({.directory = dir.path(), .create_if_missing = false, .cache_bytes = 1}).value();
  // The answers of one reader, first.
  const auto ask = [&](int question) -> std::string {
    switch (question) {
      case 0: {
        auto r = store->feature_usage_summary({.product_version = "1.0"});
        EXPECT_TRUE(r.ok()) << r.status();
        return r.ok() ? absl::StrCat(r->rows.size(), ":", r->rows.empty() ? 0 : r->rows[0].unique_users) : "";
      }
      case 1: {
        auto r = store->feature_usage_timeline({.granularity = Granularity::kDay, .feature_id = "f1"});
        EXPECT_TRUE(r.ok()) << r.status();
        uint64_t users = 0;
        if (r.ok()) for (const auto& row : r->rows) users += row.unique_users;
        return absl::StrCat(users);
      }
      case 2: {
        auto r = store->property_breakdown({.property = "device"});
        EXPECT_TRUE(r.ok()) << r.status();
        uint64_t users = 0;
        if (r.ok()) for (const auto& row : r->rows) users += row.users;
        return absl::StrCat(users);
      }
      case 3: {
        auto r = store->version_adoption({.granularity = Granularity::kWeek});
        EXPECT_TRUE(r.ok()) << r.status();
        return r.ok() ? absl::StrCat(r->rows.size()) : "";
      }
      default: {
        auto r = store->user_feature_usage({.user_id = "u5"});
        EXPECT_TRUE(r.ok()) << r.status();
        uint64_t n = 0;
        if (r.ok()) for (const auto& row : r->rows) n += row.usage_count;
        return absl::StrCat(n);
      }
    }
  };
  constexpr int kQuestions = 5;
  std::vector<std::string> want;
  for (int q = 0; q < kQuestions; ++q) want.push_back(ask(q));
  EXPECT_EQ(want[4], "163");  // u5: every 37th event from the 6th
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&, t] {
      for (int i = 0; i < 60; ++i) {
        const int q = (t + i) % kQuestions;
        ASSERT_EQ(ask(q), want[q]) << "question " << q;
      }
    });
  }
  for (std::thread& r : readers) r.join();
  const auto s = store->stats();
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_GT(s->cache_rollup_drops, 0u);
}

}  // namespace
}  // namespace usagedb
