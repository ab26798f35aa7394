// The EventStore API's contract: validation errors, dedup, visibility, and the
// endpoints on small hand-checked data.
#include "usagedb/event_store.h"

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testutil/printers.h"
#include "tests/testutil/helpers.h"
#include "tests/testutil/temp_dir.h"

namespace usagedb {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

using ::usagedb::testing::at;

std::unique_ptr<EventStore> open_store(Options options = {}) {
  auto store = EventStore::open(options);
  EXPECT_TRUE(store.ok()) << store.status();
  return std::move(store).value();
}

Event event(std::string_view id, std::string_view user, std::string_view feature, std::string_view version,
            const char* ts, std::string_view type = "view", std::string_view session = "") {
  return Event{.event_id = id, .user_id = user, .feature_id = feature, .product_version = version,
               .event_type = type, .timestamp = at(ts), .session_id = session};
}

TEST(EventStore, RejectsInvalidEventsNamingTheField) {
  auto store = open_store();
  Event e = event("evt_1", "u", "f", "1.0", "2025-01-01 00:00:00");
  struct Case {
    Event event;
    std::string field;
  };
  std::vector<Case> cases;
  for (auto [member, name] : {std::pair{&Event::user_id, "user_id"}, std::pair{&Event::feature_id, "feature_id"},
                              std::pair{&Event::product_version, "product_version"},
                              std::pair{&Event::event_type, "event_type"}}) {
    Event bad = e;
    bad.*member = "";
    cases.push_back({bad, name});
  }
  Event late = e;
  late.timestamp = kMaxTimestamp + std::chrono::seconds{1};
  cases.push_back({late, "timestamp"});
  Event early = e;
  early.timestamp = kMinTimestamp - std::chrono::seconds{1};
  cases.push_back({early, "timestamp"});
  Event bad_utf8 = e;
  bad_utf8.session_id = "\xC3\x28";
  cases.push_back({bad_utf8, "session_id"});
  Event surrogate = e;
  surrogate.metadata = "\xED\xA0\x80";  // a UTF-16 surrogate encoded in UTF-8
  cases.push_back({surrogate, "metadata"});
  for (const Case& c : cases) {
    absl::Status s = store->record_event(c.event);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_THAT(s.message(), HasSubstr(c.field));
  }
  // Nothing was stored.
  auto summary = store->feature_usage_summary({});
  ASSERT_TRUE(summary.ok());
  EXPECT_TRUE(summary->rows.empty());
}

TEST(EventStore, BatchIsAllOrNothingAndNamesTheIndex) {
  auto store = open_store();
  std::vector<Event> batch = {event("a", "u", "f", "1", "2025-01-01 00:00:00"),
                              event("b", "", "f", "1", "2025-01-01 00:00:00")};
  auto r = store->record_events(batch);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("events[1].user_id"));
  EXPECT_TRUE(store->user_feature_usage({.user_id = "u"})->rows.empty());
}

TEST(EventStore, DedupSameMonthOnlyFirstWriteWins) {
  auto store = open_store();
  std::vector<Event> batch = {
      event("evt_1", "u", "first", "1", "2025-01-10 00:00:00"),
      event("evt_1", "u", "second", "1", "2025-01-20 00:00:00"),  // same month: skipped
      event("evt_1", "u", "third", "1", "2025-02-01 00:00:00"),   // another month: stored
      event("", "u", "anon", "1", "2025-01-10 00:00:00"),
      event("", "u", "anon", "1", "2025-01-10 00:00:00"),  // empty ids never dedup
  };
  auto r = store->record_events(batch);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, (IngestReport{.successful_rows = 4, .quarantined_rows = 0, .duplicate_rows = 1}));
  // A later retry is skipped too, and record_event reports OK.
  EXPECT_TRUE(store->record_event(event("evt_1", "u", "retry", "1", "2025-01-31 23:59:59")).ok());
  auto usage = store->user_feature_usage({.user_id = "u"});
  ASSERT_TRUE(usage.ok());
  std::vector<std::string> features;
  for (const auto& row : usage->rows) features.push_back(row.feature_id);
  EXPECT_THAT(features, ElementsAre("anon", "first", "third"));
}

TEST(EventStore, DedupCanBeTurnedOff) {
  auto store = open_store({.deduplicate = false});
  std::vector<Event> batch = {event("evt_1", "u", "f", "1", "2025-01-10 00:00:00"),
                              event("evt_1", "u", "f", "1", "2025-01-10 00:00:00")};
  auto r = store->record_events(batch);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->successful_rows, 2u);
  EXPECT_EQ(store->user_feature_usage({.user_id = "u"})->rows.at(0).usage_count, 2u);
}

