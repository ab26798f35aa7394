// The awkward parts of SPEC 2.5-2.8, one small example each, with the rows
// the ClickHouse SQL gives written out by hand: windowFunnel's ties within a
// second and its window measured from the first step, the retention cohort
// as the first period inside the filters, active-user windows that reach
// back before start_date and days filled with zeros, the defaults of the
// dates, local days and periods in a time zone (SPEC 2.11), and every
// request the store must refuse, naming the parameter.
#include <chrono>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testutil/printers.h"
#include "usagedb/usagedb.h"

namespace usagedb {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using std::chrono::sys_days;

Timestamp at(const char* text) { return parse_timestamp(text).value(); }
sys_days day(int y, unsigned m, unsigned d) {
  return sys_days{std::chrono::year{y} / std::chrono::month{m} / std::chrono::day{d}};
}

class EngagementTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = EventStore::open({.part_rows = 4});
    ASSERT_TRUE(opened.ok()) << opened.status();
    store_ = std::move(opened).value();
  }

  void record(const char* user, const char* feature, const char* time, const char* type = "view",
              const char* version = "1.0") {
    const Event e{.user_id = user, .feature_id = feature, .product_version = version, .event_type = type,
                  .timestamp = at(time)};
    ASSERT_TRUE(store_->record_event(e).ok());
  }

  std::vector<FeatureFunnelRow> funnel(std::vector<std::string> steps, int64_t window) {
    auto r = store_->feature_funnel({.steps = std::move(steps), .window = std::chrono::seconds(window)});
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->rows : std::vector<FeatureFunnelRow>{};
  }

  std::unique_ptr<EventStore> store_;
};

TEST_F(EngagementTest, FunnelStepsOfOneSecondCountInStepOrder) {
  // b is stored first, but a and b of the same second count as a then b.
  record("u", "b", "2025-01-01 10:00:00");
  record("u", "a", "2025-01-01 10:00:00");
  // v did b one second before a: no funnel.
  record("v", "b", "2025-01-01 10:00:00");
  record("v", "a", "2025-01-01 10:00:01");
  EXPECT_THAT(funnel({"a", "b"}, 60), ElementsAre(FeatureFunnelRow{1, "a", 2}, FeatureFunnelRow{2, "b", 1}));
}

TEST_F(EngagementTest, FunnelWindowIsMeasuredFromTheFirstStep) {
  record("u", "a", "2025-01-01 00:00:00");
  record("u", "b", "2025-01-01 00:00:50");
  record("u", "c", "2025-01-01 00:01:40");  // 100 s after a, 50 s after b
  EXPECT_THAT(funnel({"a", "b", "c"}, 99),
              ElementsAre(FeatureFunnelRow{1, "a", 1}, FeatureFunnelRow{2, "b", 1}, FeatureFunnelRow{3, "c", 0}));
  // The window is inclusive.
  EXPECT_THAT(funnel({"a", "b", "c"}, 100),
              ElementsAre(FeatureFunnelRow{1, "a", 1}, FeatureFunnelRow{2, "b", 1}, FeatureFunnelRow{3, "c", 1}));
  // A later first step starts a chain that fits: from a at 45 s, c is 55 s later.
  record("u", "a", "2025-01-01 00:00:45");
  EXPECT_THAT(funnel({"a", "b", "c"}, 99),
              ElementsAre(FeatureFunnelRow{1, "a", 1}, FeatureFunnelRow{2, "b", 1}, FeatureFunnelRow{3, "c", 1}));
}

TEST_F(EngagementTest, FunnelAcrossMonthsAndYears) {
  record("u", "a", "2024-12-31 23:59:59");
  record("u", "b", "2025-01-01 00:00:00");
  record("u", "c", "2025-02-01 00:00:00");
  EXPECT_THAT(funnel({"a", "b", "c"}, 86400),
              ElementsAre(FeatureFunnelRow{1, "a", 1}, FeatureFunnelRow{2, "b", 1}, FeatureFunnelRow{3, "c", 0}));
  EXPECT_THAT(funnel({"a", "b", "c"}, 31 * 86400 + 1),
              ElementsAre(FeatureFunnelRow{1, "a", 1}, FeatureFunnelRow{2, "b", 1}, FeatureFunnelRow{3, "c", 1}));
}

