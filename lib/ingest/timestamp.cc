// parse_timestamp, parse_date_parameter and format_timestamp (usagedb/event.h).
//
// Hand-written rather than std::chrono::parse: the accepted forms are exact
// (SPEC 1.1), every rejection says what is wrong, and ingestion calls this
// for every line.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/util/civil_time.h"
#include "lib/util/text.h"
#include "usagedb/event.h"

namespace usagedb {
namespace {

// Reads `n` ASCII digits at `s[pos]`; -1 when any is not a digit.
int64_t read_digits(std::string_view s, size_t pos, size_t n) {
  if (pos + n > s.size()) return -1;
  int64_t v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    const char c = s[i];
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  return v;
}

absl::Status invalid(std::string_view text, std::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("'", text::excerpt(text), "' is not a valid DateTime: ", text::absl_view(why)));
}

// Parses "YYYY-MM-DD" at the start of `s`, into days since the epoch.
absl::StatusOr<int64_t> parse_date_part(std::string_view s, std::string_view whole) {
  const int64_t y = read_digits(s, 0, 4);
  const int64_t m = read_digits(s, 5, 2);
  const int64_t d = read_digits(s, 8, 2);
  if (s.size() < 10 || y < 0 || m < 0 || d < 0 || s[4] != '-' || s[7] != '-') {
    return invalid(whole, "expected YYYY-MM-DD HH:MM:SS or YYYY-MM-DDTHH:MM:SS[.fff][Z|+HH:MM]");
  }
  if (m < 1 || m > 12) return invalid(whole, "month must be 01..12");
  const unsigned dim = civil::days_in_month(y, static_cast<unsigned>(m));
  if (d < 1 || d > dim) {
    return invalid(whole, absl::StrCat("day must be 01..", dim, " in that month"));
  }
  return civil::days_from_civil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
}

// Parses "HH:MM:SS" at `s[pos]` into seconds of the day.
absl::StatusOr<int64_t> parse_time_part(std::string_view s, size_t pos, std::string_view whole) {
  const int64_t h = read_digits(s, pos, 2);
  const int64_t mi = read_digits(s, pos + 3, 2);
  const int64_t se = read_digits(s, pos + 6, 2);
  if (h < 0 || mi < 0 || se < 0 || s[pos + 2] != ':' || s[pos + 5] != ':') {
    return invalid(whole, "expected HH:MM:SS after the date");
  }
  if (h > 23) return invalid(whole, "hour must be 00..23");
  if (mi > 59) return invalid(whole, "minute must be 00..59");
  if (se > 59) return invalid(whole, "second must be 00..59");
  return h * 3600 + mi * 60 + se;
}

absl::StatusOr<Timestamp> in_range(int64_t seconds, std::string_view whole) {
  if (seconds < kMinTimestamp.time_since_epoch().count() ||
      seconds > kMaxTimestamp.time_since_epoch().count()) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", text::excerpt(whole),
                     "' is outside the DateTime range 1970-01-01 00:00:00 to 2105-12-31 23:59:59 UTC"));
  }
  return Timestamp{std::chrono::seconds{seconds}};
}

// parse_timestamp() of the seed's form "YYYY-MM-DD HH:MM:SS" when it is
// valid and in range, without building a StatusOr per part (the readers
// call it for every line); nullopt leaves the words to the full parser.
std::optional<Timestamp> parse_plain_timestamp(std::string_view s) {
  if (s.size() != 19 || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' || s[16] != ':') {
    return std::nullopt;
  }
  const int64_t y = read_digits(s, 0, 4), m = read_digits(s, 5, 2), d = read_digits(s, 8, 2);
  const int64_t h = read_digits(s, 11, 2), mi = read_digits(s, 14, 2), se = read_digits(s, 17, 2);
  if (y < 0 || h < 0 || mi < 0 || se < 0) return std::nullopt;  // m and d below
  if (m < 1 || m > 12 || d < 1 || d > civil::days_in_month(y, static_cast<unsigned>(m)) || h > 23 || mi > 59 ||
      se > 59) {
    return std::nullopt;
  }
  const int64_t seconds =
      civil::days_from_civil(y, static_cast<unsigned>(m), static_cast<unsigned>(d)) * civil::kSecondsPerDay + h * 3600 +
      mi * 60 + se;
  if (seconds < kMinTimestamp.time_since_epoch().count() || seconds > kMaxTimestamp.time_since_epoch().count()) {
    return std::nullopt;
  }
  return Timestamp{std::chrono::seconds{seconds}};
}

}  // namespace

