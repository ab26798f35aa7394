// scan_events, read_feed and the cursors (usagedb/feed.h): every stored
// event read back exactly once, in memory and on disk, across merges,
// checkpoints, reopens, deletes and bulk ingests.
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "gtest/gtest.h"
#include "tests/testutil/helpers.h"
#include "tests/testutil/random_events.h"
#include "tests/testutil/reference.h"
#include "tests/testutil/temp_dir.h"
#include "usagedb/usagedb.h"

namespace usagedb {
namespace {

using testing::OwnedEvent;

// An event as a comparable tuple of its columns.
using EventKey = std::tuple<std::string, std::string, std::string, std::string, std::string, int64_t, std::string,
                            std::string>;
EventKey key_of(const Event& e) {
  return {std::string(e.event_id),   std::string(e.user_id),   std::string(e.feature_id),
          std::string(e.product_version), std::string(e.event_type), e.timestamp.time_since_epoch().count(),
          std::string(e.session_id), std::string(e.metadata)};
}

std::multiset<EventKey> keys_of(const std::vector<OwnedEvent>& events) {
  std::multiset<EventKey> out;
  for (const OwnedEvent& e : events) out.insert(key_of(e.view()));
  return out;
}

std::multiset<EventKey> scan_all(const EventStore& store, ScanOptions options = {}) {
  std::multiset<EventKey> out;
  absl::Status s = store.scan_events(options, [&](std::span<const StoredEvent> page) {
    EXPECT_LE(page.size(), options.page_events);
    for (const StoredEvent& e : page) out.insert(key_of(e.event));
    return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

// Reads the whole feed after `after` in pages of `page` events: the events,
// checked ascending and unique by number; `*after` ends at the last number.
std::multiset<EventKey> read_all(EventStore& store, uint64_t* after, size_t page) {
  std::multiset<EventKey> out;
  std::set<uint64_t> numbers;
  for (;;) {
    absl::StatusOr<EventFeedPage> p = store.read_feed(*after, page);
    EXPECT_TRUE(p.ok()) << p.status();
    if (!p.ok()) break;
    EXPECT_LE(p->events.size(), page);
    for (const StoredEvent& e : p->events) {
      EXPECT_GT(e.sequence, *after);
      EXPECT_LE(e.sequence, p->next_after);
      EXPECT_TRUE(numbers.insert(e.sequence).second) << "number " << e.sequence << " twice";
      out.insert(key_of(e.event));
    }
    EXPECT_TRUE(std::is_sorted(p->events.begin(), p->events.end(),
                               [](const StoredEvent& a, const StoredEvent& b) { return a.sequence < b.sequence; }));
    const bool caught_up = p->next_after == p->durable_through;
    EXPECT_GE(p->next_after, *after);
    *after = p->next_after;
    if (caught_up) break;
  }
  return out;
}

Options small_parts(const std::string& dir) {
  Options o;
  o.directory = dir;
  o.part_rows = 300;  // many seals and merges
  return o;
}

TEST(EventFeed, ScanAndFeedReturnTheStoredEventsExactly) {
  for (const bool on_disk : {false, true}) {
    testing::ScopedTempDir dir;
    auto store = EventStore::open(small_parts(on_disk ? dir.path() : "")).value();
    testing::RandomEvents gen(on_disk ? 31 : 32);
    testing::Reference reference;
    uint64_t after = 0;
    std::multiset<EventKey> fed;
    for (int round = 0; round < 6; ++round) {
      const auto batch = gen.events(700);
      std::vector<Event> views;
      for (const auto& e : batch) {
        views.push_back(e.view());
        reference.record(e.view());
      }
      ASSERT_TRUE(store->record_events(views).ok());
      if (round == 2) {
        const std::string user = gen.users()[0];
        reference.delete_user(user);
        ASSERT_TRUE(store->delete_user(user).ok());
        // Events deleted before the feed reaches them are never reported.
        std::multiset<EventKey> pruned;
        for (const EventKey& k : fed) {
          if (std::get<1>(k) != user) pruned.insert(k);
        }
        fed = pruned;
      }
      if (round == 3) ASSERT_TRUE(store->compact().ok());
      const auto got = read_all(*store, &after, 1 + round * 97);
      fed.insert(got.begin(), got.end());
    }
    const std::multiset<EventKey> want = keys_of(reference.events());
    EXPECT_EQ(scan_all(*store, {.page_events = 123}), want);
    EXPECT_EQ(fed, want);

    // Ranges split at random instants (month starts among them) partition the events.
    std::vector<Timestamp> cuts = {testing::at("2024-02-01 00:00:00"), testing::at("2024-03-01 00:00:00")};
    for (int i = 0; i < 6; ++i) cuts.push_back(reference.events()[gen.random().uniform(reference.events().size())].timestamp);
    std::sort(cuts.begin(), cuts.end());
    std::multiset<EventKey> by_month = scan_all(*store, {.end = cuts.front()});
    for (size_t i = 0; i + 1 < cuts.size(); ++i) by_month.merge(scan_all(*store, {.start = cuts[i], .end = cuts[i + 1]}));
    by_month.merge(scan_all(*store, {.start = cuts.back()}));
    EXPECT_EQ(by_month, want) << (on_disk ? "on disk" : "in memory");
  }
}

TEST(EventFeed, ACursorResumesAfterReopenAndNewEventsNumberAboveIt) {
  testing::ScopedTempDir dir;
  testing::RandomEvents gen(41);
  const auto first = gen.events(1500);
  const auto second = gen.events(1500);
  uint64_t after = 0;
  std::multiset<EventKey> fed;
  testing::Reference reference;
  {
    auto store = EventStore::open(small_parts(dir.path())).value();
    EXPECT_EQ(store->load_cursor("to-x").value(), 0u);
    std::vector<Event> views;
    for (const auto& e : first) {
      views.push_back(e.view());
      reference.record(e.view());
    }
    ASSERT_TRUE(store->record_events(views).ok());
    fed = read_all(*store, &after, 400);
    ASSERT_TRUE(store->save_cursor("to-x", after).ok());
    EXPECT_EQ(store->load_cursor("to-x").value(), after);
  }  // closed without a checkpoint of the last events: the log holds them
  {
    auto store = EventStore::open(small_parts(dir.path())).value();
    EXPECT_EQ(store->load_cursor("to-x").value(), after);
    // Nothing new yet: the cursor is caught up after the reopen.
    absl::StatusOr<EventFeedPage> page = store->read_feed(after, 100);
    ASSERT_TRUE(page.ok());
    EXPECT_TRUE(page->events.empty());
    std::vector<Event> views;
    for (const auto& e : second) {
      views.push_back(e.view());
      reference.record(e.view());
    }
    ASSERT_TRUE(store->record_events(views).ok());
    const auto more = read_all(*store, &after, 250);
    fed.insert(more.begin(), more.end());
    EXPECT_EQ(fed, keys_of(reference.events()));
  }
}

TEST(EventFeed, ABulkIngestIsInTheFeedWhenItReturns) {
  testing::ScopedTempDir dir;
  auto store = EventStore::open(small_parts(dir.path())).value();
  std::string ndjson;
  for (int i = 0; i < 5000; ++i) {
    ndjson += "{\"event_id\":\"b" + std::to_string(i) + "\",\"user_id\":\"u" + std::to_string(i % 50) +
              "\",\"feature_id\":\"f\",\"product_version\":\"1\",\"event_type\":\"view\",\"timestamp\":\"2025-0" +
              std::to_string(1 + i % 3) + "-02 10:00:00\"}\n";
  }
  const std::string path = dir.file("bulk.ndjson");
  testing::write_file(path, ndjson);
  ASSERT_TRUE(store->ingest_file(path, {}).ok());
  uint64_t after = 0;
  EXPECT_EQ(read_all(*store, &after, 1000).size(), 5000u);
}

TEST(EventFeed, BadArgumentsAreErrors) {
  auto store = EventStore::open(Options{}).value();
  EXPECT_EQ(store->read_feed(0, 0).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->scan_events({.page_events = 0}, [](auto) { return absl::OkStatus(); }).code(),
            absl::StatusCode::kInvalidArgument);
  for (const char* bad : {"", ".", "..", "a/b", "sp ace"}) {
    EXPECT_EQ(store->save_cursor(bad, 1).code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(store->load_cursor(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(store->save_cursor(std::string(65, 'a'), 1).code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(store->save_cursor(std::string(64, 'a'), 9).ok());
  EXPECT_EQ(store->load_cursor(std::string(64, 'a')).value(), 9u);
  // A visitor's error stops the scan and is returned.
  ASSERT_TRUE(store->record_event(Event{.user_id = "u", .feature_id = "f", .product_version = "1",
                                        .event_type = "view", .timestamp = testing::at("2025-01-01 00:00:00")})
                  .ok());
  EXPECT_EQ(store->scan_events({}, [](auto) { return absl::CancelledError("stop"); }).code(),
            absl::StatusCode::kCancelled);
  // Numbered above the saved cursor.
  absl::StatusOr<EventFeedPage> page = store->read_feed(9, 10);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->events.size(), 1u);
  EXPECT_GT(page->events[0].sequence, 9u);
}

TEST(EventFeed, ADamagedCursorFileIsDataLoss) {
  testing::ScopedTempDir dir;
  {
    auto store = EventStore::open(small_parts(dir.path())).value();
    ASSERT_TRUE(store->save_cursor("c", 77).ok());
  }
  testing::write_file(dir.file("cursor-c.udbc"), "not a cursor");
  auto reopened = EventStore::open(small_parts(dir.path()));
  ASSERT_FALSE(reopened.ok());
  EXPECT_EQ(reopened.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(testing::message(reopened.status()).find("cursor-c.udbc"), std::string::npos) << reopened.status();
}

}  // namespace
}  // namespace usagedb
