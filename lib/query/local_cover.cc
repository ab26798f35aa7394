#include "lib/query/local_cover.h"

#include <algorithm>

#include "lib/util/civil_time.h"

namespace usagedb::query {

Granularity cell_granularity(CoverSource source) {
  switch (source) {
    case CoverSource::kHourCells: return Granularity::kHour;
    case CoverSource::kDayCells: return Granularity::kDay;
    case CoverSource::kWeekCells: return Granularity::kWeek;
    case CoverSource::kMonthCells:
    case CoverSource::kRows: break;
  }
  return Granularity::kMonth;
}

int64_t cell_start(CoverSource source, int64_t begin) {
  switch (source) {
    case CoverSource::kHourCells: return civil::start_of_hour(begin);
    case CoverSource::kDayCells: return civil::start_of_day(begin);
    case CoverSource::kWeekCells: return civil::start_of_week(begin);
    case CoverSource::kMonthCells: return civil::start_of_month(begin);
    case CoverSource::kRows: break;
  }
  return begin;
}

std::vector<CoverSegment> cover_local(uint32_t yyyymm, const TimeWindow& window, const TimeZone& zone,
                                      Granularity g) {
  const int64_t month_begin = civil::month_start(yyyymm);
  const int64_t month_end = civil::month_start(civil::next_month(yyyymm));
  const int64_t begin = std::max(window.begin, month_begin), end = std::min(window.end, month_end);
  std::vector<CoverSegment> segments;
  const auto push = [&](CoverSource source, int64_t b, int64_t e) {
    if (!segments.empty() && segments.back().source == source && segments.back().end == b) {
      segments.back().end = e;
    } else {
      segments.push_back(CoverSegment{source, b, e});
    }
  };
  for (int64_t t = begin; t < end;) {
    // Every instant of [t, limit) is in t's bucket: the cells that start at
    // t and end by `limit` map into it, the coarsest first.
    const int64_t limit = std::min(zone.bucket(g, t).hi, end);
    while (t < limit) {
      const int64_t week_end = std::min(civil::start_of_week(t + 7 * civil::kSecondsPerDay), month_end);
      if (t == month_begin && month_end <= limit) {
        push(CoverSource::kMonthCells, t, month_end);
        t = month_end;
      } else if ((t == month_begin || t == civil::start_of_week(t)) && week_end <= limit) {
        push(CoverSource::kWeekCells, t, week_end);
        t = week_end;
      } else if (t % civil::kSecondsPerDay == 0 && t + civil::kSecondsPerDay <= limit) {
        push(CoverSource::kDayCells, t, t + civil::kSecondsPerDay);
        t += civil::kSecondsPerDay;
      } else if (t % civil::kSecondsPerHour == 0 && t + civil::kSecondsPerHour <= limit) {
        push(CoverSource::kHourCells, t, t + civil::kSecondsPerHour);
        t += civil::kSecondsPerHour;
      } else {
        const int64_t next = std::min(civil::start_of_hour(t) + civil::kSecondsPerHour, limit);
        push(CoverSource::kRows, t, next);
        t = next;
      }
    }
  }
  return segments;
}

}  // namespace usagedb::query
