// Distinct users over a sliding window of days (active_users, SPEC 2.6):
// for each day d of a series, |days[d - w + 1] ∪ ... ∪ days[d]|.
//
// Two ways, each exact, whose costs differ by the data:
//
//   by_last_day  one step per (day, user) pair: each user's last active
//                day, and how many users were last active on each day.
//                Cheap when days are small (a filter on one feature, few
//                users) or the window is long and sparse.
//   by_unions    van Herk / Gil-Werman: the days cut into blocks of w; a
//                window starting inside block k and ending inside block k+1
//                is the suffix union of block k from its first day and the
//                prefix union of block k+1 to its last day, counted without
//                making it (or_cardinality). Three bitmap operations per
//                day whatever w, each on whole containers (a day of
//                thousands of users is one 8 KiB bitset: a few hundred ns).
//
// window_counts() picks the cheaper from the days' sizes.
//
//   std::vector<uint64_t> counts(days_in_series);
//   query::window_counts(days, first, w, users, &counts);
//
// Thread-safety: pure functions.
#ifndef USAGEDB_QUERY_WINDOW_COUNTS_H_
#define USAGEDB_QUERY_WINDOW_COUNTS_H_

#include <cstdint>
#include <vector>

#include "lib/index/bitmap.h"

namespace usagedb::query {

// The arguments of every function below: `days[i]` is the bitmap of day
// `first - (w - 1) + i` (null: nobody that day); `out` has one slot per day
// of the series [first, first + out->size()), and days.size() ==
// out->size() + w - 1. `users`: every code in the bitmaps is below it.
// REQUIRES: w >= 1.
void window_counts(const std::vector<const Bitmap*>& days, uint32_t w, uint32_t users, std::vector<uint64_t>* out);

// The two methods, for tests and benchmarks.
void window_counts_by_last_day(const std::vector<const Bitmap*>& days, uint32_t w, uint32_t users,
                               std::vector<uint64_t>* out);
void window_counts_by_unions(const std::vector<const Bitmap*>& days, uint32_t w, std::vector<uint64_t>* out);

}  // namespace usagedb::query

#endif  // USAGEDB_QUERY_WINDOW_COUNTS_H_
