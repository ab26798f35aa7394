#include "lib/query/users_by_bucket.h"

#include "lib/query/rollup_cover.h"
#include "lib/util/civil_time.h"

namespace usagedb::query {
namespace {

// The user sets being made, by bucket start.
class Buckets {
 public:
  explicit Buckets(Granularity g) : g_(g) {}

  void add_row(int64_t t, uint32_t user) {
    const int64_t b = bucket_start(g_, t);
    if (last_ == nullptr || b != last_bucket_) {
      last_ = &sets_[b];  // map nodes stay put
      last_bucket_ = b;
    }
    last_->add(user);
  }

  // `users`: strictly ascending codes of events at time `t`.
  void add_users(int64_t t, std::span<const uint32_t> users) {
    Bitmap& set = sets_[bucket_start(g_, t)];
    if (set.empty()) {
      set = Bitmap::from_strictly_ascending(users);
    } else {
      set.add_many(users);
    }
  }

  std::map<int64_t, Bitmap> finish() && {
    std::erase_if(sets_, [](const auto& entry) { return entry.second.empty(); });
    return std::move(sets_);
  }

 private:
  const Granularity g_;
  std::map<int64_t, Bitmap> sets_;
  Bitmap* last_ = nullptr;
  int64_t last_bucket_ = 0;
};

}  // namespace

int64_t bucket_start(Granularity g, int64_t t) {
  switch (g) {
    case Granularity::kHour: return civil::start_of_hour(t);
    case Granularity::kDay: return civil::start_of_day(t);
    case Granularity::kWeek: return civil::start_of_week(t);
    case Granularity::kMonth: return civil::start_of_month(t);
  }
  return t;
}

std::map<int64_t, Bitmap> users_by_bucket(const Snapshot& snapshot, const ScanFilters& f, Granularity g,
                                          Stats& stats) {
  Buckets buckets(g);
  if (f.matches_nothing()) return std::move(buckets).finish();
  auto visit = [&](const RowCodes& r) { buckets.add_row(r.timestamp, r.user); };
  // The rollups group by feature alone.
  const bool cells_answer = !f.version.active && !f.event_type.active;
  for (const PartitionView& p : snapshot.partitions()) {
    if (!f.window.overlaps_month(p.month())) continue;
    const PartitionRollup* rollup = cells_answer ? p.rollup() : nullptr;
    if (rollup == nullptr) {
      for (const auto& part : p.parts()) scan_part(*part, f, stats, visit);
      scan_buffered(p, f, stats, visit);
      continue;
    }
    const RollupCover cover = cover_month(p.month(), f.window);
    auto add_cells = [&](Granularity level_g, const TimeWindow& w) {
      if (w.empty()) return;
      const TimelineLevel& level = rollup->timeline(level_g);
      const std::span<const TimelineCell> cells = level.cells_between(w.begin, w.end);
      for (const TimelineCell& c : cells) {
        if (f.feature.accepts(c.feature)) buckets.add_users(c.bucket, level.users(c));
      }
      stats.read_rows(cells.size(), sizeof(TimelineCell));
    };
    add_cells(Granularity::kDay, cover.days);
    add_cells(Granularity::kHour, cover.hours[0]);
    add_cells(Granularity::kHour, cover.hours[1]);
    for (const auto& part : p.parts()) {
      if (!p.rolled_up(*part)) {
        scan_part(*part, f, stats, visit);
        continue;
      }
      for (const TimeWindow& edge : cover.rows) {
        if (edge.empty()) continue;
        ScanFilters in_edge = f;
        in_edge.window = edge;
        scan_part(*part, in_edge, stats, visit);
      }
    }
    scan_buffered(p, f, stats, visit);
  }
  return std::move(buckets).finish();
}

}  // namespace usagedb::query
