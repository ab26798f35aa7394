// funnel_bounds.h: the levels the rollups' day and hour cells prove, a few
// users at a time with the bounds written out by hand, and on random data
// against each user's level found by brute force (every pair of events),
// with rows in rollups, in parts no rollup covers yet and unsealed.
#include "lib/query/funnel_bounds.h"

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/db/event_store_impl.h"
#include "lib/storage/file_system.h"
#include "lib/util/civil_time.h"
#include "tests/testutil/printers.h"
#include "tests/testutil/reference.h"
#include "tests/testutil/temp_dir.h"

namespace usagedb::query {
namespace {

Timestamp bounds_at(const std::string& text) { return parse_timestamp(text).value(); }

// The event these tests record: `user` used `feature` (version 1.0, a view)
// at `time`. It points into `user` and `feature`.
Event usage(std::string_view user, std::string_view feature, Timestamp time) {
  return Event{.user_id = user, .feature_id = feature, .product_version = "1.0", .event_type = "view",
               .timestamp = time};
}

struct Bound {
  int lower;
  int upper;
  friend bool operator==(const Bound&, const Bound&) = default;
  friend std::ostream& operator<<(std::ostream& os, const Bound& b) {
    return os << "[" << b.lower << ", " << b.upper << "]";
  }
};

class FunnelBoundsTest : public ::testing::Test {
 protected:
  // In memory, or in `directory` through a part cache of `cache_bytes`.
  void open(size_t part_rows, const std::string& directory = "", size_t cache_bytes = 0) {
    store_.reset();  // a durable store checkpoints as it closes
    auto opened = EventStoreImpl::open({.directory = directory, .part_rows = part_rows, .cache_bytes = cache_bytes},
                                       storage::FileSystem::posix());
    ASSERT_TRUE(opened.ok()) << opened.status();
    store_ = std::move(opened).value();
  }
  void SetUp() override { open(4096); }

  // Three users of funnel f1, f2, f3 on 2025-03-10: a, its three steps in
  // three later hours (level 3, proven by the hours); b, f2 before f1 in
  // the same hour (level 1; the cells cannot tell the order: 2 at most);
  // c, the first step only (level 1).
  void record_abc() {
    record("a", "f1", "2025-03-10 10:05:00");
    record("a", "f2", "2025-03-10 11:20:00");
    record("a", "f3", "2025-03-10 12:40:00");
    record("b", "f2", "2025-03-10 10:10:00");
    record("b", "f1", "2025-03-10 10:30:00");
    record("c", "f1", "2025-03-10 10:00:00");
  }
  // `others` users of f9 first (their codes come before a's, b's and c's),
  // then record_abc(); compacted.
  void record_abc_after_others(int others) {
    for (int i = 0; i < others; ++i) record(absl::StrCat("x", i), "f9", "2025-03-09 08:00:00");
    record_abc();
    ASSERT_TRUE(store_->compact().ok());
  }
  void record(const std::string& user, const std::string& feature, const std::string& time) {
    ASSERT_TRUE(store_->record_event(usage(user, feature, bounds_at(time))).ok());
  }

  // The bounds by user id (nullopt: none given).
  // `skip_idle_days`: bound_funnel_levels'.
  std::optional<std::map<std::string, Bound>> bounds(const std::vector<std::string>& steps, int64_t window,
                                                     ScanFilters filters = {}, bool skip_idle_days = true) {
    const Snapshot snapshot = store_->snapshot();
    const Dictionaries& dicts = snapshot.dictionaries();
    std::vector<uint8_t> step_of(dicts.feature.size(), kNoStep);
    for (size_t i = 0; i < steps.size(); ++i) {
      if (auto code = dicts.feature.find(steps[i])) step_of[*code] = static_cast<uint8_t>(i);
    }
    Stats stats;
    const std::optional<FunnelBounds> b =
        bound_funnel_levels(snapshot, filters, step_of, static_cast<uint32_t>(steps.size()), window, stats, skip_idle_days);
    if (!b) return std::nullopt;
    EXPECT_TRUE(std::is_sorted(b->users.begin(), b->users.end()));
    EXPECT_EQ(b->months.size(), b->users.size());
    std::map<std::string, Bound> out;
    last_index_.clear();
    for (size_t i = 0; i < b->users.size(); ++i) {
      out[std::string(dicts.user.lookup(b->users[i]))] = Bound{b->lower[i], b->upper[i]};
      last_index_[std::string(dicts.user.lookup(b->users[i]))] = i;
      if (b->lower[i] == b->upper[i]) EXPECT_EQ(b->months[i], 0u);
    }
    last_ = *b;
    return out;
  }

