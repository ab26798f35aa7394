// cover_local(): the segments tile the month's part of the window, and every
// rollup cell a cell segment reads lies in one local bucket, checked instant
// by instant (every 5 minutes, and each cell's last second) in zones of every
// kind, at DST changes and month ends.
#include "lib/query/local_cover.h"

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lib/gen/random.h"
#include "lib/util/civil_time.h"
#include "tests/testutil/helpers.h"

namespace usagedb::query {
namespace {

using ::usagedb::testing::at;

int64_t seconds(const char* text) { return at(text).time_since_epoch().count(); }

// The instants [begin, end) of each cell of `source` within segment s.
void check_cells(const CoverSegment& s, uint32_t month, const TimeZone& zone, Granularity g) {
  const int64_t month_end = civil::month_start(civil::next_month(month));
  int64_t cell = s.begin;
  while (cell < s.end) {
    int64_t next = 0;
    switch (s.source) {
      case CoverSource::kHourCells: next = cell + civil::kSecondsPerHour; break;
      case CoverSource::kDayCells: next = cell + civil::kSecondsPerDay; break;
      case CoverSource::kWeekCells: next = std::min(civil::start_of_week(cell + 7 * civil::kSecondsPerDay), month_end); break;
      case CoverSource::kMonthCells: next = month_end; break;
      case CoverSource::kRows: FAIL();
    }
    ASSERT_LE(next, s.end) << "a cell reaches past its segment";
    ASSERT_EQ(cell_start(s.source, cell), s.source == CoverSource::kWeekCells && cell == civil::month_start(month)
                                              ? civil::start_of_week(cell)
                                              : cell);
    const int64_t bucket = zone.bucket_start(g, cell);
    for (int64_t t = cell; t < next; t += 300) ASSERT_EQ(zone.bucket_start(g, t), bucket) << "cell at " << cell << ", t=" << t;
    ASSERT_EQ(zone.bucket_start(g, next - 1), bucket) << "cell at " << cell;
    cell = next;
  }
}

void check_cover(uint32_t month, const TimeWindow& window, const char* zone_name, Granularity g,
                 int* cell_segments, int* row_segments) {
  SCOPED_TRACE(absl::StrCat(zone_name, " month ", month, " granularity ", static_cast<int>(g), " window [",
                            window.begin, ", ", window.end, ")"));
  const auto zone = TimeZone::load(zone_name).value();
  const std::vector<CoverSegment> segments = cover_local(month, window, *zone, g);
  int64_t t = std::max(window.begin, civil::month_start(month));
  const int64_t end = std::min(window.end, civil::month_start(civil::next_month(month)));
  for (size_t i = 0; i < segments.size(); ++i) {
    const CoverSegment& s = segments[i];
    ASSERT_EQ(s.begin, t) << "segment " << i << " leaves a gap or overlaps";
    ASSERT_LT(s.begin, s.end);
    if (i > 0) ASSERT_FALSE(segments[i - 1].source == s.source) << "adjacent segments of one source";
    if (s.source == CoverSource::kRows) {
      ++*row_segments;
    } else {
      ++*cell_segments;
      check_cells(s, month, *zone, g);
    }
    t = s.end;
  }
  ASSERT_EQ(t, std::max(end, std::max(window.begin, civil::month_start(month))));
}

TEST(CoverLocal, TilesTheWindowWithCellsOfOneBucketEach) {
  const Granularity kAll[] = {Granularity::kHour, Granularity::kDay, Granularity::kWeek, Granularity::kMonth};
  const char* kZones[] = {"UTC", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu", "Australia/Lord_Howe",
                          "Pacific/Chatham", "America/St_Johns", "Europe/London"};
  const uint32_t kMonths[] = {202503, 202504, 202510, 202511, 197001, 210512};
  gen::Random random(3);
  int cells = 0, rows = 0;
  for (const char* zone : kZones) {
    for (const uint32_t month : kMonths) {
      for (const Granularity g : kAll) {
        check_cover(month, TimeWindow{}, zone, g, &cells, &rows);  // the whole month
        const int64_t m0 = civil::month_start(month);
        const int64_t begin = m0 + random.range(-86400, 20 * 86400), end = begin + random.range(1, 40 * 86400);
        check_cover(month, TimeWindow{begin, end}, zone, g, &cells, &rows);
      }
    }
  }
  EXPECT_GT(cells, 100);
  EXPECT_GT(rows, 10);
}

TEST(CoverLocal, WholeHourZonesReadNoRows) {
  // 2025 in New York: offsets of whole hours, changes on the hour.
  const auto ny = TimeZone::load("America/New_York").value();
  for (const Granularity g : {Granularity::kHour, Granularity::kDay, Granularity::kWeek, Granularity::kMonth}) {
    for (const CoverSegment& s : cover_local(202503, TimeWindow{}, *ny, g)) EXPECT_NE(s.source, CoverSource::kRows);
  }
  // Local days of New York: UTC days never fit, UTC hours do.
  for (const CoverSegment& s : cover_local(202506, TimeWindow{}, *ny, Granularity::kDay)) {
    EXPECT_EQ(s.source, CoverSource::kHourCells);
  }
  // In UTC, each granularity's own cells.
  const TimeZone& utc = TimeZone::utc();
  const std::vector<CoverSegment> weeks = cover_local(202506, TimeWindow{}, utc, Granularity::kWeek);
  ASSERT_EQ(weeks.size(), 1u);
  EXPECT_EQ(weeks[0].source, CoverSource::kWeekCells);
  const std::vector<CoverSegment> months = cover_local(202506, TimeWindow{}, utc, Granularity::kMonth);
  ASSERT_EQ(months.size(), 1u);
  EXPECT_EQ(months[0].source, CoverSource::kMonthCells);
}

TEST(CoverLocal, HalfHourZonesReadTheHourTheirMidnightCuts) {
  // Kolkata (+5:30): local midnight is 18:30 UTC, so each day's 18:00-19:00
  // UTC is read from the rows and the other 23 hours from hour cells.
  const auto kolkata = TimeZone::load("Asia/Kolkata").value();
  const TimeWindow june{seconds("2025-06-01 00:00:00"), seconds("2025-07-01 00:00:00")};
  int64_t row_seconds = 0, hour_seconds = 0;
  for (const CoverSegment& s : cover_local(202506, june, *kolkata, Granularity::kDay)) {
    (s.source == CoverSource::kRows ? row_seconds : hour_seconds) += s.end - s.begin;
    if (s.source == CoverSource::kRows) {
      EXPECT_EQ(s.begin % 86400, 18 * 3600) << s.begin;  // 23:30 to 00:30 local
      EXPECT_EQ(s.end - s.begin, 3600) << s.begin;
    }
  }
  EXPECT_EQ(row_seconds, 30 * 3600);
  EXPECT_EQ(hour_seconds, 30 * 23 * 3600);
}

}  // namespace
}  // namespace usagedb::query
