// FunnelBounds: each user's windowFunnel level (SPEC 2.8) bounded from below
// and from above by the rollups' day and hour cells, before any row is read.
//
// A rollup's timeline holds, per (day, feature) and (hour, feature), the
// distinct users with an event in it (partition_rollup.h). Three walks of
// the funnel's cells, each cell's users as if they had one event at its
// start, hold the real level between them:
//
//   cap    chains through days d1 <= .. <= dk (the steps of a day in any
//          order) with dk - d1 <= the window in days, rounded up: every
//          real chain is one. Computed for all users at once as bit vectors
//          (per block of days, the users with such a chain starting in it),
//          a few thousand word operations a year, from each rollup's day
//          bits of the step features (PartitionRollup::day_user_bits: made
//          from the day cells once per rollup and feature, then OR-ed word
//          by word; turning the cells' 1.29M entries into bits on every
//          request was a quarter of the funnel's time at 10M events).
//   lower  chains through strictly later hours h1 < .. < hk that end within
//          the window however the seconds fall, (hk - h1) * 3600 + 3599 <=
//          window: any events of those cells are in step order and in the
//          window, so the user reaches step k.
//   upper  chains through hours h1 <= .. <= hk (the steps of an hour in any
//          order) with (hk - h1) * 3600 - 3599 <= window, the least their
//          real times can be apart: every real chain is one of them.
//
// lower and upper are funnel_chain.h's walk on hour numbers (the cells of an
// hour taken by descending step for the lower bound, so that none extends
// another of its hour; ascending for the upper). A user whose lower bound
// meets its cap is done, and the hour walks skip it from then on: users
// with a cap of 1 never enter them, and the heaviest users, who own most of
// the cells' entries, are done on their first day. Those users' hours are
// kept apart from the cells (FeatureHours::heavy_users), and the walks read
// them in chunks of time only while the user is not done, so the entries of
// the users done are mostly never read. Nor are a user's hours walked on
// days where no chain of days longer than its lower bound lies (the cap's
// chains of days, kept per block of days): every hour chain that could
// raise a bound or mark a month is such a chain of days, so the bounds are
// those of a walk of every day (on 100M generated events, 1.84M entries
// walked became 0.29M; the users whose bounds meet only at the year's end
// were walked every day). Where lower == upper the
// level is known. On 10M generated events (a 3-step funnel with a one-day
// window over the year), 19,631 of the 19,997 users' are, and the others
// own 64k rows: only theirs need reading (feature_funnel.cc).
//
// The cells count the rows of the parts their rollups cover. The hours the
// date window cuts, the parts no rollup covers yet and the unsealed rows are
// read as rows, each an event at its hour, so the bounds hold for exactly
// the rows the query sees. Filters on product_version or event_type: the
// cells do not split by them, and there are no bounds (nullopt).
//
//   std::optional<FunnelBounds> b = bound_funnel_levels(snapshot, filters, step_of, steps, window, stats);
//   for (size_t i = 0; i < b->users.size(); ++i) if (b->lower[i] == b->upper[i]) ...
//
// Thread-safety: a pure function of an immutable Snapshot.
#ifndef USAGEDB_QUERY_FUNNEL_BOUNDS_H_
#define USAGEDB_QUERY_FUNNEL_BOUNDS_H_

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "lib/query/scan.h"
#include "lib/query/snapshot.h"

namespace usagedb::query {

// The step of a feature code that is none of the funnel's.
inline constexpr uint8_t kNoStep = 0xFF;

struct FunnelBounds {
  // The users with an event of the first step (every other user is at
  // level 0), ascending, and per user the bounds of the level:
  // 1 <= lower[i] <= level <= upper[i] <= steps.
  std::vector<uint32_t> users;
  std::vector<uint8_t> lower;
  std::vector<uint8_t> upper;
  // Per user with lower < upper, the months that may hold a chain longer
  // than its lower bound (any other month's rows cannot raise the level):
  // bit j set for the month `first_month` + j (month ordinals: year * 12 +
  // month - 1), all bits set for every month (also those past the 64th).
  // The upper walk marks the months of each hour chain that ends above the
  // user's lower bound at the time, from the chain's last hour back by the
  // window (a real chain's first event can be no earlier): a real chain
  // above the final lower bound is such an hour chain, so it lies in marked
  // months, and walking the user's rows of those months alone (the others'
  // events left out: a chain of a subset of the events is a real one) finds
  // the level. 0 for a user whose bounds meet.
  std::vector<uint64_t> months;
  uint32_t first_month = 0;
  // The entries the hour walks read (each walk reads them all): what the
  // users done or idle leave out (for tests and measures).
  uint64_t walked = 0;

  // The ordinal of month `yyyymm` (year * 12 + month - 1), as first_month.
  static uint32_t month_ordinal(uint32_t yyyymm) { return yyyymm / 100 * 12 + yyyymm % 100 - 1; }

  // Whether the rows of month `yyyymm` may raise users[i]'s level above
  // lower[i].
  bool may_rise_in(size_t i, uint32_t yyyymm) const {
    const uint32_t ordinal = month_ordinal(yyyymm);
    if (ordinal < first_month) return true;  // before every month the bounds read: none expected
    if (ordinal - first_month >= 64) return months[i] == ~uint64_t{0};
    return (months[i] >> (ordinal - first_month)) & 1;
  }
};

// The bounds for the rows of `snapshot` that pass `filters` (its feature
// filter unused), for a funnel of `steps` whose feature codes map to their
// step in `step_of` (kNoStep: not a step; indexed by feature code), with
// `window` seconds. nullopt when the rollups cannot give them cheaply: a
// filter on product_version or event_type, or more than a quarter of the
// window's rows outside the rollups (reading those as rows would cost what
// the plain walk does), or more than 8 steps (the endpoint's most).
// `skip_idle_days` false: each user's hours are walked on every day until
// its level is known, not only on the days where a chain of days may raise
// it (the same bounds from more entries walked: for tests and measures).
std::optional<FunnelBounds> bound_funnel_levels(const Snapshot& snapshot, const ScanFilters& filters,
                                                std::span<const uint8_t> step_of, uint32_t steps, int64_t window,
                                                Stats& stats, bool skip_idle_days = true);

}  // namespace usagedb::query

#endif  // USAGEDB_QUERY_FUNNEL_BOUNDS_H_