  // Of the last bounds(): whether month `yyyymm` may raise `user`'s level.
  bool may_rise_in(const std::string& user, uint32_t yyyymm) const {
    return last_.may_rise_in(last_index_.at(user), yyyymm);
  }

  int check_random(const std::map<std::string, std::vector<std::pair<int64_t, int>>>& events, int64_t start);
  // The bounds with the idle days skipped against those of a walk of every
  // day (the same, months too), over windows from a second to 40 days and
  // a date window from `cut_begin` to `cut_end`; the entries walked, each
  // way, summed.
  std::pair<uint64_t, uint64_t> check_idle_days(int64_t cut_begin, int64_t cut_end);

  FunnelBounds last_;
  std::map<std::string, size_t> last_index_;

  std::unique_ptr<EventStoreImpl> store_;
};

TEST_F(FunnelBoundsTest, HoursProveWhatTheirOrderShowsAndNoMore) {
  // a: three steps in three later hours of one day: level 3, proven.
  // b: f2 before f1 in the same hour: the cells cannot tell the order.
  // c: the first step only.
  record_abc();
  // d: no first step (no level).
  record("d", "f2", "2025-03-10 10:00:00");
  record("d", "f3", "2025-03-10 11:00:00");
  // e: f2 nineteen days after f1: the days prove it cannot reach step 2.
  record("e", "f1", "2025-03-01 09:00:00");
  record("e", "f2", "2025-03-20 09:00:00");
  // f: one second apart, in two hours: proven.
  record("f", "f1", "2025-03-10 10:59:59");
  record("f", "f2", "2025-03-10 11:00:00");
  ASSERT_TRUE(store_->compact().ok());
  EXPECT_THAT(bounds({"f1", "f2", "f3"}, 86400),
              ::testing::Optional(::testing::ElementsAre(
                  std::pair<const std::string, Bound>{"a", {3, 3}}, std::pair<const std::string, Bound>{"b", {1, 2}},
                  std::pair<const std::string, Bound>{"c", {1, 1}}, std::pair<const std::string, Bound>{"e", {1, 1}},
                  std::pair<const std::string, Bound>{"f", {2, 2}})));
  // A window under an hour proves no second step from hours; a's f1 and f2
  // may be 1 second apart as far as their hours tell, f3 not within 100.
  auto short_window = bounds({"f1", "f2", "f3"}, 100);
  ASSERT_TRUE(short_window.has_value());
  EXPECT_EQ((*short_window)["a"], (Bound{1, 2}));
  EXPECT_EQ((*short_window)["f"], (Bound{1, 2}));
  // Nothing in the cells splits by product_version or event_type.
  ScanFilters by_version;
  by_version.version = CodeFilter{.active = true, .matches_nothing = false, .code = 0};
  EXPECT_EQ(bounds({"f1", "f2"}, 86400, by_version), std::nullopt);
  ScanFilters by_type;
  by_type.event_type = CodeFilter{.active = true, .matches_nothing = false, .code = 0};
  EXPECT_EQ(bounds({"f1", "f2"}, 86400, by_type), std::nullopt);
}

TEST_F(FunnelBoundsTest, OnlyTheMonthsOfChainsAboveTheLowerBoundMayRaiseIt) {
  // Window 2 hours. a: level 1 proven in January; f1 and f2 in one hour at
  // March's start, whose chain may begin as early as February's last hours.
  record("a", "f1", "2025-01-10 08:00:00");
  record("a", "f1", "2025-03-01 00:10:00");
  record("a", "f2", "2025-03-01 00:20:00");
  // b: level 2 proven in January (two hours in order); a chain of 2 in one
  // hour of April is no higher, one of 3 in one hour of May may be.
  record("b", "f1", "2025-01-10 08:00:00");
  record("b", "f2", "2025-01-10 09:10:00");
  record("b", "f1", "2025-04-10 08:00:00");
  record("b", "f2", "2025-04-10 08:30:00");
  record("b", "f1", "2025-05-10 08:00:00");
  record("b", "f2", "2025-05-10 08:10:00");
  record("b", "f3", "2025-05-10 08:20:00");
  ASSERT_TRUE(store_->compact().ok());
  store_->wait_for_background_work();
  EXPECT_THAT(bounds({"f1", "f2", "f3"}, 7200),
              ::testing::Optional(::testing::ElementsAre(std::pair<const std::string, Bound>{"a", {1, 2}},
                                                         std::pair<const std::string, Bound>{"b", {2, 3}})));
  EXPECT_FALSE(may_rise_in("a", 202501));
  EXPECT_TRUE(may_rise_in("a", 202502));
  EXPECT_TRUE(may_rise_in("a", 202503));
  EXPECT_FALSE(may_rise_in("a", 202504));
  for (const uint32_t month : {202501u, 202502u, 202503u, 202504u}) EXPECT_FALSE(may_rise_in("b", month)) << month;
  EXPECT_TRUE(may_rise_in("b", 202505));
  // A window of 40 days reaches back over more than a month.
  ASSERT_TRUE(bounds({"f1", "f2", "f3"}, 40 * 86400).has_value());
  EXPECT_EQ(last_.lower[last_index_.at("b")], 2);
  EXPECT_EQ(last_.upper[last_index_.at("b")], 3);
  EXPECT_FALSE(may_rise_in("b", 202502));
  EXPECT_TRUE(may_rise_in("b", 202503));
  EXPECT_TRUE(may_rise_in("b", 202504));
  EXPECT_TRUE(may_rise_in("b", 202505));
}

TEST_F(FunnelBoundsTest, MonthsPastTheSixtyFourthAreMarkedAsEveryMonth) {
  record("a", "f1", "2019-01-10 08:00:00");
  record("a", "f1", "2025-03-10 10:10:00");
  record("a", "f2", "2025-03-10 10:20:00");
  ASSERT_TRUE(store_->compact().ok());
  store_->wait_for_background_work();
  EXPECT_THAT(bounds({"f1", "f2"}, 3600),
              ::testing::Optional(::testing::ElementsAre(std::pair<const std::string, Bound>{"a", {1, 2}})));
  EXPECT_EQ(last_.months[last_index_.at("a")], ~uint64_t{0});
  EXPECT_TRUE(may_rise_in("a", 202503));
  EXPECT_TRUE(may_rise_in("a", 201901));
}

TEST_F(FunnelBoundsTest, ADateWindowCuttingAnHourReadsItsRows) {
  record("a", "f1", "2025-03-10 10:05:00");  // before the window
  record("a", "f2", "2025-03-10 11:20:00");
  record("g", "f1", "2025-03-10 10:40:00");  // in the window's first, cut hour
  record("g", "f2", "2025-03-10 10:50:00");
  record("h", "f1", "2025-03-10 10:31:00");
  record("h", "f2", "2025-03-10 11:31:00");
  ASSERT_TRUE(store_->compact().ok());
  ScanFilters from_half_past;
  from_half_past.window = TimeWindow{bounds_at("2025-03-10 10:30:00").time_since_epoch().count(),
                                     bounds_at("2025-03-12 00:00:00").time_since_epoch().count()};
  EXPECT_THAT(bounds({"f1", "f2"}, 86400, from_half_past),
              ::testing::Optional(::testing::ElementsAre(std::pair<const std::string, Bound>{"g", {1, 2}},
                                                         std::pair<const std::string, Bound>{"h", {2, 2}})));
}

TEST_F(FunnelBoundsTest, UserCodesPastTwoToTheSixteen) {
  // 65,600 users of another feature first: the funnel's users' codes are
  // past 2^16, and their cells keep them in 32 bits (FeatureHours).
  ASSERT_NO_FATAL_FAILURE(record_abc_after_others(65600));
  EXPECT_GT(*store_->snapshot().dictionaries().user.find("a"), 65535u);
  EXPECT_THAT(bounds({"f1", "f2", "f3"}, 86400),
              ::testing::Optional(::testing::ElementsAre(std::pair<const std::string, Bound>{"a", {3, 3}},
                                                         std::pair<const std::string, Bound>{"b", {1, 2}},
                                                         std::pair<const std::string, Bound>{"c", {1, 1}})));
}

TEST_F(FunnelBoundsTest, ManyUsersStatesGivenOutAsUsersCome) {
  // 116,600 users of another feature and an 8-step funnel: more state
  // entries than the walks keep for every user (2^20), so each state is
  // given out as its user comes (HourChains' slots).
  ASSERT_NO_FATAL_FAILURE(record_abc_after_others(116600));
  store_->wait_for_background_work();
  EXPECT_THAT(bounds({"f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8"}, 86400),
              ::testing::Optional(::testing::ElementsAre(std::pair<const std::string, Bound>{"a", {3, 3}},
                                                         std::pair<const std::string, Bound>{"b", {1, 2}},
                                                         std::pair<const std::string, Bound>{"c", {1, 1}})));
  EXPECT_TRUE(may_rise_in("b", 202503));
  EXPECT_FALSE(may_rise_in("b", 202504));
}

TEST_F(FunnelBoundsTest, MoreStepsThanTheWalksTakeGiveNoBounds) {
  record("a", "f1", "2025-03-10 10:05:00");
  ASSERT_TRUE(store_->compact().ok());
  EXPECT_NE(bounds({"f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8"}, 86400), std::nullopt);
  EXPECT_EQ(bounds({"f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9"}, 86400), std::nullopt);
}

TEST_F(FunnelBoundsTest, AUsersHoursInSeveralRollupsAndRowsOfOneMonthAreMerged) {
  // Parts of two rows, each with its rollup: a's steps of March are in
  // two rollups and an unsealed row.
  open(2);
  record("a", "f1", "2025-03-10 10:05:00");
  record("b", "f1", "2025-03-10 10:06:00");
  record("a", "f2", "2025-03-10 11:20:00");
  record("b", "f2", "2025-03-10 10:07:00");  // b: f1 and f2 in one hour, then f3 an hour later
  record("b", "f3", "2025-03-10 11:07:00");
  record("c", "f1", "2025-03-10 09:00:00");
  record("c", "f2", "2025-03-10 09:30:00");  // c: both in one hour, then f3 two days later
  record("c", "f3", "2025-03-12 09:30:00");
  store_->wait_for_background_work();
  record("a", "f3", "2025-03-10 12:40:00");
  EXPECT_THAT(bounds({"f1", "f2", "f3"}, 86400),
              ::testing::Optional(::testing::ElementsAre(std::pair<const std::string, Bound>{"a", {3, 3}},
                                                         std::pair<const std::string, Bound>{"b", {1, 3}},
                                                         std::pair<const std::string, Bound>{"c", {1, 2}})));
}

// Each user's windowFunnel level by brute force: the longest run of steps
// 1..k with ordered times (ties in step order) within the window.
int brute_force_level(std::vector<std::pair<int64_t, int>> events, int steps, int64_t window) {
  std::sort(events.begin(), events.end());
  int best = 0;
  for (size_t first = 0; first < events.size(); ++first) {
    if (events[first].second != 0) continue;
    int level = 1;
    for (size_t i = first + 1; i < events.size() && level < steps; ++i) {
      if (events[i].first - events[first].first > window) break;
      if (events[i].second == level) ++level;
    }
    best = std::max(best, level);
  }
  return best;
}

// Random events of 60 users (bursts minutes apart) and of four heavy ones
// (in 64 or more hours of a feature in a month: FeatureHours keeps their
// hours apart, and the walk reads them only while their level is not
// known), over five weeks across a month's end, recorded into store_; the
// later rows in new parts or the buffer. Returns each user's (time,
// feature index) events; f1..f3 are the steps asked, f4 none.
std::map<std::string, std::vector<std::pair<int64_t, int>>> record_random(EventStoreImpl& store, uint64_t seed,
                                                                          int64_t start) {
  std::mt19937_64 random(seed);
  const auto pick = [&](uint64_t n) { return static_cast<int64_t>(random() % n); };
  const std::vector<std::string> features = {"f1", "f2", "f3", "f4"};
  std::map<std::string, std::vector<std::pair<int64_t, int>>> events;  // user -> (time, feature index)
  const auto add = [&](const std::string& user, int64_t t, int f) {
    const Event e = usage(user, features[f], Timestamp(std::chrono::seconds(t)));
    ASSERT_TRUE(store.record_event(e).ok());
    events[user].emplace_back(t, f);
  };
  // The heavy users: every feature; f1 and f2 (f3 on 25 February and the
  // last day: walking late into the month); f2 and f3 (f1 only in the last week); f3 then f1
  // within each hour's first minutes, f2 rarely.
  const std::vector<std::vector<int>> heavy = {{0, 1, 2, 3}, {0, 1}, {1, 2}, {2, 0, 0, 0, 1}};
  for (size_t h = 0; h < heavy.size(); ++h) {
    const std::string user = absl::StrCat("heavy", h);
    for (int i = 0; i < 900; ++i) {
      const int f = heavy[h][static_cast<size_t>(pick(heavy[h].size()))];
      int64_t t = start + pick(35 * 86400);
      if (h == 3) t = t / 3600 * 3600 + (f == 2 ? pick(600) : 600 + pick(600));
      add(user, t, f);
    }
  }
  add("heavy1", start + 26 * 86400 + 43200, 2);  // 2025-02-25 12:00: its level 3 late in the month
  add("heavy1", start + 34 * 86400 + 5000, 2);
  for (int i = 0; i < 40; ++i) add("heavy2", start + 28 * 86400 + pick(7 * 86400), 0);
  for (int i = 0; i < 3000; ++i) {
    // Bursts of a user's events minutes apart, spread over five weeks
    // across a month's end.
    const std::string user = "u" + std::to_string(pick(60));
    int64_t t = start + pick(35 * 86400);
    for (int burst = 1 + static_cast<int>(pick(4)); burst > 0; --burst, t += pick(1800)) {
      add(user, t, static_cast<int>(pick(features.size())));
    }
    // The later rows in new parts or the buffer (less than a quarter of
    // them: else no bounds).
    if (i == 2600) EXPECT_TRUE(store.compact().ok());
  }
  return events;
}

// Checks the bounds of store_ against each user's level found by brute
// force from `events`, for the whole time and a window cutting an hour at
// each end (their rows read, the hours between from the cells by user),
// over windows from a second to 40 days; the users whose bounds meet.
int FunnelBoundsTest::check_random(const std::map<std::string, std::vector<std::pair<int64_t, int>>>& events,
                                   int64_t start) {
  int decided = 0;
  ScanFilters cut;
  cut.window = TimeWindow{start + 3 * 86400 + 1800, start + 30 * 86400 + 5 * 3600 + 900};
  for (const ScanFilters& filters : {ScanFilters{}, cut})
  for (const int64_t window : {int64_t{1}, int64_t{600}, int64_t{3600}, int64_t{7200}, int64_t{86400},
                               int64_t{3 * 86400}, int64_t{40 * 86400}}) {
    SCOPED_TRACE(window);
    SCOPED_TRACE(filters.window.begin);
    const std::vector<std::string> steps = {"f1", "f2", "f3"};
    const auto got = bounds(steps, window, filters);
    if (!got.has_value()) {
      ADD_FAILURE() << "no bounds";
      continue;
    }
    for (const auto& [user, user_events] : events) {
      std::vector<std::pair<int64_t, int>> step_events;
      for (const auto& [t, f] : user_events) {
        if (f < 3 && filters.window.begin <= t && t < filters.window.end) step_events.emplace_back(t, f);
      }
      const int level = brute_force_level(step_events, 3, window);
      const auto it = got->find(user);
      if (level == 0) {
        EXPECT_EQ(it, got->end()) << user;
        continue;
      }
      if (it == got->end()) {
        ADD_FAILURE() << user << " missing";
        continue;
      }
      EXPECT_LE(it->second.lower, level) << user;
      EXPECT_GE(it->second.upper, level) << user;
      if (it->second.lower < it->second.upper) {
        // The events of the months that may raise the level, alone, reach
        // it (from the lower bound).
        std::vector<std::pair<int64_t, int>> marked;
        for (const auto& [t, f] : step_events) {
          if (may_rise_in(user, civil::month_id(t))) marked.emplace_back(t, f);
        }
        EXPECT_EQ(std::max(it->second.lower, brute_force_level(marked, 3, window)), level) << user;
      }
      decided += it->second.lower == it->second.upper;
    }
  }
  return decided;
}

TEST_F(FunnelBoundsTest, BoundsHoldOnRandomData) {
  const int64_t start = bounds_at("2025-01-30 00:00:00").time_since_epoch().count();
  for (const size_t part_rows : {size_t{64}, size_t{100000}}) {
    SCOPED_TRACE(part_rows);
    open(part_rows);
    const auto events = record_random(*store_, part_rows, start);
    store_->wait_for_background_work();  // each sealed part's rollup built: the bounds are given
    if (part_rows == 100000) {
      // The month's one rollup keeps the heavy users apart.
      const Snapshot snapshot = store_->snapshot();
      const auto f1 = snapshot.dictionaries().feature.find("f1");
      ASSERT_TRUE(f1.has_value());
      size_t heavy = 0;
      for (const PartitionView& p : snapshot.partitions()) {
        for (const CoveredRollup& e : p.rollups().entries()) heavy += e.rollup->feature_hours(*f1).heavy_users.size();
      }
      EXPECT_GE(heavy, 3u);
    }
    EXPECT_GT(check_random(events, start), 0);
  }
}

TEST_F(FunnelBoundsTest, HeavyUsersHoursReadThroughATinyCache) {
  // A lazy store whose cache keeps nothing: each query reads the rollups
  // again and makes their hours by feature (heavy users apart) anew; the
  // bounds are the same each time and hold.
  const int64_t start = bounds_at("2025-01-30 00:00:00").time_since_epoch().count();
  testing::ScopedTempDir dir;
  open(100000, dir.path());
  const auto events = record_random(*store_, 7, start);
  store_->wait_for_background_work();
  ASSERT_TRUE(store_->compact().ok());
  open(100000, dir.path(), /*cache_bytes=*/1);
  const auto first = bounds({"f1", "f2", "f3"}, 86400);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(bounds({"f1", "f2", "f3"}, 86400), first);
  EXPECT_GT(check_random(events, start), 0);
  const auto s = store_->stats();
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_GT(s->cache_rollup_drops, 0u);
}

TEST_F(FunnelBoundsTest, AMonthOfHeavyUsersOnly) {
  // One user in 70 hours of each step in March and nobody else: its hours
  // are all kept apart (FeatureHours::heavy_users), no cell holds any, and
  // the days it can reach are still read.
  for (int i = 0; i < 70; ++i) {
    const std::string day = absl::StrCat("2025-03-", 1 + i / 3 < 10 ? "0" : "", 1 + i / 3);
    const std::string hour = absl::StrCat(10 + i % 3 * 4);
    record("h", "f1", absl::StrCat(day, " ", hour, ":05:00"));
    record("h", "f2", absl::StrCat(day, " ", hour, ":25:00"));
    record("h", "f3", absl::StrCat(day, " ", hour, ":45:00"));
  }
  ASSERT_TRUE(store_->compact().ok());
  store_->wait_for_background_work();
  const Snapshot snapshot = store_->snapshot();
  const auto f1 = snapshot.dictionaries().feature.find("f1");
  ASSERT_TRUE(f1.has_value());
  size_t heavy = 0, cells = 0;
  for (const PartitionView& p : snapshot.partitions()) {
    for (const CoveredRollup& e : p.rollups().entries()) {
      heavy += e.rollup->feature_hours(*f1).heavy_users.size();
      cells += e.rollup->feature_hours(*f1).cells();
    }
  }
  EXPECT_EQ(heavy, 1u);
  EXPECT_EQ(cells, 0u);
  for (const bool skip : {true, false}) {
    EXPECT_THAT(bounds({"f1", "f2", "f3"}, 86400, {}, skip),
                ::testing::Optional(::testing::ElementsAre(std::pair<const std::string, Bound>{"h", {3, 3}})));
  }
  // (Before the whole days counted in the days read, its cap was 0 and the
  // funnel had nobody at any step.)
  const auto funnel = store_->feature_funnel({.steps = {"f1", "f2", "f3"}, .window = std::chrono::seconds(86400)});
  ASSERT_TRUE(funnel.ok()) << funnel.status();
  EXPECT_EQ(funnel->rows, (std::vector<FeatureFunnelRow>{{1, "f1", 1}, {2, "f2", 1}, {3, "f3", 1}}));
}

TEST_F(FunnelBoundsTest, IdleDaysOfAUserAreNotWalked) {
  // r does f1 (twice) then f2 an hour later every other morning from
  // January to March (level 2, proven on its first morning) and f3 once,
  // on 15 February at 09:00, 25 hours after the morning before's f1: a
  // chain of days of 3 (its cap) but none of hours. Its level (2) is known
  // only once no chain of days of 3 is left, yet it is walked only on its
  // first morning and on 14 and 15 February. s: f1 on 31 January at 23:50,
  // f2 and f3 in February's first hours: level 3 across the month's end.
  for (int day = 0; day < 89; day += 2) {
    const int64_t morning = bounds_at("2025-01-01 08:00:00").time_since_epoch().count() + day * 86400;
    for (const auto& [offset, feature] : {std::pair<int64_t, const char*>{0, "f1"}, {600, "f1"}, {4800, "f2"}}) {
      ASSERT_TRUE(store_->record_event(usage("r", feature, Timestamp(std::chrono::seconds(morning + offset)))).ok());
    }
  }
  record("r", "f3", "2025-02-15 09:00:00");
  record("s", "f1", "2025-01-31 23:50:00");
  record("s", "f2", "2025-02-01 00:05:00");
  record("s", "f3", "2025-02-01 01:20:00");
  ASSERT_TRUE(store_->compact().ok());
  store_->wait_for_background_work();
  const auto skipped = bounds({"f1", "f2", "f3"}, 86400);
  const FunnelBounds skipping = last_;
  const auto every_day = bounds({"f1", "f2", "f3"}, 86400, {}, false);
  EXPECT_THAT(skipped, ::testing::Optional(::testing::ElementsAre(std::pair<const std::string, Bound>{"r", {2, 2}},
                                                                  std::pair<const std::string, Bound>{"s", {3, 3}})));
  EXPECT_EQ(skipped, every_day);
  EXPECT_EQ(skipping.months, last_.months);
  // Walked with the skip: r's first morning (f1's hour, f2's), 14 February's
  // morning and 15 February's f3, s's three hours; without it, r's 45
  // mornings.
  EXPECT_EQ(skipping.walked, 8u);
  EXPECT_GE(last_.walked, 2 * 45u);
}

// Random events in the shape the idle days are for: users who do f1 then f2
// (sometimes twice) most days and f3 rarely, a few at random, users whose
// chains straddle a month's end, and one heavy user (in 64 or more hours of
// each feature), from 20 January to early May, recorded into `store` and
// `reference` (when given); some later rows in new parts or unsealed.
// Returns each user's (time, feature index) events; f1..f3 are the steps.
std::map<std::string, std::vector<std::pair<int64_t, int>>> record_routines(EventStoreImpl& store,
                                                                            testing::Reference* reference,
                                                                            uint64_t seed, int64_t start) {
  std::mt19937_64 random(seed);
  const auto pick = [&](uint64_t n) { return static_cast<int64_t>(random() % n); };
  const std::vector<std::string> features = {"f1", "f2", "f3", "f4"};
  std::map<std::string, std::vector<std::pair<int64_t, int>>> events;
  const auto add = [&](const std::string& user, int64_t t, int f) {
    const Event e = usage(user, features[f], Timestamp(std::chrono::seconds(t)));
    ASSERT_TRUE(store.record_event(e).ok());
    if (reference != nullptr) reference->record(e);
    events[user].emplace_back(t, f);
  };
  constexpr int kDays = 105;
  for (int u = 0; u < 40; ++u) {
    const std::string user = absl::StrCat("r", u);
    const int64_t hour = 6 + pick(14);  // the user's usual hour
    const int64_t every = 1 + pick(3);  // every day, second or third day
    for (int day = static_cast<int>(pick(10)); day < kDays; day += static_cast<int>(every)) {
      int64_t t = start + int64_t{day} * 86400 + hour * 3600 + pick(3600);
      add(user, t, 0);
      if (pick(4) == 0) add(user, t + pick(120), 0);  // a step repeated
      t += pick(7200);
      if (pick(5) != 0) add(user, t, 1);
      if (pick(6) == 0) add(user, t + pick(60), 1);
      if (pick(20) == 0) add(user, t + pick(3 * 86400), 3);
    }
    for (int i = static_cast<int>(pick(4)); i > 0; --i) add(user, start + pick(kDays * 86400), 2);  // rare
  }
  for (int u = 0; u < 10; ++u) {
    // Across a month's end: f1 in the last hours of January, February or
    // March, f2 and f3 in the next month's first.
    const std::string user = absl::StrCat("m", u);
    const int64_t end = civil::month_start(202502 + u % 3);
    add(user, end - 1 - pick(3 * 3600), 0);
    add(user, end + pick(3600), 1);
    if (pick(2) == 0) add(user, end + 3600 + pick(7200), 2);
  }
  for (int i = 0; i < 300; ++i) {
    const std::string user = absl::StrCat("x", pick(30));
    int64_t t = start + pick(kDays * 86400);
    for (int burst = 1 + static_cast<int>(pick(4)); burst > 0; --burst, t += pick(5400)) {
      add(user, t, static_cast<int>(pick(features.size())));
    }
  }
  for (int i = 0; i < 600; ++i) add("heavy", start + 40 * 86400 + pick(28 * 86400), static_cast<int>(pick(3)));
  EXPECT_TRUE(store.compact().ok());
  for (int i = 0; i < 40; ++i) add(absl::StrCat("r", pick(40)), start + (kDays - 5) * 86400 + pick(5 * 86400), static_cast<int>(pick(3)));
  return events;
}

std::pair<uint64_t, uint64_t> FunnelBoundsTest::check_idle_days(int64_t cut_begin, int64_t cut_end) {
  uint64_t skipping = 0, every_day = 0;
  ScanFilters cut;
  cut.window = TimeWindow{cut_begin, cut_end};
  for (const ScanFilters& filters : {ScanFilters{}, cut})
  for (const int64_t window : {int64_t{1}, int64_t{600}, int64_t{3600}, int64_t{7200}, int64_t{86400},
                               int64_t{86400 + 3600}, int64_t{3 * 86400}, int64_t{40 * 86400}}) {
    SCOPED_TRACE(window);
    SCOPED_TRACE(filters.window.begin);
    for (const std::vector<std::string>& steps : {std::vector<std::string>{"f1", "f2", "f3"},
                                                  std::vector<std::string>{"f1", "f2"},
                                                  std::vector<std::string>{"f2", "f1", "f3", "f4"}}) {
      const auto idle = bounds(steps, window, filters);
      const FunnelBounds idle_bounds = last_;
      const auto all = bounds(steps, window, filters, false);
      EXPECT_TRUE(idle.has_value());
      EXPECT_EQ(idle, all);
      EXPECT_EQ(idle_bounds.users, last_.users);
      EXPECT_EQ(idle_bounds.lower, last_.lower);
      EXPECT_EQ(idle_bounds.upper, last_.upper);
      EXPECT_EQ(idle_bounds.months, last_.months);
      EXPECT_LE(idle_bounds.walked, last_.walked);
      skipping += idle_bounds.walked;
      every_day += last_.walked;
    }
  }
  return {skipping, every_day};
}

TEST_F(FunnelBoundsTest, IdleDaysLeaveTheBoundsAsTheyAre) {
  const int64_t start = bounds_at("2025-01-20 00:00:00").time_since_epoch().count();
  const int64_t cut_begin = start + 5 * 86400 + 1800, cut_end = start + 70 * 86400 + 7 * 3600 + 900;
  for (const size_t part_rows : {size_t{64}, size_t{100000}}) {
    SCOPED_TRACE(part_rows);
    open(part_rows);
    const auto events = record_routines(*store_, nullptr, 21 + part_rows, start);
    store_->wait_for_background_work();
    const auto [skipping, every_day] = check_idle_days(cut_begin, cut_end);
    EXPECT_LT(skipping, every_day);  // some users idle some days
    EXPECT_GT(check_random(events, cut_begin - 3 * 86400 - 1800), 0);
  }
}

TEST_F(FunnelBoundsTest, IdleDaysThroughATinyCache) {
  // A lazy store whose cache keeps nothing: the rollups' sections are read
  // again by each query and the hours by feature made anew, the day bits
  // too; the bounds with and without the skip are the same each time.
  const int64_t start = bounds_at("2025-01-20 00:00:00").time_since_epoch().count();
  testing::ScopedTempDir dir;
  open(100000, dir.path());
  const auto events = record_routines(*store_, nullptr, 5, start);
  store_->wait_for_background_work();
  ASSERT_TRUE(store_->compact().ok());
  open(100000, dir.path(), /*cache_bytes=*/1);
  const auto first = check_idle_days(start + 86400, start + 60 * 86400);
  EXPECT_EQ(check_idle_days(start + 86400, start + 60 * 86400), first);
  EXPECT_LT(first.first, first.second);
  const auto s = store_->stats();
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_GT(s->cache_rollup_drops, 0u);
}

TEST_F(FunnelBoundsTest, FunnelOfRoutinesMatchesTheReference) {
  // The endpoint (bounds with idle days skipped, then the open users' rows)
  // against the reference's windowFunnel from its definition, on the
  // routines' data: windows shorter and longer than a day, whole and cut
  // date ranges, steps in several orders.
  for (const uint64_t seed : {uint64_t{1}, uint64_t{2}, uint64_t{3}}) {
    SCOPED_TRACE(seed);
    open(seed == 2 ? 64 : 4096);
    testing::Reference reference;
    record_routines(*store_, &reference, seed, bounds_at("2025-01-20 00:00:00").time_since_epoch().count());
    store_->wait_for_background_work();
    std::mt19937_64 random(seed);
    for (int i = 0; i < 60; ++i) {
      FeatureFunnelQuery q;
      const std::vector<std::vector<std::string>> orders = {
          {"f1", "f2", "f3"}, {"f1", "f2"}, {"f2", "f3", "f1"}, {"f1", "f3"}, {"f1", "f2", "f3", "f4"}};
      q.steps = orders[random() % orders.size()];
      const std::vector<int64_t> windows = {1, 59, 600, 3600, 3601, 7200, 43200, 86399, 86400, 90000, 3 * 86400,
                                            9 * 86400, 40 * 86400};
      q.window = std::chrono::seconds(windows[random() % windows.size()]);
      if (random() % 3 == 0) {
        q.start_date = parse_date_parameter(absl::StrCat("2025-0", 1 + random() % 3, "-1", random() % 10)).value();
        q.end_date = parse_date_parameter(absl::StrCat("2025-0", 4 + random() % 2, "-0", 1 + random() % 9)).value();
      }
      SCOPED_TRACE(q.window.count());
      const auto got = store_->feature_funnel(q);
      ASSERT_TRUE(got.ok()) << got.status();
      EXPECT_EQ(got->rows, reference.feature_funnel(q).rows) << absl::StrJoin(q.steps, ",");
    }
  }
}

}  // namespace
}  // namespace usagedb::query
