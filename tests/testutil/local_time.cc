#include "tests/testutil/local_time.h"

#include <time.h>

#include <cstdlib>
#include <map>
#include <mutex>
#include <utility>

namespace usagedb::testing {
namespace {

using std::chrono::days;
using std::chrono::sys_days;

std::recursive_mutex& tz_mutex() {
  static std::recursive_mutex mu;
  return mu;
}

// The first instants of local dates, per zone: they never change, and the
// search costs a few hundred localtime_r calls.
std::map<std::pair<std::string, int64_t>, int64_t>& day_start_memo() {
  static auto* memo = new std::map<std::pair<std::string, int64_t>, int64_t>();
  return *memo;
}

int64_t floor_div(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

}  // namespace

GlibcLocalTime::GlibcLocalTime(const std::string& zone) : zone_(zone) {
  tz_mutex().lock();
  if (const char* old = std::getenv("TZ")) saved_tz_ = old;
  setenv("TZ", zone.c_str(), 1);
  tzset();
}

GlibcLocalTime::~GlibcLocalTime() {
  if (saved_tz_) {
    setenv("TZ", saved_tz_->c_str(), 1);
  } else {
    unsetenv("TZ");
  }
  tzset();
  tz_mutex().unlock();
}

int64_t GlibcLocalTime::offset(int64_t t) const {
  const time_t tt = static_cast<time_t>(t);
  struct tm tm {};
  localtime_r(&tt, &tm);
  return tm.tm_gmtoff;
}

int64_t GlibcLocalTime::local_day(int64_t t) const { return floor_div(t + offset(t), 86400); }

std::chrono::sys_days GlibcLocalTime::date(Timestamp t) const {
  const int64_t day = local_day(t.time_since_epoch().count());
  return sys_days{days{day < 0 ? 0 : day}};
}

int64_t GlibcLocalTime::hour_start(int64_t t) const {
  const int64_t off = offset(t);
  const int64_t local = t + off;
  int64_t start = t - (local - floor_div(local, 3600) * 3600);  // the local hour's start under t's offset
  if (offset(start) != off) {
    // The offset began within the hour: the first instant of [start, t]
    // with t's offset (at most one change in an hour).
    int64_t lo = start, hi = t;  // offset(lo) != off, offset(hi) == off
    while (hi - lo > 1) {
      const int64_t mid = lo + (hi - lo) / 2;
      (offset(mid) == off ? hi : lo) = mid;
    }
    start = hi;
  }
  return start < 0 ? 0 : start;
}

int64_t GlibcLocalTime::first_instant_of(int64_t day) {
  auto [it, fresh] = day_start_memo().try_emplace({zone_, day}, 0);
  if (!fresh) return it->second;
  // No offset reaches 16 hours: every instant before midnight - 16h shows an
  // earlier date. Walk forward in 15-minute steps; within a step the
  // offset changes at most once, so local time rises, or rises, drops and
  // rises: search each rising piece.
  const auto reaches = [&](int64_t s) { return local_day(s) >= day; };
  const auto first_in = [&](int64_t lo, int64_t hi) -> std::optional<int64_t> {
    // The first instant of (lo, hi] that reaches `day`, local time rising.
    if (!reaches(hi)) return std::nullopt;
    while (hi - lo > 1) {
      const int64_t mid = lo + (hi - lo) / 2;
      (reaches(mid) ? hi : lo) = mid;
    }
    return hi;
  };
  int64_t result = 0;
  for (int64_t u = day * 86400 - 16 * 3600;; u += 900) {
    const int64_t next = u + 900;
    std::optional<int64_t> found;
    if (offset(u) == offset(next)) {
      found = first_in(u, next);
    } else {
      int64_t lo = u, hi = next;  // the change: offset(hi) differs from offset(u)
      while (hi - lo > 1) {
        const int64_t mid = lo + (hi - lo) / 2;
        (offset(mid) == offset(u) ? lo : hi) = mid;
      }
      found = first_in(u, hi - 1);
      if (!found) found = first_in(hi - 1, next);
    }
    if (found) {
      result = *found;
      break;
    }
  }
  it->second = result;
  return result;
}

Timestamp GlibcLocalTime::bucket(Granularity g, Timestamp t) {
  const int64_t s = t.time_since_epoch().count();
  if (g == Granularity::kHour) return Timestamp{std::chrono::seconds{hour_start(s)}};
  sys_days first{days{local_day(s)}};
  if (g == Granularity::kWeek) {
    first -= days{(std::chrono::weekday{first}.iso_encoding() - 1)};
  } else if (g == Granularity::kMonth) {
    const std::chrono::year_month_day ymd{first};
    first = sys_days{ymd.year() / ymd.month() / 1};
  }
  int64_t day = first.time_since_epoch().count();
  if (day < 0) day = 0;  // ClickHouse's Date starts at 1970-01-01
  int64_t start = first_instant_of(day);
  if (start < 0) start = first_instant_of(day + 1);  // and its DateTime at the epoch
  return Timestamp{std::chrono::seconds{start}};
}

}  // namespace usagedb::testing
