// users_by_bucket(): the distinct users with a matching event in each day,
// week or month (SPEC 2.3's buckets), what active_users (SPEC 2.6) and
// feature_retention (SPEC 2.7) are made of.
//
// Where a partition's rollups hold the rows and the request filters at most
// on feature_id, the users come from the rollups (each of them): whole days from their
// activity bitmaps (any feature: one bitmap a day, or the month's) or its
// day cells (one feature), the whole hours at the ends of a window cut
// mid-day from the hour cells (rollup_cover.h); the partial hours at the
// window's ends, the parts no rollup holds, the unsealed rows and
// every request filtering on product_version or event_type are read from
// the rows.
//
// In a zone other than UTC (SPEC 2.11) the buckets are the zone's
// (TimeZone::bucket) and the rollup answers with the cells that lie whole
// in one local bucket (local_cover.h): in a zone of whole-hour offsets
// every hour comes from a cell (without a feature filter, the version
// timeline's one cell of every user an hour, and the days' bitmaps where a
// UTC day lies in one bucket); where a local boundary cuts an hour
// (Asia/Kolkata) that hour's rows are read.
//
// A bucket answered whole by one rollup bitmap (a day of one partition
// with no rows outside its rollup: most days of a checkpointed store) is
// that bitmap, not a copy: copying a year of 8 KiB day bitmaps was most of
// a year's active_users.
//
//   std::map<int64_t, BucketUsers> days = users_by_bucket(snapshot, filters, Granularity::kDay, zone, stats);
//   for (const auto& [day_start, users] : days) users.get() ...   // ascending, each non-empty
//
// Thread-safety: a pure function of an immutable Snapshot.
#ifndef USAGEDB_QUERY_USERS_BY_BUCKET_H_
#define USAGEDB_QUERY_USERS_BY_BUCKET_H_

#include <cstdint>
#include <map>
#include <utility>

#include "lib/index/bitmap.h"
#include "lib/query/scan.h"
#include "lib/query/snapshot.h"
#include "lib/util/time_zone.h"

namespace usagedb::query {

// The start of the bucket of `g` holding `t` (toStartOfDay, toMonday,
// toStartOfMonth, toStartOfHour), Unix seconds.
int64_t bucket_start(Granularity g, int64_t t);

// The users of one bucket: a rollup's bitmap (valid while the snapshot
// is), or a bitmap made for the request.
class BucketUsers {
 public:
  explicit BucketUsers(const Bitmap* rollup) : rollup_(rollup) {}
  explicit BucketUsers(Bitmap made) : made_(std::move(made)) {}

  const Bitmap& get() const { return rollup_ != nullptr ? *rollup_ : made_; }
  // The bitmap to keep: moved out when made, else a copy.
  Bitmap take() && { return rollup_ != nullptr ? rollup_->copy() : std::move(made_); }

 private:
  const Bitmap* rollup_ = nullptr;
  Bitmap made_;
};

// Bucket start (in `zone`) -> the user codes of the rows matching `f`
// (f.feature inactive: any feature) in that bucket, for every bucket with
// such a row, ascending. REQUIRES: g is kDay, kWeek or kMonth.
std::map<int64_t, BucketUsers> users_by_bucket(const Snapshot& snapshot, const ScanFilters& f, Granularity g,
                                          const TimeZone& zone, Stats& stats);

}  // namespace usagedb::query

#endif  // USAGEDB_QUERY_USERS_BY_BUCKET_H_
