#include "lib/util/civil_time.h"

#include <chrono>

#include "gtest/gtest.h"
#include "lib/gen/random.h"

namespace usagedb::civil {
namespace {

// Every day from 1970 to 2106 round-trips and agrees with std::chrono.
TEST(CivilTime, DaysRoundTripAndMatchChrono) {
  for (int64_t day = 0; day < 50'000; ++day) {
    const Date d = civil_from_days(day);
    ASSERT_EQ(days_from_civil(d.year, d.month, d.day), day);
    const std::chrono::year_month_day ymd{std::chrono::sys_days{std::chrono::days{day}}};
    ASSERT_EQ(d.year, static_cast<int>(ymd.year()));
    ASSERT_EQ(d.month, static_cast<unsigned>(ymd.month()));
    ASSERT_EQ(d.day, static_cast<unsigned>(ymd.day()));
  }
}

TEST(CivilTime, DaysInMonth) {
  EXPECT_EQ(days_in_month(2024, 2), 29u);
  EXPECT_EQ(days_in_month(2025, 2), 28u);
  EXPECT_EQ(days_in_month(2000, 2), 29u);
  EXPECT_EQ(days_in_month(2100, 2), 28u);
  EXPECT_EQ(days_in_month(2025, 4), 30u);
  EXPECT_EQ(days_in_month(2025, 12), 31u);
}

TEST(CivilTime, MonthIdAndNextMonth) {
  EXPECT_EQ(month_id(0), 197001u);
  EXPECT_EQ(month_id(days_from_civil(2025, 12, 31) * kSecondsPerDay + 86399), 202512u);
  EXPECT_EQ(month_id(days_from_civil(2026, 1, 1) * kSecondsPerDay), 202601u);
  EXPECT_EQ(next_month(202512), 202601u);
  EXPECT_EQ(next_month(202501), 202502u);
  EXPECT_EQ(month_start(202403), days_from_civil(2024, 3, 1) * kSecondsPerDay);
}

TEST(CivilTime, BucketsMatchChrono) {
  gen::Random random(1);
  using namespace std::chrono;
  for (int i = 0; i < 100'000; ++i) {
    const int64_t s = random.range(0, 4291747199);
    const sys_seconds t{seconds{s}};
    const sys_days day = floor<days>(t);
    ASSERT_EQ(start_of_hour(s), sys_seconds(floor<hours>(t)).time_since_epoch().count());
    ASSERT_EQ(start_of_day(s), sys_seconds(day).time_since_epoch().count());
    const year_month_day ymd{day};
    ASSERT_EQ(start_of_month(s), sys_seconds(sys_days{ymd.year() / ymd.month() / 1}).time_since_epoch().count());
    const sys_days monday = day - days{weekday{day}.iso_encoding() - 1};
    ASSERT_EQ(start_of_week(s), monday < sys_days{} ? 0 : sys_seconds(monday).time_since_epoch().count()) << s;
  }
}

// SPEC 2.3: events of 1970-01-01..04 (Thursday to Sunday) fall in the week
// bucket 1970-01-01, not in 1969-12-29.
TEST(CivilTime, WeekNeverStartsBeforeEpoch) {
  for (int64_t s = 0; s < 4 * kSecondsPerDay; s += 977) EXPECT_EQ(start_of_week(s), 0);
  EXPECT_EQ(start_of_week(4 * kSecondsPerDay), 4 * kSecondsPerDay);  // Monday 1970-01-05
}

}  // namespace
}  // namespace usagedb::civil
