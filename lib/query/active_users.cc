// SPEC 2.6: active users per day over a window of window_days days.
//
// The users of each day of [S - window_days + 1, E) (users_by_bucket.h: the
// rollups' day cells, rows for the rest); then the distinct users of each
// window [d - w + 1, d] as the cardinality of a union of day bitmaps, by
// van Herk / Gil-Werman: the days are cut into blocks of w days, and a
// window is the suffix of one block (unions of each block's days from its
// end, made once per block) joined to the prefix of the next (a running
// union), so each day costs about three bitmap operations whatever w is.
#include <algorithm>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/query/endpoints.h"
#include "lib/query/users_by_bucket.h"
#include "lib/util/civil_time.h"

namespace usagedb {
namespace {

// |∪ days[d - w + 1 .. d]| for each d in [first, first + out->size()),
// where days[k - base] is the bitmap of day k (null: nobody).
void window_counts(const std::vector<const Bitmap*>& days, int64_t base, int64_t first, uint32_t w,
                   std::vector<uint64_t>* out) {
  const auto day = [&](int64_t k) -> const Bitmap* {
    return k >= base && k - base < static_cast<int64_t>(days.size()) ? days[static_cast<size_t>(k - base)] : nullptr;
  };
  const int64_t end = first + static_cast<int64_t>(out->size());
  if (w == 1) {
    for (int64_t d = first; d < end; ++d) {
      if (const Bitmap* b = day(d)) (*out)[static_cast<size_t>(d - first)] = b->cardinality();
    }
    return;
  }
  // Blocks of w days from the first window's first day.
  const int64_t origin = first - (w - 1);
  std::vector<Bitmap> suffix_storage(w);
  std::vector<const Bitmap*> suffix(w + 1, nullptr);  // of the previous block; [w] = none
  std::vector<Bitmap> next_storage(w);
  std::vector<const Bitmap*> next(w + 1, nullptr);
  for (int64_t block = origin; block < end; block += w) {
    // This block's prefixes, each joined to the previous block's suffix.
    Bitmap prefix;
    for (uint32_t i = 0; i < w && block + i < end; ++i) {
      const int64_t d = block + i;
      if (const Bitmap* b = day(d)) prefix.union_with(*b);
      if (d < first) continue;
      const Bitmap* rest = i + 1 < w ? suffix[i + 1] : nullptr;
      (*out)[static_cast<size_t>(d - first)] = rest == nullptr ? prefix.cardinality() : prefix.or_cardinality(*rest);
    }
    if (block + w >= end) break;
    // This block's suffixes, for the next block (a day with nobody shares
    // the suffix after it).
    next[w] = nullptr;
    for (int64_t i = w - 1; i >= 0; --i) {
      const Bitmap* b = day(block + i);
      if (b == nullptr) {
        next[i] = next[i + 1];
      } else if (next[i + 1] == nullptr) {
        next[i] = b;
      } else {
        next_storage[i] = next[i + 1]->copy();
        next_storage[i].union_with(*b);
        next[i] = &next_storage[i];
      }
    }
    std::swap(suffix_storage, next_storage);
    // The pointers into the storage move with the swap of the vectors'
    // buffers: std::vector's swap keeps the elements where they are.
    std::swap(suffix, next);
  }
}

}  // namespace

absl::StatusOr<QueryResult<ActiveUsersRow>> run_active_users(const Snapshot& snapshot, const ActiveUsersQuery& q) {
  query::Stats stats;
  if (q.window_days < 1 || q.window_days > 365) {
    return absl::InvalidArgumentError(
        absl::StrCat("window_days: expected an integer from 1 to 365, got '", q.window_days, "'"));
  }
  std::optional<Timestamp> start, end;
  if (q.start_date) start = Timestamp(*q.start_date);
  if (q.end_date) end = Timestamp(*q.end_date);
  if (absl::StatusOr<query::TimeWindow> checked = query::make_window(start, end); !checked.ok()) {
    return checked.status();
  }
  const int64_t w = q.window_days;
  // Days, as day numbers since 1970-01-01.
  std::optional<int64_t> first_day, end_day;
  if (q.start_date) first_day = q.start_date->time_since_epoch().count();
  if (q.end_date) end_day = q.end_date->time_since_epoch().count();

  const Dictionaries& dicts = snapshot.dictionaries();
  query::TimeWindow window;
  if (first_day) window.begin = std::max<int64_t>(0, *first_day - (w - 1)) * civil::kSecondsPerDay;
  if (end_day) window.end = *end_day * civil::kSecondsPerDay;
  const query::ScanFilters filters{query::resolve_filter(dicts.feature, q.feature_id),
                                   query::resolve_filter(dicts.version, q.product_version),
                                   query::resolve_filter(dicts.event_type, q.event_type), window};
  const std::map<int64_t, Bitmap> days = query::users_by_bucket(snapshot, filters, Granularity::kDay, stats);

  // Defaults: the first day with a matching event, the day after the last.
  if (!first_day || !end_day) {
    if (days.empty()) return query::page<ActiveUsersRow>({}, q.limit, q.skip, stats);
    if (!first_day) first_day = civil::floor_div(days.begin()->first, civil::kSecondsPerDay);
    if (!end_day) end_day = civil::floor_div(days.rbegin()->first, civil::kSecondsPerDay) + 1;
  }
  if (*first_day >= *end_day) return query::page<ActiveUsersRow>({}, q.limit, q.skip, stats);

  const int64_t base = *first_day - (w - 1);
  std::vector<const Bitmap*> by_day(static_cast<size_t>(*end_day - base), nullptr);
  for (const auto& [start_second, users] : days) {
    const int64_t d = civil::floor_div(start_second, civil::kSecondsPerDay);
    if (d >= base && d < *end_day) by_day[static_cast<size_t>(d - base)] = &users;
  }
  std::vector<uint64_t> counts(static_cast<size_t>(*end_day - *first_day), 0);
  window_counts(by_day, base, *first_day, q.window_days, &counts);
  return query::page_of<ActiveUsersRow>(counts.size(), q.limit, q.skip, stats, [&](size_t i) {
    return ActiveUsersRow{std::chrono::sys_days{std::chrono::days{*first_day + static_cast<int64_t>(i)}}, counts[i]};
  });
}

}  // namespace usagedb
