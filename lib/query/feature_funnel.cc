// SPEC 2.8: the funnel of windowFunnel(window) in its default mode.
//
// ClickHouse collects each user's (timestamp, step) events, sorts them by
// timestamp then step, and walks them once keeping, per step k, the first
// timestamp of the latest chain that reached k: an event of step 1 starts a
// chain at its time; an event of step k > 1 extends the chain of step k - 1
// when it is at most `window` after that chain's first event. The level is
// the highest step reached. Keeping the latest start is never worse (a later
// start leaves more of the window), so this finds whether any events e1..ek
// with t1 <= .. <= tk and tk - t1 <= window exist.
//
// Here the walk runs over every user at once, in time order: the rows of the
// funnel's features (the parts' feature bitmaps, restricted to the window
// by binary search on the sorted timestamps, and intersected with the
// version bitmap), partition by partition (months ascend), each partition's
// events merged from its parts and unsealed rows by (timestamp, step). Only
// the users who have done the first step get a state. A 3-step funnel over
// 10M events reads the ~20% of rows that belong to its features.
#include <algorithm>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/query/endpoints.h"
#include "lib/query/scan.h"

namespace usagedb {
namespace {

constexpr size_t kMinSteps = 2;
constexpr size_t kMaxSteps = 8;
constexpr int64_t kMaxWindow = 365 * 86400;

// One event of a funnel step: (timestamp << 3 | step index), the user.
struct StepEvent {
  uint64_t key;
  uint32_t user;
};
bool operator<(const StepEvent& a, const StepEvent& b) { return a.key < b.key; }

uint64_t step_key(uint32_t timestamp, uint32_t step) { return (static_cast<uint64_t>(timestamp) << 3) | step; }

// Sorts `events[begin, end)`, already in timestamp order but with the steps
// of one second in any order, by key: an insertion sort, which moves each
// event at most as far as its second's other events.
void order_steps_within_seconds(std::vector<StepEvent>& events, size_t begin, size_t end) {
  for (size_t i = begin + 1; i < end; ++i) {
    const StepEvent e = events[i];
    size_t j = i;
    for (; j > begin && e.key < events[j - 1].key; --j) events[j] = events[j - 1];
    events[j] = e;
  }
}

absl::Status check_funnel(const FeatureFunnelQuery& q) {
  if (q.steps.size() < kMinSteps || q.steps.size() > kMaxSteps) {
    return absl::InvalidArgumentError(
        absl::StrCat("steps: expected ", kMinSteps, " to ", kMaxSteps, " feature_ids, got ", q.steps.size()));
  }
  absl::flat_hash_set<std::string_view> seen;
  for (size_t i = 0; i < q.steps.size(); ++i) {
    if (q.steps[i].empty()) return absl::InvalidArgumentError(absl::StrCat("steps: step ", i + 1, " is empty"));
    if (!seen.insert(q.steps[i]).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("steps: '", q.steps[i], "' is given more than once: the steps must be distinct"));
    }
  }
  if (q.window.count() < 1 || q.window.count() > kMaxWindow) {
    return absl::InvalidArgumentError(
        absl::StrCat("window: expected an integer from 1 to ", kMaxWindow, ", got '", q.window.count(), "'"));
  }
  return absl::OkStatus();
}

// Whether any row passes `f`, in any feature.
bool any_row(const Snapshot& snapshot, const query::ScanFilters& f, query::Stats& stats) {
  if (f.matches_nothing()) return false;
  bool found = false;
  auto visit = [&](const RowCodes&) { found = true; };
  for (const PartitionView& p : snapshot.partitions()) {
    if (!f.window.overlaps_month(p.month())) continue;
    for (const auto& part : p.parts()) {
      if (!f.event_type.active) {
        // No row to read: the window's rows, in the version's bitmap.
        const RowRange range = part->time_range(f.window.begin, f.window.end);
        if (range.empty()) continue;
        if (!f.version.active) return true;
        const Bitmap* rows = part->version_rows(f.version.code);
        if (rows != nullptr && rows->range_cardinality(range.begin, range.end) > 0) return true;
        continue;
      }
      query::scan_part(*part, f, stats, visit);
      if (found) return true;
    }
    query::scan_buffered(p, f, stats, visit);
    if (found) return true;
  }
  return false;
}

// The windowFunnel state of the users who did the first step.
class FunnelWalk {
 public:
  FunnelWalk(uint32_t users, size_t steps, int64_t window)
      : slot_(users, kNone), steps_(steps), window_(static_cast<uint64_t>(window)) {}

  void add(const StepEvent& e) {
    const auto step = static_cast<uint32_t>(e.key & 7);
    const auto timestamp = static_cast<uint32_t>(e.key >> 3);
    uint32_t s = slot_[e.user];
    if (step == 0) {
      if (s == kNone) {
        s = slot_[e.user] = static_cast<uint32_t>(level_.size());
        level_.push_back(0);
        first_.resize(first_.size() + steps_, kUnset);
      }
      first_[s * steps_] = timestamp;
      level_[s] = std::max<uint8_t>(level_[s], 1);
      return;
    }
    if (s == kNone) return;
    const uint32_t chain = first_[s * steps_ + step - 1];
    if (chain == kUnset || timestamp > uint64_t{chain} + window_) return;
    first_[s * steps_ + step] = chain;
    level_[s] = std::max<uint8_t>(level_[s], static_cast<uint8_t>(step + 1));
  }

