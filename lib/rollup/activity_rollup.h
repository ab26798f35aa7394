// ActivityRollup: who was active in a partition, as bitmaps of user codes -
// per day over every feature, per feature over the month, and over the
// whole month - the section of a PartitionRollup that the engagement
// endpoints (SPEC 2.5-2.7) read.
//
// The timeline cells (partition_rollup.h) hold each (day, feature)'s and
// (month, feature)'s distinct users as sorted arrays. Daily or monthly
// active users over every feature would union sixty such arrays per day (a
// million codes per month at 10M events a year); adoption over a year would
// turn 720 month arrays into bitmaps per request. This section keeps those
// unions made, as Roaring bitmaps that the queries union and intersect
// without decoding (a day of 20k users is one 8 KiB bitset container):
//
//   days         day start -> the users with an event that day (any feature)
//   features     feature   -> the users of that feature in the month
//   month        the users with an event in the month
//
// It is a function of the day and month timeline cells, made from them
// whenever a PartitionRollup is built or read back from its file (not
// persisted: ~1 ms per million rows, against the tens of milliseconds of
// reading the file), so it covers exactly the parts its rollup covers and
// needs nothing of its own to stay exact under merges, deletions, retention
// and recovery.
//
//   const ActivityRollup& a = rollup.activity();
//   for (const DayUsers& d : a.days_between(begin, end)) total.union_with(d.users);
//   if (const Bitmap* users = a.feature_users(code)) ...
//
// Thread-safety: immutable once built; share freely.
#ifndef USAGEDB_ROLLUP_ACTIVITY_ROLLUP_H_
#define USAGEDB_ROLLUP_ACTIVITY_ROLLUP_H_

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "lib/index/bitmap.h"

namespace usagedb {

struct TimelineLevel;

// The users active on one day.
struct DayUsers {
  uint32_t day;  // the day's first second, Unix seconds
  Bitmap users;  // never empty
};

class ActivityRollup {
 public:
  ActivityRollup() = default;
  ActivityRollup(ActivityRollup&&) noexcept = default;
  ActivityRollup& operator=(ActivityRollup&&) noexcept = default;

  // From a partition's day cells and month cells (TimelineLevel of
  // Granularity::kDay and kMonth: cells sorted by (bucket, feature), each
  // cell's users ascending).
  static ActivityRollup from_timeline(const TimelineLevel& days, const TimelineLevel& month);

  // The days with events, ascending.
  std::span<const DayUsers> days() const { return days_; }
  // Those whose day starts in [begin, end).
  std::span<const DayUsers> days_between(int64_t begin, int64_t end) const;
  // The users of `feature` in the month; null when it has no event.
  const Bitmap* feature_users(uint32_t feature) const;
  // Every user with an event in the month.
  const Bitmap& month_users() const { return month_; }

  // Heap bytes held (approximate).
  size_t memory_bytes() const;

 private:
  std::vector<DayUsers> days_;
  std::vector<std::pair<uint32_t, Bitmap>> features_;  // ascending by feature
  Bitmap month_;
};

}  // namespace usagedb

#endif  // USAGEDB_ROLLUP_ACTIVITY_ROLLUP_H_
