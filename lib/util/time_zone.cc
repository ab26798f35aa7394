#include "lib/util/time_zone.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "lib/util/civil_time.h"
#include "lib/util/mutex.h"
#include "lib/util/text.h"

namespace usagedb {
namespace {

// The offset table covers the DateTime range with margins: bucket and day
// computations look up to two days around an instant, and local dates of
// the range reach 14 hours past its UTC ends.
constexpr int64_t kTableBegin = -3 * civil::kSecondsPerDay;
constexpr int64_t kTableEnd = (int64_t{1} << 32) + 3 * civil::kSecondsPerDay;

// A name as the tz database spells its zones: components of letters,
// digits, '_', '-', '+', separated by '/'. What it keeps out is what
// Abseil would also load but is no zone of the database: paths ("/etc/x",
// "../x"), the host's own zone ("localtime"), Abseil's "Fixed/UTC+05:00".
bool is_zone_name(std::string_view name) {
  if (name.empty() || name == "localtime" || name == "posixrules" || name.substr(0, 6) == "Fixed/") return false;
  size_t component = 0;
  for (size_t i = 0; i <= name.size(); ++i) {
    if (i == name.size() || name[i] == '/') {
      const std::string_view part = name.substr(component, i - component);
      if (part.empty() || part == "." || part == "..") return false;
      component = i + 1;
      continue;
    }
    const char c = name[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '-' || c == '+';
    if (!ok) return false;
  }
  return true;
}

// Floor of a / b for b > 0.
int64_t floor_div(int64_t a, int64_t b) { return civil::floor_div(a, b); }

// The Monday on or before local date `day` (1970-01-01 was a Thursday).
int64_t monday_of(int64_t day) { return day - (((day + 3) % 7) + 7) % 7; }

// The first date of the month holding local date `day`.
int64_t month_of(int64_t day) {
  const civil::Date d = civil::civil_from_days(day);
  return civil::days_from_civil(d.year, d.month, 1);
}

// The first date of the month after the one holding `day`.
int64_t next_month_of(int64_t day) {
  const civil::Date d = civil::civil_from_days(day);
  return d.month == 12 ? civil::days_from_civil(d.year + 1, 1, 1) : civil::days_from_civil(d.year, d.month + 1, 1);
}

}  // namespace

absl::StatusOr<std::shared_ptr<const TimeZone>> TimeZone::build(const std::string& name) {
  absl::TimeZone tz;
  if (!is_zone_name(name) || !absl::LoadTimeZone(name, &tz)) {
    return absl::InvalidArgumentError(absl::StrCat("'", text::excerpt(name),
                                                   "' is not a time zone of the system's tz database (expected an "
                                                   "IANA name such as UTC, America/New_York or Asia/Kolkata)"));
  }
  std::shared_ptr<TimeZone> zone(new TimeZone(name));
  absl::Time t = absl::FromUnixSeconds(kTableBegin);
  int32_t offset = tz.At(t).offset;
  zone->segments_.push_back(Segment{std::numeric_limits<int64_t>::min(), offset});
  const absl::CivilSecond epoch(1970, 1, 1, 0, 0, 0);
  absl::TimeZone::CivilTransition transition;
  while (tz.NextTransition(t, &transition)) {
    // `from` is the local time, under the old offset, at which it ends.
    const int64_t at = (transition.from - epoch) - offset;
    if (at <= absl::ToUnixSeconds(t) || at > kTableEnd) break;
    t = absl::FromUnixSeconds(at);
    const int32_t next = tz.At(t).offset;
    if (next != offset) zone->segments_.push_back(Segment{at, next});
    offset = next;
  }
  return std::shared_ptr<const TimeZone>(std::move(zone));
}

absl::StatusOr<std::shared_ptr<const TimeZone>> TimeZone::load(std::string_view name) {
  // Zones are few and small (a few hundred segments): keep every one asked for.
  static Mutex mu;
  static auto* cache = new std::map<std::string, std::shared_ptr<const TimeZone>, std::less<>>();
  {
    ReaderMutexLock lock(&mu);
    auto it = cache->find(name);
    if (it != cache->end()) return it->second;
  }
  const std::string key(name);
  absl::StatusOr<std::shared_ptr<const TimeZone>> zone = build(key);
  if (!zone.ok()) return zone.status();
  MutexLock lock(&mu);
  return cache->try_emplace(key, *std::move(zone)).first->second;
}

const TimeZone& TimeZone::utc() {
  static const std::shared_ptr<const TimeZone> kUtc = [] {
    std::shared_ptr<TimeZone> zone(new TimeZone("UTC"));
    zone->segments_.push_back(Segment{std::numeric_limits<int64_t>::min(), 0});
    return zone;
  }();
  return *kUtc;
}

size_t TimeZone::segment_of(int64_t t) const {
  if (segments_.size() == 1) return 0;
  const auto it = std::upper_bound(segments_.begin() + 1, segments_.end(), t,
                                   [](int64_t x, const Segment& s) { return x < s.begin; });
  return static_cast<size_t>(it - segments_.begin()) - 1;
}

int64_t TimeZone::local_day(int64_t t) const { return floor_div(t + offset_at(t), civil::kSecondsPerDay); }

int64_t TimeZone::date_of(int64_t t) const { return std::max<int64_t>(local_day(t), 0); }

int64_t TimeZone::day_start(int64_t day) const {
  const int64_t midnight = day * civil::kSecondsPerDay;
  // Within a segment the local time is t + offset, so its first instant on
  // or after `midnight` is midnight - offset; the first segment that has
  // one gives the answer. No offset reaches two days, so the search starts
  // two days before.
  for (size_t i = segment_of(midnight - 2 * civil::kSecondsPerDay); i < segments_.size(); ++i) {
    const int64_t first = std::max(segments_[i].begin, midnight - segments_[i].offset);
    if (first < segment_end(i)) return first;
  }
  return midnight;  // unreachable: the last segment is unbounded
}

int64_t TimeZone::date_bucket_start(int64_t day) const {
  day = std::max<int64_t>(day, 0);
  const int64_t start = day_start(day);
  return start >= 0 ? start : day_start(day + 1);
}

TimeZone::Bucket TimeZone::bucket(Granularity g, int64_t t) const {
  const size_t i = segment_of(t);
  const int64_t begin = segments_[i].begin, end = segment_end(i);
  const int64_t offset = segments_[i].offset;
  const int64_t local = t + offset;
  // [first, last) local dates or hours of the bucket, in local seconds; the
  // segment's instants with local times in it are [lo, hi).
  int64_t first = 0, last = 0;
  switch (g) {
    case Granularity::kHour:
      first = floor_div(local, civil::kSecondsPerHour) * civil::kSecondsPerHour;
      last = first + civil::kSecondsPerHour;
      break;
    case Granularity::kDay: {
      const int64_t day = floor_div(local, civil::kSecondsPerDay);
      first = day * civil::kSecondsPerDay;
      last = first + civil::kSecondsPerDay;
      break;
    }
    case Granularity::kWeek: {
      const int64_t monday = monday_of(floor_div(local, civil::kSecondsPerDay));
      first = monday * civil::kSecondsPerDay;
      last = first + 7 * civil::kSecondsPerDay;
      break;
    }
    case Granularity::kMonth: {
      const int64_t day = floor_div(local, civil::kSecondsPerDay);
      first = month_of(day) * civil::kSecondsPerDay;
      last = next_month_of(day) * civil::kSecondsPerDay;
      break;
    }
  }
  Bucket b;
  b.lo = std::max(begin, first - offset);
  b.hi = std::min(end, last - offset);
  if (g == Granularity::kHour) {
    // The wall-clock hour within this offset: from the later of its local
    // start and the change that began the offset.
    b.start = std::max<int64_t>(b.lo, 0);
  } else {
    b.start = date_bucket_start(first / civil::kSecondsPerDay);
  }
  return b;
}

bool TimeZone::constant_offset(int64_t begin, int64_t end, int32_t* offset) const {
  const size_t i = segment_of(begin);
  *offset = segments_[i].offset;
  return end <= segment_end(i);
}

bool TimeZone::aligned(int64_t begin, int64_t end, int64_t unit) const {
  for (size_t i = segment_of(begin); i < segments_.size() && segments_[i].begin < end; ++i) {
    if (segments_[i].offset % unit != 0) return false;
    if (segments_[i].begin > begin && segments_[i].begin % unit != 0) return false;
  }
  return true;
}

}  // namespace usagedb