  // users[k]: the users who reached at least step k + 1.
  std::vector<uint64_t> users_per_step() const {
    std::vector<uint64_t> reached(steps_ + 1, 0);
    for (const uint8_t l : level_) ++reached[l];
    std::vector<uint64_t> out(steps_, 0);
    uint64_t at_least = 0;
    for (size_t k = steps_; k >= 1; --k) {
      at_least += reached[k];
      out[k - 1] = at_least;
    }
    return out;
  }

 private:
  static constexpr uint32_t kNone = UINT32_MAX;
  // Timestamps end at 2105-12-31 23:59:59 (4291747199): never this.
  static constexpr uint32_t kUnset = UINT32_MAX;
  std::vector<uint32_t> slot_;   // by user code: the user's state, or kNone
  std::vector<uint8_t> level_;   // by state
  std::vector<uint32_t> first_;  // by state and step: the first timestamp of the chain at that step
  const size_t steps_;
  const uint64_t window_;
};

}  // namespace

absl::StatusOr<QueryResult<FeatureFunnelRow>> run_feature_funnel(const Snapshot& snapshot, const FeatureFunnelQuery& q) {
  query::Stats stats;
  if (absl::Status s = check_funnel(q); !s.ok()) return s;
  auto window = query::make_window(q.start_date, q.end_date);
  if (!window.ok()) return window.status();
  const Dictionaries& dicts = snapshot.dictionaries();
  // The condition of the SQL's WHERE: every filter but the steps.
  const query::ScanFilters filters{{},
                                   query::resolve_filter(dicts.version, q.product_version),
                                   query::resolve_filter(dicts.event_type, q.event_type), *window};
  // The feature code of each step that was ever stored, and the step of a code.
  std::vector<std::pair<uint32_t, uint32_t>> step_codes;  // (feature code, step index)
  for (size_t i = 0; i < q.steps.size(); ++i) {
    if (const std::optional<uint32_t> code = dicts.feature.find(q.steps[i])) {
      step_codes.emplace_back(*code, static_cast<uint32_t>(i));
    }
  }
  auto step_of = [&](uint32_t feature) -> int {
    for (const auto& [code, step] : step_codes) {
      if (code == feature) return static_cast<int>(step);
    }
    return -1;
  };

  FunnelWalk walk(dicts.user.size(), q.steps.size(), q.window.count());
  bool matched = false;  // a row passed the filters
  std::vector<StepEvent> events;
  std::vector<size_t> runs;  // where each sorted run of `events` starts
  if (!filters.matches_nothing() && !step_codes.empty()) {
    for (const PartitionView& p : snapshot.partitions()) {
      if (!window->overlaps_month(p.month())) continue;
      events.clear();
      runs.clear();
      for (const auto& part : p.parts()) {
        const RowRange range = window->covers(*part) ? RowRange{0, part->rows()}
                                                     : part->time_range(window->begin, window->end);
        if (range.empty()) continue;
        std::vector<const Bitmap*> step_rows;
        for (const auto& [code, step] : step_codes) {
          if (const Bitmap* rows = part->feature_rows(code)) step_rows.push_back(rows);
        }
        if (step_rows.empty()) continue;
        Bitmap rows = Bitmap::union_of(step_rows);
        if (filters.version.active) {
          const Bitmap* version_rows = part->version_rows(filters.version.code);
          if (version_rows == nullptr) continue;
          rows.intersect_with(*version_rows);
        }
        if (range.size() != part->rows()) rows.intersect_with(Bitmap::from_range(range.begin, range.end));
        stats.read_rows(rows.cardinality(), 4 * sizeof(uint32_t));
        const PartColumns& c = part->columns();
        const size_t begin = events.size();
        rows.for_each([&](uint32_t row) {
          if (!filters.event_type.accepts(c.event_type[row])) return;
          events.push_back(StepEvent{step_key(c.timestamp[row], static_cast<uint32_t>(step_of(c.feature[row]))),
                                     c.user[row]});
        });
        order_steps_within_seconds(events, begin, events.size());
        if (events.size() > begin) runs.push_back(begin);
      }
      const size_t buffered = events.size();
      query::scan_buffered(p, filters, stats, [&](const RowCodes& r) {
        matched = true;
        const int step = step_of(r.feature);
        if (step >= 0) events.push_back(StepEvent{step_key(r.timestamp, static_cast<uint32_t>(step)), r.user});
      });
      if (events.size() > buffered) {
        std::sort(events.begin() + static_cast<ptrdiff_t>(buffered), events.end());
        runs.push_back(buffered);
      }
      // Merge the sorted runs (a partition has a few parts).
      for (size_t r = 1; r < runs.size(); ++r) {
        const auto middle = events.begin() + static_cast<ptrdiff_t>(runs[r]);
        const auto end = r + 1 < runs.size() ? events.begin() + static_cast<ptrdiff_t>(runs[r + 1]) : events.end();
        std::inplace_merge(events.begin(), middle, end);
      }
      matched = matched || !events.empty();
      for (const StepEvent& e : events) walk.add(e);
    }
  }
  // No row at all: the SQL's `levels` has no user, and ARRAY JOIN no step.
  if (!matched) matched = any_row(snapshot, filters, stats);
  if (!matched) return query::page<FeatureFunnelRow>({}, q.limit, q.skip, stats);
  const std::vector<uint64_t> users = walk.users_per_step();
  std::vector<FeatureFunnelRow> rows;
  for (size_t k = 0; k < q.steps.size(); ++k) rows.push_back(FeatureFunnelRow{k + 1, q.steps[k], users[k]});
  return query::page(std::move(rows), q.limit, q.skip, stats);
}

}  // namespace usagedb