TEST_F(EngagementTest, FunnelRowsNeedAMatchingEventNotAStep) {
  // No event at all: the SQL's `levels` is empty and so is the result.
  EXPECT_THAT(funnel({"a", "b"}, 60), ElementsAre());
  // Any matching event, of any feature, gives every step's row.
  record("u", "z", "2025-01-01 00:00:00", "click");
  EXPECT_THAT(funnel({"a", "b"}, 60), ElementsAre(FeatureFunnelRow{1, "a", 0}, FeatureFunnelRow{2, "b", 0}));
  auto filtered = store_->feature_funnel({.steps = {"a", "b"}, .event_type = "view"});
  ASSERT_TRUE(filtered.ok());
  EXPECT_THAT(filtered->rows, ElementsAre());
  auto unsealed_or_not = store_->feature_funnel({.steps = {"a", "b"}, .event_type = "click"});
  ASSERT_TRUE(unsealed_or_not.ok());
  EXPECT_EQ(unsealed_or_not->rows.size(), 2u);
  ASSERT_TRUE(store_->compact().ok());
  EXPECT_EQ(store_->feature_funnel({.steps = {"a", "b"}, .event_type = "click"})->rows.size(), 2u);
  EXPECT_THAT(store_->feature_funnel({.steps = {"a", "b"}, .product_version = "9"})->rows, ElementsAre());
}

TEST_F(EngagementTest, RetentionCohortIsTheFirstPeriodInsideTheFilters) {
  record("u", "a", "2025-01-06 10:00:00");  // Monday, week 1
  record("u", "a", "2025-01-20 10:00:00");  // week 3
  record("v", "a", "2025-01-13 10:00:00");  // week 2
  record("v", "a", "2025-01-20 11:00:00");  // week 3
  // Without a window: u's cohort is week 1, v's week 2.
  auto all = store_->feature_retention({.feature_id = "a"});
  ASSERT_TRUE(all.ok());
  EXPECT_THAT(all->rows, ElementsAre(FeatureRetentionRow{at("2025-01-06 00:00:00"), 1, 0, 1},
                                     FeatureRetentionRow{at("2025-01-06 00:00:00"), 1, 2, 1},
                                     FeatureRetentionRow{at("2025-01-13 00:00:00"), 1, 0, 1},
                                     FeatureRetentionRow{at("2025-01-13 00:00:00"), 1, 1, 1}));
  // From week 2 on, u's first period inside the window is week 3.
  auto later = store_->feature_retention({.feature_id = "a", .start_date = at("2025-01-13 00:00:00")});
  ASSERT_TRUE(later.ok());
  EXPECT_THAT(later->rows, ElementsAre(FeatureRetentionRow{at("2025-01-13 00:00:00"), 1, 0, 1},
                                       FeatureRetentionRow{at("2025-01-13 00:00:00"), 1, 1, 1},
                                       FeatureRetentionRow{at("2025-01-20 00:00:00"), 1, 0, 1}));
}

TEST_F(EngagementTest, RetentionWeeksOfTheClampedFirstBucketAndMonths) {
  record("u", "a", "1970-01-02 00:00:00");  // Friday: the bucket 1970-01-01 (toMonday clamps)
  record("u", "a", "1970-01-05 00:00:00");  // the next Monday: one week later, as dateDiff counts
  auto weeks = store_->feature_retention({});
  ASSERT_TRUE(weeks.ok());
  EXPECT_THAT(weeks->rows, ElementsAre(FeatureRetentionRow{at("1970-01-01 00:00:00"), 1, 0, 1},
                                       FeatureRetentionRow{at("1970-01-01 00:00:00"), 1, 1, 1}));
  record("v", "a", "2025-01-31 23:59:59");
  record("v", "a", "2025-02-01 00:00:00");
  record("v", "a", "2026-01-15 00:00:00");
  auto months = store_->feature_retention({.granularity = Granularity::kMonth, .start_date = at("2025-01-01 00:00:00")});
  ASSERT_TRUE(months.ok());
  EXPECT_THAT(months->rows, ElementsAre(FeatureRetentionRow{at("2025-01-01 00:00:00"), 1, 0, 1},
                                        FeatureRetentionRow{at("2025-01-01 00:00:00"), 1, 1, 1},
                                        FeatureRetentionRow{at("2025-01-01 00:00:00"), 1, 12, 1}));
}

