#include "lib/query/rollup_cover.h"

#include <algorithm>

#include "lib/util/civil_time.h"

namespace usagedb::query {
namespace {

TimeWindow between(int64_t begin, int64_t end) { return TimeWindow{begin, std::max(begin, end)}; }

// The first bucket boundary at or after `t` (t >= 0).
int64_t ceil_to(int64_t t, int64_t unit) { return civil::floor_div(t + unit - 1, unit) * unit; }
int64_t floor_to(int64_t t, int64_t unit) { return civil::floor_div(t, unit) * unit; }

}  // namespace

RollupCover cover_month(uint32_t yyyymm, const TimeWindow& window) {
  const int64_t month_begin = civil::month_start(yyyymm);
  const int64_t month_end = civil::month_start(civil::next_month(yyyymm));
  RollupCover c;
  const int64_t begin = std::max(window.begin, month_begin);
  const int64_t end = std::min(window.end, month_end);
  c.month = between(begin, end);
  c.rows[0] = c.rows[1] = c.hours[0] = c.hours[1] = c.days = between(begin, begin);
  if (begin >= end) return c;
  c.whole_month = begin == month_begin && end == month_end;
  const int64_t h0 = ceil_to(begin, civil::kSecondsPerHour);
  const int64_t h1 = floor_to(end, civil::kSecondsPerHour);
  if (h0 >= h1) {
    c.rows[0] = between(begin, end);
    return c;
  }
  c.rows[0] = between(begin, h0);
  c.rows[1] = between(h1, end);
  const int64_t d0 = ceil_to(h0, civil::kSecondsPerDay);
  const int64_t d1 = floor_to(h1, civil::kSecondsPerDay);
  if (d0 >= d1) {
    c.hours[0] = between(h0, h1);
    return c;
  }
  c.hours[0] = between(h0, d0);
  c.days = between(d0, d1);
  c.hours[1] = between(d1, h1);
  return c;
}

}  // namespace usagedb::query
