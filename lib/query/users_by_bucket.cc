#include "lib/query/users_by_bucket.h"

#include <algorithm>
#include <utility>

#include "lib/query/local_cover.h"
#include "lib/query/local_timeline.h"
#include "lib/query/rollup_cover.h"
#include "lib/rollup/version_timeline.h"
#include "lib/util/civil_time.h"

namespace usagedb::query {
namespace {

// The user sets being made, by bucket start: codes from rows are added as
// they come, the rollups' bitmaps and cells' sorted arrays united all at
// once at the end (Bitmap::union_of, union_of_ascending). `BucketOf`: the
// bucket start of an instant (UTC, or a zone's Bucketer).
template <typename BucketOf>
class Buckets {
 public:
  explicit Buckets(BucketOf bucket_of) : bucket_of_(std::move(bucket_of)) {}

  void add_row(int64_t t, uint32_t user) {
    const int64_t b = bucket_of_(t);
    if (last_ == nullptr || b != last_bucket_) {
      last_ = &sets_[b];  // map nodes stay put
      last_bucket_ = b;
    }
    last_->users.add(user);
  }

  // `users`: strictly ascending codes of events at time `t`.
  void add_users(int64_t t, std::span<const uint32_t> users) { sets_[bucket_of_(t)].cells.push_back(users); }

  // `users`: the users of events at time `t`, a rollup's (alive while the
  // snapshot is: the result may point to it).
  void add_users(int64_t t, const Bitmap& users) { sets_[bucket_of_(t)].bitmaps.push_back(&users); }

  std::map<int64_t, BucketUsers> finish() && {
    std::map<int64_t, BucketUsers> out;
    for (auto& [bucket, set] : sets_) {
      if (set.bitmaps.size() == 1 && set.cells.empty() && set.users.empty()) {
        // One rollup bitmap answers the bucket: no copy.
        if (!set.bitmaps[0]->empty()) out.emplace_hint(out.end(), bucket, BucketUsers(set.bitmaps[0]));
        continue;
      }
      // All at once: a week of small day bitmaps united one by one would
      // convert its containers over and over.
      const Bitmap cells = Bitmap::union_of_ascending(set.cells);
      set.bitmaps.push_back(&cells);
      set.bitmaps.push_back(&set.users);
      Bitmap users = Bitmap::union_of(set.bitmaps);
      if (!users.empty()) out.emplace_hint(out.end(), bucket, BucketUsers(std::move(users)));
    }
    return out;
  }

