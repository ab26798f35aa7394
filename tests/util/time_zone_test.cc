#include "lib/util/time_zone.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lib/gen/random.h"
#include "lib/util/civil_time.h"
#include "tests/testutil/local_time.h"

namespace usagedb {
namespace {

constexpr Granularity kGranularities[] = {Granularity::kHour, Granularity::kDay, Granularity::kWeek,
                                          Granularity::kMonth};
constexpr int64_t kLast = 4291747199;  // 2105-12-31 23:59:59, the end of the DateTime range

std::shared_ptr<const TimeZone> zone(const char* name) {
  auto z = TimeZone::load(name);
  EXPECT_TRUE(z.ok()) << name << ": " << z.status();
  return z.ok() ? *z : nullptr;
}

TEST(TimeZone, LoadsZonesOfTheDatabaseOnly) {
  for (const char* name : {"UTC", "America/New_York", "Asia/Kolkata", "Etc/GMT+12", "Australia/Lord_Howe"}) {
    auto z = TimeZone::load(name);
    ASSERT_TRUE(z.ok()) << name << ": " << z.status();
    EXPECT_EQ((*z)->name(), name);
  }
  for (const char* name : {"", "Mars/Olympus_Mons", "america/new_york", "../zoneinfo/UTC", "/usr/share/zoneinfo/UTC",
                           "America//New_York", "America/New_York/", "localtime", "Fixed/UTC+05:30", "UTC ",
                           "Asia/Kolkata\n"}) {
    auto z = TimeZone::load(name);
    ASSERT_FALSE(z.ok()) << "'" << name << "'";
    EXPECT_EQ(z.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(std::string(z.status().message()).find("is not a time zone"), std::string::npos) << z.status();
  }
}

TEST(TimeZone, LoadReturnsTheSameZoneEachTime) {
  auto a = TimeZone::load("Europe/London");
  auto b = TimeZone::load("Europe/London");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->get(), b->get());
}

TEST(TimeZone, UtcIsTheCivilCalendar) {
  const auto utc_zone = zone("UTC");
  ASSERT_NE(utc_zone, nullptr);
  EXPECT_TRUE(utc_zone->is_utc());
  EXPECT_TRUE(zone("Etc/UTC")->is_utc());
  EXPECT_FALSE(zone("Europe/London")->is_utc());  // +1 all year in 1970, GMT/BST since
  gen::Random random(5);
  for (int i = 0; i < 20000; ++i) {
    const int64_t t = i < 1000 ? i * 797 : i < 2000 ? kLast - (i - 1000) * 797 : random.range(0, kLast);
    for (const TimeZone* z : {utc_zone.get(), &TimeZone::utc()}) {
      ASSERT_EQ(z->bucket_start(Granularity::kHour, t), civil::start_of_hour(t)) << t;
      ASSERT_EQ(z->bucket_start(Granularity::kDay, t), civil::start_of_day(t)) << t;
      ASSERT_EQ(z->bucket_start(Granularity::kWeek, t), civil::start_of_week(t)) << t;
      ASSERT_EQ(z->bucket_start(Granularity::kMonth, t), civil::start_of_month(t)) << t;
      ASSERT_EQ(z->date_of(t), civil::floor_div(t, civil::kSecondsPerDay)) << t;
    }
  }
}

// ClickHouse's buckets at the start of the DateTime range, as chDB 26.7
// returned them: a date before 1970-01-01 is that day, and a local
// midnight before the epoch moves to the next one; an hour before the
// epoch is the epoch.
TEST(TimeZone, EpochEdgesAsClickHouse) {
  struct Case {
    const char* zone;
    int64_t t, hour, day, week, month;
  };
  const Case cases[] = {
      {"America/New_York", 0, 0, 18000, 18000, 18000},
      {"America/New_York", 86399, 82800, 18000, 18000, 18000},
      {"America/New_York", 140400, 140400, 104400, 18000, 18000},
      {"America/New_York", 431999, 428400, 363600, 363600, 18000},
      {"Asia/Kolkata", 0, 0, 66600, 66600, 66600},
      {"Asia/Kolkata", 1799, 0, 66600, 66600, 66600},
      {"Asia/Kolkata", 1800, 1800, 66600, 66600, 66600},
      {"Asia/Kolkata", 66600, 66600, 66600, 66600, 66600},
      {"Asia/Kolkata", 345600, 343800, 325800, 325800, 66600},
      {"Asia/Tokyo", 0, 0, 54000, 54000, 54000},
      {"Asia/Tokyo", 140400, 140400, 140400, 54000, 54000},
      {"Asia/Tokyo", 431999, 428400, 399600, 313200, 54000},
      {"Europe/London", 0, 0, 82800, 82800, 82800},
      {"Europe/London", 431999, 428400, 428400, 342000, 82800},
      {"Australia/Lord_Howe", 140400, 140400, 136800, 50400, 50400},
      {"Asia/Kathmandu", 3600, 1800, 66600, 66600, 66600},
      {"Pacific/Chatham", 3600, 900, 40500, 40500, 40500},
      {"America/St_Johns", 356400, 354600, 271800, 12600, 12600},
  };
  for (const Case& c : cases) {
    const auto z = zone(c.zone);
    ASSERT_NE(z, nullptr);
    SCOPED_TRACE(absl::StrCat(c.zone, " t=", c.t));
    EXPECT_EQ(z->bucket_start(Granularity::kHour, c.t), c.hour);
    EXPECT_EQ(z->bucket_start(Granularity::kDay, c.t), c.day);
    EXPECT_EQ(z->bucket_start(Granularity::kWeek, c.t), c.week);
    EXPECT_EQ(z->bucket_start(Granularity::kMonth, c.t), c.month);
  }
  EXPECT_EQ(zone("America/New_York")->date_of(0), 0);  // 1969-12-31 locally
  EXPECT_EQ(zone("America/New_York")->local_day(0), -1);
}

// DST changes as chDB 26.7 bucketed them: the repeated hour is two buckets;
// a midnight that a change skips starts the day at the change.
TEST(TimeZone, DstChangesAsClickHouse) {
  const auto ny = zone("America/New_York");
  EXPECT_EQ(ny->bucket_start(Granularity::kHour, 1762061400), 1762059600);  // 01:30 EDT -> 01:00 EDT
  EXPECT_EQ(ny->bucket_start(Granularity::kHour, 1762065000), 1762063200);  // 01:30 EST -> 01:00 EST
  EXPECT_EQ(ny->bucket_start(Granularity::kDay, 1762065000), 1762056000);
  const auto sao_paulo = zone("America/Sao_Paulo");
  EXPECT_EQ(sao_paulo->bucket_start(Granularity::kDay, 1541302200), 1541300400);   // 2018-11-04 starts at 01:00
  EXPECT_EQ(sao_paulo->bucket_start(Granularity::kDay, 1550370600), 1550282400);   // the second 23:30 of 02-16
  EXPECT_EQ(sao_paulo->bucket_start(Granularity::kHour, 1550370600), 1550368800);  // ... its own 23:00 bucket
  EXPECT_EQ(sao_paulo->bucket_start(Granularity::kDay, 1550374200), 1550372400);
  // Lord_Howe, where usagedb follows the wall clock and ClickHouse does not
  // (SPEC 2.11): 2025-10-05 02:00 +10:30 became 02:30 +11.
  const auto lord_howe = zone("Australia/Lord_Howe");
  EXPECT_EQ(lord_howe->bucket_start(Granularity::kHour, 1759592700), 1759591800);  // 02:45 -> 02:30 (the change)
  EXPECT_EQ(lord_howe->bucket_start(Granularity::kHour, 1759593600), 1759593600);  // 03:00 -> 03:00
  EXPECT_EQ(lord_howe->bucket_start(Granularity::kDay, 1759593600), 1759584600);
}

// Every instant near each offset change from 1970 to 2106, and random ones,
// bucketed as glibc's localtime_r sees the zone (tests/testutil/local_time.h).
class TimeZoneAgainstGlibc : public ::testing::TestWithParam<const char*> {};

TEST_P(TimeZoneAgainstGlibc, BucketsAndDates) {
  const auto z = zone(GetParam());
  ASSERT_NE(z, nullptr);
  testing::GlibcLocalTime glibc(GetParam());
  // The changes, found by glibc: a daily walk, then a binary search.
  std::vector<int64_t> changes;
  for (int64_t t = 0; t < kLast; t += 86400) {
    const int64_t next = std::min(t + 86400, kLast);
    if (glibc.offset(t) == glibc.offset(next)) continue;
    int64_t lo = t, hi = next;
    while (hi - lo > 1) {
      const int64_t mid = lo + (hi - lo) / 2;
      (glibc.offset(mid) == glibc.offset(t) ? lo : hi) = mid;
    }
    changes.push_back(hi);
  }
  std::vector<int64_t> instants;
  for (const int64_t c : changes) {
    for (const int64_t d : {-86400 - 1, -3601, -3600, -1801, -1800, -901, -61, -1, 0, 1, 59, 899, 1799, 1800, 3599,
                            3600, 5400, 7199, 86399}) {
      instants.push_back(c + d);
    }
  }
  gen::Random random(7);
  for (int i = 0; i < 3000; ++i) instants.push_back(random.range(0, kLast));
  for (int64_t t = 0; t < 8 * 86400; t += 1799) instants.push_back(t);
  for (int64_t t = kLast; t > kLast - 8 * 86400; t -= 1799) instants.push_back(t);
  std::erase_if(instants, [](int64_t t) { return t < 0 || t > kLast; });
  std::sort(instants.begin(), instants.end());

  for (const Granularity g : kGranularities) {
    TimeZone::Bucketer bucketer(*z, g);
    for (const int64_t t : instants) {
      SCOPED_TRACE(absl::StrCat(GetParam(), " granularity ", static_cast<int>(g), " t=", t));
      const Timestamp want = glibc.bucket(g, Timestamp{std::chrono::seconds{t}});
      const TimeZone::Bucket b = z->bucket(g, t);
      ASSERT_EQ(b.start, want.time_since_epoch().count());
      ASSERT_EQ(bucketer(t), b.start);
      // The interval it reports shares the bucket.
      ASSERT_LE(b.lo, t);
      ASSERT_GT(b.hi, t);
      if (b.lo >= 0) ASSERT_EQ(z->bucket_start(g, b.lo), b.start);
      if (b.hi - 1 <= kLast) ASSERT_EQ(z->bucket_start(g, b.hi - 1), b.start);
    }
  }
  for (const int64_t t : instants) {
    ASSERT_EQ(z->offset_at(t), glibc.offset(t)) << t;
    ASSERT_EQ(z->date_of(t), glibc.date(Timestamp{std::chrono::seconds{t}}).time_since_epoch().count()) << t;
  }
}

INSTANTIATE_TEST_SUITE_P(Zones, TimeZoneAgainstGlibc,
                         ::testing::Values("America/New_York", "Europe/London", "Asia/Kolkata", "Asia/Kathmandu",
                                           "Australia/Lord_Howe", "Pacific/Chatham", "America/St_Johns",
                                           "America/Sao_Paulo", "Pacific/Apia", "Pacific/Kiritimati",
                                           "Antarctica/Troll", "Africa/Monrovia", "Asia/Tehran", "Etc/GMT-14"),
                         [](const auto& info) {
                           std::string name = info.param;
                           std::replace_if(name.begin(), name.end(), [](char c) { return !std::isalnum(c); }, '_');
                           return name;
                         });

TEST(TimeZone, ConstantAndAlignedOffsets) {
  const auto ny = zone("America/New_York");
  int32_t offset = 0;
  // 2025-03-09 07:00 UTC (1741503600): EST -> EDT.
  EXPECT_TRUE(ny->constant_offset(1741503600, 1741600000, &offset));
  EXPECT_EQ(offset, -4 * 3600);
  EXPECT_TRUE(ny->constant_offset(1741400000, 1741503600, &offset));
  EXPECT_EQ(offset, -5 * 3600);
  EXPECT_FALSE(ny->constant_offset(1741400000, 1741503601, &offset));
  EXPECT_TRUE(ny->aligned(1735689600, 1767225600, 3600));  // 2025: whole hours, changes on the hour
  EXPECT_FALSE(ny->aligned(1735689600, 1767225600, 86400));
  EXPECT_FALSE(zone("Asia/Kolkata")->aligned(1735689600, 1767225600, 3600));
  EXPECT_TRUE(zone("Asia/Kolkata")->aligned(1735689600, 1767225600, 1800));
  EXPECT_FALSE(zone("Asia/Kathmandu")->aligned(1735689600, 1767225600, 1800));
  EXPECT_TRUE(zone("Asia/Kathmandu")->aligned(1735689600, 1767225600, 900));
  EXPECT_TRUE(TimeZone::utc().aligned(0, kLast, 86400));
}

}  // namespace
}  // namespace usagedb