TEST(EventStore, UserFeatureUsageAcrossPartsBufferAndMonths) {
  auto store = open_store({.part_rows = 2});  // seal constantly: parts and buffer both hold rows
  const std::vector<Event> batch = {
      event("1", "alice", "search", "1.0", "2025-01-01 10:00:00"),
      event("2", "alice", "search", "1.0", "2025-03-05 09:00:00"),
      event("3", "alice", "search", "2.0", "2025-03-06 09:00:00"),
      event("4", "alice", "export", "2.0", "2025-02-01 00:00:00"),
      event("5", "bob", "search", "1.0", "2025-01-01 10:00:00"),
      event("6", "alice", "export", "2.0", "2025-02-02 00:00:00"),
      event("7", "alice", "search", "1.0", "2025-01-02 10:00:00"),
  };
  ASSERT_TRUE(store->record_events(batch).ok());
  auto r = store->user_feature_usage({.user_id = "alice"});
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(r->rows, ElementsAre(UserFeatureUsageRow{"alice", "search", "1.0", 3, at("2025-01-01 10:00:00"),
                                                       at("2025-03-05 09:00:00")},
                                   UserFeatureUsageRow{"alice", "export", "2.0", 2, at("2025-02-01 00:00:00"),
                                                       at("2025-02-02 00:00:00")},
                                   UserFeatureUsageRow{"alice", "search", "2.0", 1, at("2025-03-06 09:00:00"),
                                                       at("2025-03-06 09:00:00")}));
  auto filtered = store->user_feature_usage({.user_id = "alice", .feature_id = "search", .product_version = "2.0"});
  ASSERT_EQ(filtered->rows.size(), 1u);
  EXPECT_EQ(filtered->rows[0].usage_count, 1u);
  EXPECT_TRUE(store->user_feature_usage({})->rows.empty());  // no user_id: AND 0=1
  EXPECT_TRUE(store->user_feature_usage({.user_id = "carol"})->rows.empty());
  auto paged = store->user_feature_usage({.user_id = "alice", .limit = 1, .skip = 1});
  ASSERT_EQ(paged->rows.size(), 1u);
  EXPECT_EQ(paged->rows[0].feature_id, "export");
  EXPECT_EQ(paged->rows_before_limit, 3u);
  EXPECT_GT(paged->statistics.rows_read, 0u);
}

TEST(EventStore, SummaryCountsDistinctUsersAndSessionsIncludingEmpty) {
  auto store = open_store();
  const std::vector<Event> batch = {
      event("1", "a", "f", "1", "2025-01-01 00:00:00", "view", "s1"),
      event("2", "a", "f", "1", "2025-01-01 00:00:01", "click", "s1"),
      event("3", "b", "f", "1", "2025-01-01 00:00:02", "view", ""),
      event("4", "c", "f", "1", "2025-01-02 00:00:00", "view", ""),
      event("5", "c", "g", "1", "2025-01-02 00:00:00", "view", "s9"),
  };
  ASSERT_TRUE(store->record_events(batch).ok());
  auto r = store->feature_usage_summary({});
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(r->rows,
              ElementsAre(FeatureUsageSummaryRow{"f", "1", 4, 3, 2, at("2025-01-01 00:00:00"), at("2025-01-02 00:00:00")},
                          FeatureUsageSummaryRow{"g", "1", 1, 1, 1, at("2025-01-02 00:00:00"), at("2025-01-02 00:00:00")}));
  auto window = store->feature_usage_summary(
      {.event_type = "view", .start_date = at("2025-01-01 00:00:01"), .end_date = at("2025-01-02 00:00:00")});
  ASSERT_EQ(window->rows.size(), 1u);
  EXPECT_EQ(window->rows[0].total_events, 1u);  // only b's view; end_date is exclusive
}

TEST(EventStore, RejectsEndDateBeforeStartDate) {
  auto store = open_store();
  auto r = store->feature_usage_summary({.start_date = at("2025-02-01 00:00:00"), .end_date = at("2025-01-01 00:00:00")});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("end_date"));
  auto t = store->feature_usage_timeline({.start_date = at("2025-02-01 00:00:00"), .end_date = at("2025-01-01 00:00:00")});
  EXPECT_THAT(t.status().message(), HasSubstr("end_date"));
  auto bad = store->feature_usage_timeline({.granularity = static_cast<Granularity>(17)});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("granularity"));
  auto out_of_range = store->feature_usage_summary({.start_date = kMaxTimestamp + std::chrono::seconds{1}});
  EXPECT_THAT(out_of_range.status().message(), HasSubstr("start_date"));
  // Equal dates are a valid, empty window.
  EXPECT_TRUE(store->feature_usage_summary({.start_date = at("2025-01-01 00:00:00"), .end_date = at("2025-01-01 00:00:00")}).ok());
}

