#include <chrono>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/gen/random.h"
#include "usagedb/event.h"

namespace usagedb {
namespace {

using ::testing::HasSubstr;

int64_t epoch_seconds(std::string_view text) { return parse_timestamp(text).value().time_since_epoch().count(); }

TEST(ParseTimestamp, SeedForm) {
  EXPECT_EQ(epoch_seconds("2025-05-11 10:23:03"), 1746958983);
  EXPECT_EQ(epoch_seconds("1970-01-01 00:00:00"), 0);
  EXPECT_EQ(epoch_seconds("2105-12-31 23:59:59"), 4291747199);
  EXPECT_EQ(epoch_seconds("2024-02-29 00:00:00"), 1709164800);
}

// The seed's form against std::chrono's calendar, on random fields in and
// out of range (the readers take a fast path for valid ones).
TEST(ParseTimestamp, SeedFormAgreesWithTheCalendar) {
  gen::Random random(11);
  int valid = 0;
  for (int i = 0; i < 20'000; ++i) {
    const int y = static_cast<int>(random.range(1965, 2110));
    const unsigned m = static_cast<unsigned>(random.range(0, 13));
    const unsigned d = static_cast<unsigned>(random.range(0, 32));
    const int h = static_cast<int>(random.range(0, 24));
    const int mi = static_cast<int>(random.range(0, 60));
    const int se = static_cast<int>(random.range(0, 60));
    char text[32];
    std::snprintf(text, sizeof(text), "%04d-%02u-%02u %02d:%02d:%02d", y, m, d, h, mi, se);
    const std::chrono::year_month_day date{std::chrono::year{y}, std::chrono::month{m}, std::chrono::day{d}};
    const absl::StatusOr<Timestamp> t = parse_timestamp(text);
    if (!date.ok() || h > 23 || mi > 59 || se > 59) {
      EXPECT_FALSE(t.ok()) << text;
      continue;
    }
    const Timestamp expected =
        std::chrono::sys_days{date} + std::chrono::hours{h} + std::chrono::minutes{mi} + std::chrono::seconds{se};
    if (expected < kMinTimestamp || expected > kMaxTimestamp) {
      EXPECT_THAT(t.status().message(), HasSubstr("outside the DateTime range")) << text;
      continue;
    }
    ASSERT_TRUE(t.ok()) << text << ": " << t.status();
    EXPECT_EQ(*t, expected) << text;
    ++valid;
  }
  EXPECT_GT(valid, 5'000);
}

TEST(ParseTimestamp, IsoFormsWithFractionAndOffset) {
  EXPECT_EQ(epoch_seconds("2025-05-11T10:23:03"), 1746958983);
  EXPECT_EQ(epoch_seconds("2025-05-11T10:23:03Z"), 1746958983);
  EXPECT_EQ(epoch_seconds("2025-05-11T10:23:03.999Z"), 1746958983);  // truncated, not rounded
  EXPECT_EQ(epoch_seconds("2025-05-11T10:23:03.5"), 1746958983);
  EXPECT_EQ(epoch_seconds("2025-05-11T12:23:03+02:00"), 1746958983);
  EXPECT_EQ(epoch_seconds("2025-05-11T05:53:03-04:30"), 1746958983);
  EXPECT_EQ(epoch_seconds("2025-05-11T12:23:03.123456789+02:00"), 1746958983);
  // The offset moves the instant across a day and month boundary.
  EXPECT_EQ(epoch_seconds("2025-01-01T01:00:00+02:00"), epoch_seconds("2024-12-31 23:00:00"));
}

TEST(ParseTimestamp, RejectsImpossibleDatesAndTimes) {
  for (const char* bad : {"2025-02-29 00:00:00", "2025-13-01 00:00:00", "2025-00-10 00:00:00", "2025-04-31 00:00:00",
                          "2025-01-01 24:00:00", "2025-01-01 23:60:00", "2025-01-01 23:59:60", "2100-02-29 00:00:00"}) {
    auto r = parse_timestamp(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(r.status().message(), HasSubstr(absl::StrCat("'", bad, "' is not a valid DateTime")));
  }
}

TEST(ParseTimestamp, RejectsOtherShapes) {
  for (const char* bad :
       {"", "2025-05-11", "2025-05-11 10:23", "2025-5-11 10:23:03", "2025/05/11 10:23:03", "1746958983",
        "2025-05-11 10:23:03Z", "2025-05-11 10:23:03.5", "2025-05-11T10:23:03.", "2025-05-11T10:23:03+0200",
        "2025-05-11T10:23:03+02", "2025-05-11T10:23:03 ", " 2025-05-11 10:23:03", "2025-05-11t10:23:03",
        "2025-05-11T10:23:03z", "2025-05-11T10:23:03+24:00", "２０２５-05-11 10:23:03", "2025-05-11T10:23:03ZZ"}) {
    EXPECT_FALSE(parse_timestamp(bad).ok()) << bad;
  }
}

TEST(ParseTimestamp, RangeIsCheckedAfterConversionToUtc) {
  EXPECT_FALSE(parse_timestamp("1969-12-31 23:59:59").ok());
  EXPECT_FALSE(parse_timestamp("2106-01-01 00:00:00").ok());
  EXPECT_FALSE(parse_timestamp("1970-01-01T00:30:00+01:00").ok());
  EXPECT_EQ(epoch_seconds("1970-01-01T01:00:00+01:00"), 0);
  EXPECT_FALSE(parse_timestamp("2105-12-31T23:59:59-00:01").ok());
  auto r = parse_timestamp("1969-12-31T23:00:00Z");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("outside the DateTime range"));
}

TEST(ParseDateParameter, DateAndDateTime) {
  EXPECT_EQ(parse_date_parameter("2025-05-11").value().time_since_epoch().count(), 1746921600);
  EXPECT_EQ(parse_date_parameter("2025-05-11 10:23:03").value().time_since_epoch().count(), 1746958983);
  for (const char* bad : {"2025-05-11T10:23:03", "2025-02-30", "yesterday", "", "2025-05-11 10:23"}) {
    EXPECT_FALSE(parse_date_parameter(bad).ok()) << bad;
  }
}

TEST(FormatTimestamp, RoundTrips) {
  for (const char* s : {"1970-01-01 00:00:00", "2024-02-29 23:59:59", "2105-12-31 23:59:59", "2000-01-01 12:34:56"}) {
    EXPECT_EQ(format_timestamp(parse_timestamp(s).value()), s);
  }
}

}  // namespace
}  // namespace usagedb