absl::StatusOr<Timestamp> parse_timestamp(std::string_view s) {
  if (std::optional<Timestamp> t = parse_plain_timestamp(s)) return *t;
  auto days = parse_date_part(s, s);
  if (!days.ok()) return days.status();
  if (s.size() < 19 || (s[10] != ' ' && s[10] != 'T')) {
    return invalid(s, "expected YYYY-MM-DD HH:MM:SS or YYYY-MM-DDTHH:MM:SS[.fff][Z|+HH:MM]");
  }
  auto tod = parse_time_part(s, 11, s);
  if (!tod.ok()) return tod.status();
  int64_t seconds = *days * civil::kSecondsPerDay + *tod;
  size_t pos = 19;
  if (s[10] == ' ') {
    // The seed's form takes no fraction and no offset.
    if (pos != s.size()) return invalid(s, "unexpected text after the seconds");
    return in_range(seconds, s);
  }
  if (pos < s.size() && s[pos] == '.') {
    const size_t digits_start = ++pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
    if (pos == digits_start) return invalid(s, "expected digits after '.'");
  }
  if (pos < s.size()) {
    if (s[pos] == 'Z') {
      ++pos;
    } else if (s[pos] == '+' || s[pos] == '-') {
      const int64_t oh = read_digits(s, pos + 1, 2);
      const int64_t om = read_digits(s, pos + 4, 2);
      if (oh < 0 || om < 0 || s[pos + 3] != ':') return invalid(s, "expected a UTC offset +HH:MM or -HH:MM");
      if (oh > 23 || om > 59) return invalid(s, "UTC offset out of range");
      const int64_t offset = oh * 3600 + om * 60;
      // Local time = UTC + offset, so UTC = local - offset.
      seconds += s[pos] == '+' ? -offset : offset;
      pos += 6;
    }
  }
  if (pos != s.size()) return invalid(s, "unexpected text after the time");
  return in_range(seconds, s);
}

absl::StatusOr<Timestamp> parse_date_parameter(std::string_view s) {
  if (s.size() == 10) {
    auto days = parse_date_part(s, s);
    if (!days.ok()) return days.status();
    return in_range(*days * civil::kSecondsPerDay, s);
  }
  if (s.size() != 19 || s[10] != ' ') {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", text::excerpt(s), "' is not a valid date: expected YYYY-MM-DD or YYYY-MM-DD HH:MM:SS"));
  }
  return parse_timestamp(s);
}

std::string format_timestamp(Timestamp t) {
  const int64_t s = t.time_since_epoch().count();
  const int64_t days = civil::floor_div(s, civil::kSecondsPerDay);
  const int64_t tod = s - days * civil::kSecondsPerDay;
  const civil::Date d = civil::civil_from_days(days);
  char buf[20];
  auto put = [&buf](int at, int64_t v, int width) {
    for (int i = width - 1; i >= 0; --i) {
      buf[at + i] = static_cast<char>('0' + v % 10);
      v /= 10;
    }
  };
  put(0, d.year, 4);
  buf[4] = '-';
  put(5, d.month, 2);
  buf[7] = '-';
  put(8, d.day, 2);
  buf[10] = ' ';
  put(11, tod / 3600, 2);
  buf[13] = ':';
  put(14, tod / 60 % 60, 2);
  buf[16] = ':';
  put(17, tod % 60, 2);
  return std::string(buf, 19);
}

}  // namespace usagedb