TEST(EventStore, TimelineBucketsWeeksFromMondayAndClampsAtEpoch) {
  auto store = open_store();
  const std::vector<Event> batch = {
      event("1", "a", "f", "1", "1970-01-01 05:00:00"),  // Thursday: week of 1970-01-01
      event("2", "b", "f", "1", "1970-01-04 23:59:59"),  // Sunday: same bucket
      event("3", "a", "f", "1", "1970-01-05 00:00:00"),  // Monday: new week
      event("4", "a", "f", "1", "2025-03-30 23:59:59"),  // Sunday
      event("5", "a", "f", "1", "2025-03-31 00:00:00"),  // Monday
  };
  ASSERT_TRUE(store->record_events(batch).ok());
  auto r = store->feature_usage_timeline({.granularity = Granularity::kWeek});
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(r->rows, ElementsAre(FeatureUsageTimelineRow{at("1970-01-01 00:00:00"), "f", 2, 2},
                                   FeatureUsageTimelineRow{at("1970-01-05 00:00:00"), "f", 1, 1},
                                   FeatureUsageTimelineRow{at("2025-03-24 00:00:00"), "f", 1, 1},
                                   FeatureUsageTimelineRow{at("2025-03-31 00:00:00"), "f", 1, 1}));
}

TEST(EventStore, OpenRejectsBadOptions) {
  EXPECT_EQ(EventStore::open({.part_rows = 0}).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace usagedb

namespace usagedb {
namespace {

using ::testing::HasSubstr;

std::vector<Event> sample_events(std::vector<std::string>* storage) {
  // Three months, three users, ids evt_0.. .
  std::vector<Event> events;
  storage->reserve(600);
  for (int i = 0; i < 300; ++i) {
    storage->push_back(absl::StrCat("evt_", i));
    events.push_back(Event{.event_id = storage->back(),
                           .user_id = i % 3 == 0 ? "alice" : (i % 3 == 1 ? "bob" : "carol"),
                           .feature_id = i % 2 ? "search" : "export", .product_version = "1.0",
                           .event_type = "view",
                           .timestamp = Timestamp{std::chrono::seconds{1735689600 + i * 26000}}});
  }
  return events;
}

uint64_t total_events(EventStore& store) {
  uint64_t n = 0;
  auto summary = store.feature_usage_summary({});
  for (const auto& row : summary->rows) n += row.total_events;
  return n;
}

TEST(EventStoreMaintenance, CompactKeepsEveryAnswer) {
  auto store = EventStore::open({.part_rows = 8}).value();
  std::vector<std::string> storage;
  const auto events = sample_events(&storage);
  ASSERT_TRUE(store->record_events(events).ok());
  const auto before = store->feature_usage_summary({})->rows;
  const auto usage_before = store->user_feature_usage({.user_id = "bob"})->rows;
  ASSERT_TRUE(store->compact().ok());
  EXPECT_EQ(store->feature_usage_summary({})->rows, before);
  EXPECT_EQ(store->user_feature_usage({.user_id = "bob"})->rows, usage_before);
  // Dedup still knows every id after compaction.
  EXPECT_EQ(store->record_events(events)->duplicate_rows, events.size());
}

TEST(EventStoreMaintenance, DeleteUserRemovesEveryTrace) {
  auto store = EventStore::open({.part_rows = 16}).value();
  std::vector<std::string> storage;
  const auto events = sample_events(&storage);
  ASSERT_TRUE(store->record_events(events).ok());
  auto removed = store->delete_user("bob");
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 100u);
  EXPECT_TRUE(store->user_feature_usage({.user_id = "bob"})->rows.empty());
  EXPECT_EQ(total_events(*store), 200u);
  auto summary = store->feature_usage_summary({});
  for (const auto& row : summary->rows) EXPECT_EQ(row.unique_users, 2u);
  EXPECT_EQ(*store->delete_user("bob"), 0u);
  EXPECT_EQ(*store->delete_user("nobody"), 0u);
  // bob's event ids are forgotten too: re-recording them stores them again,
  // while the others are still duplicates.
  auto again = store->record_events(events);
  EXPECT_EQ(again->successful_rows, 100u);
  EXPECT_EQ(again->duplicate_rows, 200u);
  EXPECT_EQ(total_events(*store), 300u);
}

TEST(EventStoreMaintenance, DropPartitionsBefore) {
  auto store = EventStore::open({.part_rows = 16}).value();
  std::vector<std::string> storage;
  const auto events = sample_events(&storage);  // 2025-01 .. 2025-03
  ASSERT_TRUE(store->record_events(events).ok());
  auto january = store->feature_usage_summary({.end_date = parse_timestamp("2025-02-01 00:00:00").value()});
  uint64_t in_january = 0;
  for (const auto& row : january->rows) in_january += row.total_events;
  ASSERT_GT(in_january, 0u);
  auto removed = store->drop_partitions_before(202502);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, in_january);
  EXPECT_EQ(total_events(*store), 300u - in_january);
  EXPECT_EQ(*store->drop_partitions_before(202502), 0u);
  for (uint32_t bad : {202513u, 202500u, 196912u, 999u, 210602u, 210612u}) {
    auto r = store->drop_partitions_before(bad);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(std::string(r.status().message()), HasSubstr("YYYYMM"));
  }
  EXPECT_EQ(*store->drop_partitions_before(210601), 300u - in_january);
  EXPECT_EQ(total_events(*store), 0u);
}

// Regression: closing a store while its background thread was rebuilding a
// rollup that a drop had just made stale lost the stop notification, and
// the destructor joined a thread waiting forever (about one close in 500).
// 2000 closes make that a failure (ctest's timeout) nearly every run; under
// the sanitizers, where a close costs 20-50x more, the normal build's run is
// the one that counts and 200 closes still exercise the path.
TEST(EventStoreMaintenance, CloseWhileRollupsRebuildDoesNotHang) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  constexpr int kCloses = 200;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
  constexpr int kCloses = 200;
#else
  constexpr int kCloses = 2000;
#endif
#else
  constexpr int kCloses = 2000;
#endif
  std::vector<std::string> storage;
  const auto events = sample_events(&storage);
  for (int i = 0; i < kCloses; ++i) {
    auto store = EventStore::open({.part_rows = 16}).value();
    ASSERT_TRUE(store->record_events(events).ok());
    ASSERT_TRUE(store->feature_usage_summary({}).ok());  // rollups are built once queried
    ASSERT_TRUE(store->drop_partitions_before(202502).ok());  // wakes the rollup builder
    ASSERT_TRUE(store->drop_partitions_before(210601).ok());  // drops what it builds from
  }
}

// A reopened store charges the rollup sections it reads from its files to
// Options::cache_bytes, and stats() says so beside the parts.
TEST(EventStore, StatsReportTheRollupSectionsChargedToTheCache) {
  testing::ScopedTempDir dir;
  std::vector<std::string> ids, users;
  for (int i = 0; i < 400; ++i) ids.push_back(absl::StrCat("evt_", i));
  for (int i = 0; i < 20; ++i) users.push_back(absl::StrCat("user_", i));
  {
    auto store = open_store({.directory = dir.path(), .part_rows = 64});
    std::vector<Event> batch;
    for (int i = 0; i < 400; ++i) {
      batch.push_back(event(ids[i], users[i % 20], i % 3 ? "export" : "search", "1.0",
                            i % 2 ? "2025-01-10 10:00:00" : "2025-02-11 11:00:00"));
    }
    ASSERT_TRUE(store->record_events(batch).ok());
    ASSERT_TRUE(store->compact().ok());
  }
  auto store = open_store({.directory = dir.path(), .create_if_missing = false, .cache_bytes = 1 << 30});
  auto before = store->stats();
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_EQ(before->cache_budget_bytes, uint64_t{1} << 30);
  EXPECT_EQ(before->cache_rollup_bytes, 0u);
  auto adoption = store->feature_adoption({});
  ASSERT_TRUE(adoption.ok()) << adoption.status();
  ASSERT_EQ(adoption->rows.size(), 2u);
  auto after = store->stats();
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_GT(after->cache_rollup_bytes, 0u);
  EXPECT_GE(after->rollup_memory_bytes, after->cache_rollup_bytes);
  EXPECT_GT(after->rollup_memory_bytes, before->rollup_memory_bytes);
  EXPECT_EQ(after->memory_bytes, after->part_memory_bytes + after->buffer_memory_bytes + after->dedup_memory_bytes +
                                     after->dictionary_memory_bytes + after->rollup_memory_bytes);
}

}  // namespace
}  // namespace usagedb