 private:
  struct Set {
    Bitmap users;                                  // from rows
    std::vector<const Bitmap*> bitmaps;            // rollup bitmaps
    std::vector<std::span<const uint32_t>> cells;  // rollup cells' arrays
  };
  BucketOf bucket_of_;
  std::map<int64_t, Set> sets_;
  Set* last_ = nullptr;
  int64_t last_bucket_ = 0;
};

// The users of every partition in f's window, in `buckets`:
// from_rollups(partition, buckets, visit) adds what a partition's rollups
// answer (and reads the rows of their parts that no cell covers) where the
// request filters at most on feature_id (the rollups group by feature
// alone); every other row is read here.
template <typename BucketsT, typename FromRollups>
std::map<int64_t, BucketUsers> collect(const Snapshot& snapshot, const ScanFilters& f, BucketsT buckets, Stats& stats,
                                  FromRollups&& from_rollups) {
  if (f.matches_nothing()) return std::move(buckets).finish();
  auto visit = [&](const RowCodes& r) { buckets.add_row(r.timestamp, r.user); };
  const bool cells_answer = !f.version.active && !f.event_type.active;
  for (const PartitionView& p : snapshot.partitions()) {
    if (!f.window.overlaps_month(p.month())) continue;
    const bool rolled = cells_answer && !p.rollups().empty();
    for (const auto& part : p.parts()) {
      if (rolled && p.covered(*part)) continue;
      if (const HeldPart held = readable(snapshot, *part, f)) scan_part(*part, f, stats, visit);
    }
    if (rolled) from_rollups(p, buckets, visit);
    scan_buffered(p, f, stats, visit);
  }
  return std::move(buckets).finish();
}

// The UTC buckets (rollup_cover.h: the rollup's own cells, whole days
// from the activity bitmaps).
std::map<int64_t, BucketUsers> utc_users_by_bucket(const Snapshot& snapshot, const ScanFilters& f, Granularity g,
                                              Stats& stats) {
  const auto from_rollups = [&](const PartitionView& p, auto& buckets, auto& visit) {
    const RollupCover cover = cover_month(p.month(), f.window);
    for (const CoveredRollup& e : p.rollups().entries()) {
      const PartitionRollup& rollup = *e.rollup;
      auto add_cells = [&](Granularity level_g, const TimeWindow& w) {
        if (w.empty()) return;
        const TimelineLevel& level = rollup.timeline(level_g);
        const std::span<const TimelineCell> cells = level.cells_between(w.begin, w.end);
        for (const TimelineCell& c : cells) {
          if (f.feature.accepts(c.feature)) buckets.add_users(c.bucket, level.users(c));
        }
        stats.read_rows(cells.size(), sizeof(TimelineCell));
      };
      if (f.feature.active) {
        add_cells(Granularity::kDay, cover.days);
      } else if (g == Granularity::kMonth && cover.whole_month) {
        buckets.add_users(cover.month.begin, rollup.activity().month_users());
        stats.read_rows(1, sizeof(DayUsers));
      } else if (!cover.days.empty()) {
        // Every feature's users of each day, united already.
        const std::span<const DayUsers> days = rollup.activity().days_between(cover.days.begin, cover.days.end);
        for (const DayUsers& d : days) buckets.add_users(d.day, d.users);
        stats.read_rows(days.size(), sizeof(DayUsers));
      }
      add_cells(Granularity::kHour, cover.hours[0]);
      add_cells(Granularity::kHour, cover.hours[1]);
    }
    for (const TimeWindow& edge : cover.rows) {
      if (edge.empty()) continue;
      ScanFilters in_edge = f;
      in_edge.window = edge;
      for (const auto& part : p.parts()) {
        if (!p.covered(*part)) continue;
        if (const HeldPart held = readable(snapshot, *part, in_edge)) scan_part(*part, in_edge, stats, visit);
      }
    }
  };
  const auto utc_bucket = [g](int64_t t) { return bucket_start(g, t); };
  return collect(snapshot, f, Buckets(utc_bucket), stats, from_rollups);
}

// The local buckets (local_cover.h): the cells that lie whole in one
// bucket, each counted in its first instant's bucket; without a feature
// filter every feature's users of a day come from the activity bitmaps and
// of an hour from the version timeline's active cells (one cell an hour),
// else the feature's cells. The rows of the hours a local boundary cuts
// are read.
std::map<int64_t, BucketUsers> local_users_by_bucket(const Snapshot& snapshot, const ScanFilters& f, Granularity g,
                                                const TimeZone& zone, Stats& stats) {
  const auto from_rollups = [&](const PartitionView& p, auto& buckets, auto& visit) {
    const int64_t month_begin = civil::month_start(p.month());
    for (const CoverSegment& s : cover_local(p.month(), f.window, zone, g)) {
      if (s.source == CoverSource::kRows) {
        ScanFilters edge = f;
        edge.window = TimeWindow{s.begin, s.end};
        for (const auto& part : p.parts()) {
          if (!p.covered(*part)) continue;
          if (const HeldPart held = readable(snapshot, *part, edge)) scan_part(*part, edge, stats, visit);
        }
        continue;
      }
      for (const CoveredRollup& e : p.rollups().entries()) {
        const PartitionRollup& rollup = *e.rollup;
        const TimelineLevel* level = nullptr;  // cells to read; null: bitmaps
        if (f.feature.active) {
          level = &rollup.timeline(cell_granularity(s.source));
        } else if (s.source == CoverSource::kMonthCells) {
          buckets.add_users(month_begin, rollup.activity().month_users());
          stats.read_rows(1, sizeof(DayUsers));
        } else if (s.source != CoverSource::kHourCells) {
          // Whole UTC days, each inside one bucket.
          const std::span<const DayUsers> days = rollup.activity().days_between(s.begin, s.end);
          for (const DayUsers& d : days) buckets.add_users(d.day, d.users);
          stats.read_rows(days.size(), sizeof(DayUsers));
        } else if (const VersionTimeline* versions = rollup.versions()) {
          level = &versions->active[static_cast<int>(Granularity::kHour)];
        } else {
          level = &rollup.timeline(Granularity::kHour);
        }
        if (level == nullptr) continue;
        uint64_t read = 0;
        const auto add_cell = [&](const TimelineCell& c) {
          buckets.add_users(std::max<int64_t>(c.bucket, month_begin), level->users(c));
          ++read;
        };
        const int64_t first = cell_start(s.source, s.begin);
        if (f.feature.active && s.source == CoverSource::kHourCells) {
          for_each_hour_cell_of(rollup, f.feature.code, first, s.end, add_cell);
        } else {
          for_each_cell_with_key(level->cells_between(first, s.end), f.feature.active ? &f.feature.code : nullptr,
                                 add_cell);
        }
        stats.read_rows(read, sizeof(TimelineCell));
      }
    }
  };
  return collect(snapshot, f, Buckets(TimeZone::Bucketer(zone, g)), stats, from_rollups);
}

}  // namespace

int64_t bucket_start(Granularity g, int64_t t) {
  switch (g) {
    case Granularity::kHour:
      return civil::start_of_hour(t);
    case Granularity::kDay:
      return civil::start_of_day(t);
    case Granularity::kWeek:
      return civil::start_of_week(t);
    case Granularity::kMonth:
      return civil::start_of_month(t);
  }
  return t;
}

std::map<int64_t, BucketUsers> users_by_bucket(const Snapshot& snapshot, const ScanFilters& f, Granularity g,
                                          const TimeZone& zone, Stats& stats) {
  return zone.is_utc() ? utc_users_by_bucket(snapshot, f, g, stats)
                       : local_users_by_bucket(snapshot, f, g, zone, stats);
}

}  // namespace usagedb::query
