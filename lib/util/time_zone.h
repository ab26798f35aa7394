// TimeZone: an IANA zone of the system's tz database as a table of its UTC
// offsets over the DateTime range, and the local-time bucket functions of
// SPEC 2.11 (`toStartOfHour(t, tz)`, `toStartOfDay(t, tz)`,
// `toDateTime(toMonday(t, tz), tz)`, `toDateTime(toStartOfMonth(t, tz), tz)`,
// `toDate(t, tz)`) on Unix seconds.
//
// Abseil reads the zone once (absl::LoadTimeZone); load() turns it into
// segments of constant offset, so bucketing millions of timestamps is a
// binary search among a few hundred transitions (or nothing, through a
// Bucketer's cache when they come in time order), never a call into Abseil.
//
//   absl::StatusOr<std::shared_ptr<const TimeZone>> ny = TimeZone::load("America/New_York");
//   int64_t day = (*ny)->bucket(Granularity::kDay, t).start;  // local midnight, a UTC instant
//   TimeZone::Bucketer weeks(**ny, Granularity::kWeek);
//   for (uint32_t t : sorted_timestamps) use(weeks(t));
//
// The buckets (each a UTC instant: the first instant of the period):
// - hour: the local wall-clock hour, within one offset: the instants that
//   show the same local date and hour under the same offset. In the hour a
//   DST fall-back repeats, that is two buckets (both print the same time);
//   where an offset change is not a whole hour (Lord_Howe, Chatham,
//   St_Johns before 2011) the bucket starts at the change and prints, e.g.,
//   02:30:00.
// - day, week (Monday), month: the first instant whose local date is on or
//   after the period's first date (a day whose midnight a DST change skips
//   starts at the change; a repeated late evening stays in its date).
// And ClickHouse's edges: a period's first date is clamped to 1970-01-01
// (its Date type starts there), and when that date's first instant is
// before the epoch (1970-01-01 in a zone east of UTC) the period starts at
// the next local midnight, as ClickHouse's DateTime does; an hour bucket
// before the epoch is the epoch. In UTC every function equals
// lib/util/civil_time.h's.
//
// Thread-safety: a TimeZone is immutable (load() is safe to call from any
// thread; zones are cached for the process); a Bucketer belongs to one thread.
#ifndef USAGEDB_UTIL_TIME_ZONE_H_
#define USAGEDB_UTIL_TIME_ZONE_H_

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "usagedb/queries.h"

namespace usagedb {

class TimeZone {
 public:
  // The zone called `name` in the system's tz database (/usr/share/zoneinfo,
  // as Abseil finds it), loaded once per process. InvalidArgumentError
  // naming `name` when there is no such zone.
  static absl::StatusOr<std::shared_ptr<const TimeZone>> load(std::string_view name);
  // UTC.
  static const TimeZone& utc();

  TimeZone(const TimeZone&) = delete;
  TimeZone& operator=(const TimeZone&) = delete;

  const std::string& name() const { return name_; }
  // Whether every offset is zero (UTC, Etc/UTC, Etc/GMT, ...): then every
  // bucket is the UTC one.
  bool is_utc() const { return segments_.size() == 1 && segments_[0].offset == 0; }

  // Seconds east of UTC at instant `t`.
  int32_t offset_at(int64_t t) const { return segments_[segment_of(t)].offset; }
  // The local date of `t` in days since 1970-01-01 (unclamped: negative
  // before the local epoch).
  int64_t local_day(int64_t t) const;
  // toDate(t, tz): local_day(t), clamped to 1970-01-01 (day 0).
  int64_t date_of(int64_t t) const;
  // The first instant whose local date is `day` or later.
  int64_t day_start(int64_t day) const;
  // The start of the day, week or month bucket whose first local date is
  // `day`, clamped as ClickHouse's Date and DateTime are (see above).
  int64_t date_bucket_start(int64_t day) const;

  // The bucket of `t`, and an interval of instants around it that share it.
  struct Bucket {
    int64_t start;  // the bucket: a UTC instant (see the header)
    int64_t lo;     // every instant in [lo, hi) has this bucket; lo <= t < hi
    int64_t hi;
  };
  Bucket bucket(Granularity g, int64_t t) const;
  int64_t bucket_start(Granularity g, int64_t t) const { return bucket(g, t).start; }

  // Whether [begin, end) has a constant offset; sets *offset to it.
  bool constant_offset(int64_t begin, int64_t end, int32_t* offset) const;
  // Whether every offset in force during [begin, end) is a multiple of
  // `unit` seconds and every change in it happens at a multiple of `unit`
  // (Unix seconds): then each UTC `unit` lies in one local `unit`.
  bool aligned(int64_t begin, int64_t end, int64_t unit) const;

  // bucket() with a cache of the last bucket's [lo, hi): one comparison for
  // each timestamp in the same bucket as the previous one.
  class Bucketer {
   public:
    Bucketer(const TimeZone& zone, Granularity g) : zone_(&zone), granularity_(g) {}
    int64_t operator()(int64_t t) {
      if (t < cached_.lo || t >= cached_.hi) cached_ = zone_->bucket(granularity_, t);
      return cached_.start;
    }

   private:
    const TimeZone* zone_;
    Granularity granularity_;
    Bucket cached_{0, 1, 0};  // empty
  };

 private:
  // Instants [begin, next segment's begin) have `offset`.
  struct Segment {
    int64_t begin;
    int32_t offset;
  };

  explicit TimeZone(std::string name) : name_(std::move(name)) {}
  static absl::StatusOr<std::shared_ptr<const TimeZone>> build(const std::string& name);
  size_t segment_of(int64_t t) const;
  int64_t segment_end(size_t i) const {
    return i + 1 < segments_.size() ? segments_[i + 1].begin : std::numeric_limits<int64_t>::max();
  }

  std::string name_;
  std::vector<Segment> segments_;  // ascending; the first begins at INT64_MIN
};

}  // namespace usagedb

#endif  // USAGEDB_UTIL_TIME_ZONE_H_