TEST_F(EngagementTest, ActiveUsersWindowsReachBackBeforeStartAndEmptyDaysAreZero) {
  record("u", "a", "2025-01-01 10:00:00");
  record("v", "b", "2025-01-03 10:00:00");
  record("v", "b", "2025-01-03 11:00:00");
  auto weekly =
      store_->active_users({.window_days = 3, .start_date = day(2025, 1, 2), .end_date = day(2025, 1, 7)});
  ASSERT_TRUE(weekly.ok());
  EXPECT_THAT(weekly->rows, ElementsAre(ActiveUsersRow{day(2025, 1, 2), 1}, ActiveUsersRow{day(2025, 1, 3), 2},
                                        ActiveUsersRow{day(2025, 1, 4), 1}, ActiveUsersRow{day(2025, 1, 5), 1},
                                        ActiveUsersRow{day(2025, 1, 6), 0}));
  // Defaults: from the first day with a matching event to the last.
  auto daily = store_->active_users({});
  ASSERT_TRUE(daily.ok());
  EXPECT_THAT(daily->rows, ElementsAre(ActiveUsersRow{day(2025, 1, 1), 1}, ActiveUsersRow{day(2025, 1, 2), 0},
                                       ActiveUsersRow{day(2025, 1, 3), 1}));
  auto of_b = store_->active_users({.feature_id = "b", .limit = 1});
  ASSERT_TRUE(of_b.ok());
  EXPECT_THAT(of_b->rows, ElementsAre(ActiveUsersRow{day(2025, 1, 3), 1}));
  EXPECT_EQ(of_b->rows_before_limit, 1u);
  // Paging counts the filled days.
  auto paged = store_->active_users({.limit = 1, .skip = 1});
  ASSERT_TRUE(paged.ok());
  EXPECT_THAT(paged->rows, ElementsAre(ActiveUsersRow{day(2025, 1, 2), 0}));
  EXPECT_EQ(paged->rows_before_limit, 3u);
  // Given dates and no event: every day, zero; no event and a date missing: nothing.
  auto none = store_->active_users({.feature_id = "zzz", .start_date = day(2025, 1, 1), .end_date = day(2025, 1, 3)});
  EXPECT_THAT(none->rows, ElementsAre(ActiveUsersRow{day(2025, 1, 1), 0}, ActiveUsersRow{day(2025, 1, 2), 0}));
  EXPECT_THAT(store_->active_users({.feature_id = "zzz", .start_date = day(2025, 1, 1)})->rows, ElementsAre());
  // A start after the last event: S >= E, no rows.
  EXPECT_THAT(store_->active_users({.start_date = day(2025, 2, 1)})->rows, ElementsAre());
}

