// GlibcLocalTime: local time as glibc computes it (localtime_r under the TZ
// environment variable), the tests' own time-zone conversion, independent
// of usagedb's TimeZone (Abseil's reading of the same tz database) and of
// its offset table. The Reference buckets events with it, and the
// TimeZone tests compare against it.
//
// The bucket functions follow SPEC 2.11 as its text reads, by searching
// local time rather than through a table:
//   hour   the first instant of the run of instants that show t's local
//          date and hour under t's offset, at or after the epoch;
//   day, week (Monday), month
//          the period's first local date P (at or after 1970-01-01), then
//          the first instant whose local date is P or later; when that is
//          before the epoch, the first instant whose local date is P + 1.
// Assumes what the tz database holds since 1970: offsets change at most
// once within any 15 minutes.
//
//   GlibcLocalTime ny("America/New_York");   // holds a process-wide lock
//   Timestamp day = ny.bucket(Granularity::kDay, t);
//
// Thread-safety: an object holds a process-wide mutex for its lifetime (TZ
// is process state), so use one at a time, on one thread.
#ifndef USAGEDB_TESTS_TESTUTIL_LOCAL_TIME_H_
#define USAGEDB_TESTS_TESTUTIL_LOCAL_TIME_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "usagedb/usagedb.h"

namespace usagedb::testing {

class GlibcLocalTime {
 public:
  explicit GlibcLocalTime(const std::string& zone);
  ~GlibcLocalTime();
  GlibcLocalTime(const GlibcLocalTime&) = delete;
  GlibcLocalTime& operator=(const GlibcLocalTime&) = delete;

  // Seconds east of UTC at `t` (tm_gmtoff).
  int64_t offset(int64_t t) const;
  // Local date of `t`, days since 1970-01-01 (may be negative).
  int64_t local_day(int64_t t) const;

  // SPEC 2.11's bucket of `t`.
  Timestamp bucket(Granularity g, Timestamp t);
  // toDate(t, tz): the local date, at least 1970-01-01.
  std::chrono::sys_days date(Timestamp t) const;

 private:
  int64_t hour_start(int64_t t) const;
  // The first instant whose local date is `day` or later.
  int64_t first_instant_of(int64_t day);

  std::string zone_;
  std::optional<std::string> saved_tz_;
};

}  // namespace usagedb::testing

#endif  // USAGEDB_TESTS_TESTUTIL_LOCAL_TIME_H_
