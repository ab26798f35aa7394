// Calendar arithmetic on UTC seconds: days <-> civil dates, the month id of a
// partition, and the bucket functions of SPEC 2.3.
//
// Integer-only (Howard Hinnant's days_from_civil algorithms), so the hot
// paths that bucket millions of timestamps do no table lookups or branches
// beyond a few divisions. All functions are pure and thread-safe.
#ifndef USAGEDB_UTIL_CIVIL_TIME_H_
#define USAGEDB_UTIL_CIVIL_TIME_H_

#include <cstdint>

namespace usagedb::civil {

inline constexpr int64_t kSecondsPerHour = 3600;
inline constexpr int64_t kSecondsPerDay = 86400;

struct Date {
  int64_t year;
  unsigned month;  // 1..12
  unsigned day;    // 1..31
};

// Days since 1970-01-01 of a proleptic Gregorian date.
constexpr int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

constexpr Date civil_from_days(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return Date{y + (m <= 2), m, d};
}

constexpr bool is_leap_year(int64_t y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

constexpr unsigned days_in_month(int64_t y, unsigned m) {
  constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap_year(y) ? 29 : kDays[m - 1];
}

// Floor division for possibly negative seconds.
constexpr int64_t floor_div(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

// toYYYYMM(timestamp): the partition id of the month holding `seconds`.
constexpr uint32_t month_id(int64_t seconds) {
  const Date d = civil_from_days(floor_div(seconds, kSecondsPerDay));
  return static_cast<uint32_t>(d.year * 100 + d.month);
}

// First second of the month `yyyymm`.
constexpr int64_t month_start(uint32_t yyyymm) {
  return days_from_civil(yyyymm / 100, yyyymm % 100, 1) * kSecondsPerDay;
}

// The month after `yyyymm`.
constexpr uint32_t next_month(uint32_t yyyymm) {
  return yyyymm % 100 == 12 ? (yyyymm / 100 + 1) * 100 + 1 : yyyymm + 1;
}

constexpr int64_t start_of_hour(int64_t s) { return s - (s % kSecondsPerHour + kSecondsPerHour) % kSecondsPerHour; }
constexpr int64_t start_of_day(int64_t s) { return floor_div(s, kSecondsPerDay) * kSecondsPerDay; }

// toMonday, clamped at 1970-01-01 as ClickHouse's Date is (SPEC 2.3).
constexpr int64_t start_of_week(int64_t s) {
  const int64_t days = floor_div(s, kSecondsPerDay);
  // 1970-01-01 was a Thursday: days + 3 is a multiple of 7 on Mondays.
  const int64_t monday = days - ((days + 3) % 7 + 7) % 7;
  return monday < 0 ? 0 : monday * kSecondsPerDay;
}

constexpr int64_t start_of_month(int64_t s) {
  const Date d = civil_from_days(floor_div(s, kSecondsPerDay));
  return days_from_civil(d.year, d.month, 1) * kSecondsPerDay;
}

static_assert(days_from_civil(1970, 1, 1) == 0);
static_assert(days_from_civil(2000, 3, 1) == 11017);
static_assert(month_id(0) == 197001);
static_assert(start_of_week(0) == 0);
static_assert(start_of_week(4 * kSecondsPerDay) == 4 * kSecondsPerDay);  // Mon 1970-01-05
static_assert(start_of_week(10 * kSecondsPerDay + 5) == 4 * kSecondsPerDay);

}  // namespace usagedb::civil

#endif  // USAGEDB_UTIL_CIVIL_TIME_H_