TEST_F(EngagementTest, ActiveUsersDaysAreLocalDatesInTz) {
  record("u", "a", "2025-03-08 03:00:00");  // New York: Mar 7, 22:00 EST
  record("v", "a", "2025-03-09 06:30:00");  // Mar 9, 01:30 EST (clocks go forward at 02:00)
  record("v", "a", "2025-03-10 03:59:59");  // Mar 9, 23:59:59 EDT
  record("w", "a", "2025-03-10 04:00:00");  // Mar 10, 00:00 EDT
  auto ny = store_->active_users({.tz = "America/New_York"});
  ASSERT_TRUE(ny.ok()) << ny.status();
  EXPECT_THAT(ny->rows, ElementsAre(ActiveUsersRow{day(2025, 3, 7), 1}, ActiveUsersRow{day(2025, 3, 8), 0},
                                    ActiveUsersRow{day(2025, 3, 9), 1}, ActiveUsersRow{day(2025, 3, 10), 1}));
  // The dates are local dates; the window reaches back in local days.
  auto window = store_->active_users(
      {.window_days = 2, .start_date = day(2025, 3, 8), .end_date = day(2025, 3, 10), .tz = "America/New_York"});
  ASSERT_TRUE(window.ok());
  EXPECT_THAT(window->rows, ElementsAre(ActiveUsersRow{day(2025, 3, 8), 1}, ActiveUsersRow{day(2025, 3, 9), 1}));
  // tz=UTC is the UTC answer.
  EXPECT_EQ(store_->active_users({.tz = "UTC"})->rows, store_->active_users({})->rows);
  EXPECT_THAT(store_->active_users({})->rows,
              ElementsAre(ActiveUsersRow{day(2025, 3, 8), 1}, ActiveUsersRow{day(2025, 3, 9), 1},
                          ActiveUsersRow{day(2025, 3, 10), 2}));
}

TEST_F(EngagementTest, ActiveUsersOnTheFirstLocalDayOf1970) {
  // Kolkata (+5:30): 1970-01-01 began before the epoch, and its day bucket
  // is clamped to the next local midnight, but toDate keeps its date.
  record("u", "a", "1970-01-01 00:00:00");  // 05:30 on Jan 1
  record("v", "a", "1970-01-01 18:30:00");  // 00:00 on Jan 2
  EXPECT_THAT(store_->active_users({.tz = "Asia/Kolkata"})->rows,
              ElementsAre(ActiveUsersRow{day(1970, 1, 1), 1}, ActiveUsersRow{day(1970, 1, 2), 1}));
  // New York (-5): the evening of 1969-12-31 is clamped to 1970-01-01.
  EXPECT_THAT(store_->active_users({.tz = "America/New_York"})->rows, ElementsAre(ActiveUsersRow{day(1970, 1, 1), 2}));
}

TEST_F(EngagementTest, RetentionPeriodsAreLocalBucketsInTz) {
  record("u", "a", "2025-01-06 02:00:00");  // New York: Sunday Jan 5, 21:00: the week of Dec 30
  record("u", "a", "2025-01-06 10:00:00");  // Monday Jan 6, 05:00: the next week
  record("v", "a", "2025-01-13 04:59:59");  // Sunday Jan 12, 23:59:59: the week of Jan 6
  auto ny = store_->feature_retention({.tz = "America/New_York"});
  ASSERT_TRUE(ny.ok()) << ny.status();
  EXPECT_THAT(ny->rows, ElementsAre(FeatureRetentionRow{at("2024-12-30 05:00:00"), 1, 0, 1},
                                    FeatureRetentionRow{at("2024-12-30 05:00:00"), 1, 1, 1},
                                    FeatureRetentionRow{at("2025-01-06 05:00:00"), 1, 0, 1}));
  // In UTC both of u's events are in the week of Jan 6, and v's in the next.
  EXPECT_THAT(store_->feature_retention({})->rows,
              ElementsAre(FeatureRetentionRow{at("2025-01-06 00:00:00"), 1, 0, 1},
                          FeatureRetentionRow{at("2025-01-13 00:00:00"), 1, 0, 1}));
  EXPECT_EQ(store_->feature_retention({.tz = "UTC"})->rows, store_->feature_retention({})->rows);
  // Months of a zone whose offset changes in between: Nov 1 (EDT) to Dec 1 (EST) is one month.
  record("w", "b", "2025-11-01 04:00:00");
  record("w", "b", "2025-12-01 05:00:00");
  EXPECT_THAT(store_->feature_retention({.feature_id = "b", .granularity = Granularity::kMonth,
                                         .tz = "America/New_York"})
                  ->rows,
              ElementsAre(FeatureRetentionRow{at("2025-11-01 04:00:00"), 1, 0, 1},
                          FeatureRetentionRow{at("2025-11-01 04:00:00"), 1, 1, 1}));
}

TEST_F(EngagementTest, AdoptionCountsActiveUsersOverEveryFeature) {
  record("u", "a", "2025-01-01 10:00:00");
  record("u", "b", "2025-01-01 10:00:00");
  record("v", "a", "2025-01-02 10:00:00", "click");
  record("w", "c", "2025-01-03 10:00:00");
  auto all = store_->feature_adoption({});
  ASSERT_TRUE(all.ok());
  EXPECT_THAT(all->rows, ElementsAre(FeatureAdoptionRow{"a", 2, 3, 2.0 / 3, 2}, FeatureAdoptionRow{"b", 1, 3, 1.0 / 3, 1},
                                     FeatureAdoptionRow{"c", 1, 3, 1.0 / 3, 1}));
  // feature_id picks the row; the other filters shape the active users.
  auto b = store_->feature_adoption({.feature_id = "b", .event_type = "view"});
  ASSERT_TRUE(b.ok());
  EXPECT_THAT(b->rows, ElementsAre(FeatureAdoptionRow{"b", 1, 2, 0.5, 1}));
  EXPECT_THAT(store_->feature_adoption({.feature_id = "nope"})->rows, ElementsAre());
}

TEST_F(EngagementTest, RejectsBadRequestsNamingTheParameter) {
  const auto message = [](const absl::Status& s) {
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    return std::string(s.message());
  };
  EXPECT_THAT(message(store_->active_users({.window_days = 0}).status()), HasSubstr("window_days"));
  EXPECT_THAT(message(store_->active_users({.window_days = 366}).status()), HasSubstr("window_days"));
  EXPECT_THAT(message(store_->active_users({.start_date = day(2025, 2, 1), .end_date = day(2025, 1, 1)}).status()),
              HasSubstr("end_date"));
  EXPECT_THAT(message(store_->feature_retention({.granularity = Granularity::kHour}).status()),
              HasSubstr("granularity"));
  EXPECT_THAT(message(store_->active_users({.tz = "Mars/Base"}).status()), HasSubstr("tz"));
  EXPECT_THAT(message(store_->feature_retention({.tz = "Mars/Base"}).status()), HasSubstr("tz"));
  EXPECT_THAT(message(store_->feature_retention({.start_date = at("2025-02-01 00:00:00"),
                                                 .end_date = at("2025-01-01 00:00:00")})
                          .status()),
              HasSubstr("end_date"));
  EXPECT_THAT(message(store_->feature_adoption({.start_date = at("2025-02-01 00:00:00"),
                                                .end_date = at("2025-01-01 00:00:00")})
                          .status()),
              HasSubstr("end_date"));
  EXPECT_THAT(message(store_->feature_funnel({.steps = {"a"}}).status()), HasSubstr("steps"));
  EXPECT_THAT(message(store_->feature_funnel({.steps = {"a", "b", "c", "d", "e", "f", "g", "h", "i"}}).status()),
              HasSubstr("steps"));
  EXPECT_THAT(message(store_->feature_funnel({.steps = {"a", ""}}).status()), HasSubstr("steps"));
  EXPECT_THAT(message(store_->feature_funnel({.steps = {"a", "b", "a"}}).status()), HasSubstr("steps"));
  EXPECT_THAT(message(store_->feature_funnel({.steps = {"a", "b"}, .window = std::chrono::seconds(0)}).status()),
              HasSubstr("window"));
  EXPECT_THAT(
      message(store_->feature_funnel({.steps = {"a", "b"}, .window = std::chrono::seconds(31536001)}).status()),
      HasSubstr("window"));
  EXPECT_THAT(message(store_->feature_funnel({.steps = {"a", "b"},
                                              .start_date = at("2025-02-01 00:00:00"),
                                              .end_date = at("2025-01-01 00:00:00")})
                          .status()),
              HasSubstr("end_date"));
}

}  // namespace
}  // namespace usagedb
