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
// events merged from its parts and unsealed rows by (timestamp, step) (a
// compacted month, one part, is walked as it is read). Only the users who
// have done the first step get a state, and the rows of those who reached
// the last step are dropped as they are read. The funnel of the three most
// used features of 10M generated events reads their 3.4M rows (a third of
// the table) and walks far fewer.
//
// What it costs (perf, 10M events, bench/RESULTS.md "Run 6"): most of its
// samples are on the loads of the user, timestamp and feature columns at
// the step rows, a third of the rows and so every cache line of those
// columns. Two ways to read fewer rows measured slower on this machine: a
// walk user by user through each part's user index, which skips the users
// already at the last step (77% of the step rows are theirs) and reads
// 0.8M timestamps instead of 3.4M rows, took twice as long, each of its
// reads a random one; marking each row's step from the steps' bitmaps
// instead of reading the feature column took a third longer. Capping each
// user at the steps whose features they have at all (from the rollups)
// spares nothing: the users still walking have all three.
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
// How far ahead of the step row being read the columns are prefetched.
constexpr uint32_t kPrefetchRows = 2048;

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
      if (!query::readable(snapshot, *part, f)) continue;
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

// The windowFunnel state of each user with a step event: the level reached
// and, per step, the first timestamp of the latest chain that reached it
// (kUnset: none), found through a table of slots by user code (4 bytes per
// user of the dictionary) and given out as users come.
//
// A user who reached the last step can reach no further: done() says so
// from a table of one byte per user (small enough to stay in the core's
// first cache), and the extraction drops the user's later events before
// they are walked. On generated data the heaviest users, who have most of
// the events, reach the last step on their first day.
class FunnelWalk {
 public:
  FunnelWalk(uint32_t users, size_t steps, int64_t window)
      : steps_(static_cast<uint32_t>(steps)),
        stride_(steps_ + 1),
        window_(static_cast<uint64_t>(window)),
        slot_(users, kNone),
        done_(users, 0) {}

  // Whether `user` reached the last step (1) or not (0).
  uint8_t done(uint32_t user) const { return done_[user]; }

  // Walks `events`, in (timestamp, step) order.
  void walk(std::span<const StepEvent> events) {
    // Two stages ahead: a user's slot, then (the slot there by then) the
    // user's state.
    constexpr size_t kSlotAhead = 16, kStateAhead = 8;
    for (size_t i = 0; i < events.size(); ++i) {
      if (i + kSlotAhead < events.size()) __builtin_prefetch(&slot_[events[i + kSlotAhead].user]);
      if (i + kStateAhead < events.size()) {
        const uint32_t s = slot_[events[i + kStateAhead].user];
        if (s != kNone) __builtin_prefetch(&state_[s]);
      }
      add(events[i]);
    }
  }

  // users[k]: the users who reached at least step k + 1.
  std::vector<uint64_t> users_per_step() const {
    std::vector<uint64_t> reached(steps_ + 1, 0);
    for (size_t s = 0; s < state_.size(); s += stride_) ++reached[state_[s]];
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

  void add(const StepEvent& e) {
    const auto step = static_cast<uint32_t>(e.key & 7);
    const auto timestamp = static_cast<uint32_t>(e.key >> 3);
    uint32_t s = slot_[e.user];
    if (step == 0) {
      if (s == kNone) s = start(e.user);  // once per user
      // [level, chain of step 1, .., chain of step N]: a chain starts now.
      uint32_t* state = &state_[s];
      state[1] = timestamp;
      state[0] = std::max<uint32_t>(state[0], 1);
      return;
    }
    if (s == kNone) return;  // no chain to extend
    uint32_t* state = &state_[s];
    const uint32_t chain = state[step];  // of the step before
    if (chain == kUnset || timestamp > uint64_t{chain} + window_ || state[0] == steps_) return;
    state[step + 1] = chain;
    if (step + 1 > state[0]) {
      state[0] = step + 1;
      done_[e.user] = state[0] == steps_;
    }
  }

  [[gnu::noinline]] uint32_t start(uint32_t user) {
    const auto s = static_cast<uint32_t>(state_.size());
    slot_[user] = s;
    state_.push_back(0);
    state_.resize(state_.size() + steps_, kUnset);
    return s;
  }

  const uint32_t steps_;
  const uint32_t stride_;
  const uint64_t window_;
  std::vector<uint32_t> slot_;   // by user code: the user's state in state_, or kNone
  std::vector<uint32_t> state_;  // stride_ entries per user
  std::vector<uint8_t> done_;    // by user code
};

// Feeds a FunnelWalk the events of a stream in timestamp order, batch by
// batch, in (timestamp, step) order: each batch joins the events held back,
// is ordered within its seconds, and is walked but for its last second,
// which the next batch may continue.
class OrderedStream {
 public:
  explicit OrderedStream(FunnelWalk& walk) : walk_(walk) {}

  std::vector<StepEvent>& buffer() { return events_; }

  // Walks what the buffer's new events complete.
  void release() {
    // The held second may continue in the new events: order from the start.
    order_steps_within_seconds(events_, 0, events_.size());
    size_t last_second = events_.size();
    while (last_second > 0 && (events_[last_second - 1].key >> 3) == (events_.back().key >> 3)) --last_second;
    walk_.walk(std::span<const StepEvent>(events_).first(last_second));
    events_.erase(events_.begin(), events_.begin() + static_cast<ptrdiff_t>(last_second));
  }
  void finish() {
    walk_.walk(events_);
    events_.clear();
  }

 private:
  FunnelWalk& walk_;
  std::vector<StepEvent> events_;
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
  // The step of each feature code (kNoStep: none), and the codes of the
  // steps that were ever stored.
  constexpr uint8_t kNoStep = 0xFF;
  std::vector<uint8_t> step_of(dicts.feature.size(), kNoStep);
  std::vector<uint32_t> step_codes;
  for (size_t i = 0; i < q.steps.size(); ++i) {
    if (const std::optional<uint32_t> code = dicts.feature.find(q.steps[i]); code && *code < step_of.size()) {
      step_of[*code] = static_cast<uint8_t>(i);
      step_codes.push_back(*code);
    }
  }
  const auto step_event = [&](uint32_t timestamp, uint32_t feature, uint32_t user) {
    return StepEvent{step_key(timestamp, step_of[feature]), user};
  };

  FunnelWalk walk(dicts.user.size(), q.steps.size(), q.window.count());
  bool matched = false;  // a row passed the filters
  std::vector<StepEvent> events;
  std::vector<size_t> runs;  // where each sorted run of `events` starts
  if (!filters.matches_nothing() && !step_codes.empty()) {
    for (const PartitionView& p : snapshot.partitions()) {
      if (!window->overlaps_month(p.month())) continue;
      // The partition's parts with rows of the steps, and those rows.
      struct Source {
        const Part* part;
        Bitmap rows;
      };
      std::vector<Source> sources;
      for (const auto& part : p.parts()) {
        if (!window->overlaps(*part) || !snapshot.pin(*part)) continue;
        const RowRange range = window->covers(*part) ? RowRange{0, part->rows()}
                                                     : part->time_range(window->begin, window->end);
        if (range.empty()) continue;
        std::vector<const Bitmap*> step_rows;
        for (const uint32_t code : step_codes) {
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
        if (!rows.empty()) sources.push_back(Source{part.get(), std::move(rows)});
      }
      // Appends the step events of `rows` of a part to `out`, but those of
      // users already at the last step (nothing can change for them),
      // without a branch on which: each row is written, and kept when its
      // user is not done. The columns' lines kPrefetchRows rows ahead are
      // asked for early: the reads wait on those loads, and the hardware's
      // own prefetcher stops at page boundaries.
      auto append_events = [&](const PartColumns& c, std::span<const uint32_t> rows, std::vector<StepEvent>& out) {
        size_t n = out.size();
        out.resize(n + rows.size());
        const auto last_row = static_cast<uint32_t>(c.user.size() - 1);
        for (const uint32_t row : rows) {
          if (filters.event_type.active && c.event_type[row] != filters.event_type.code) continue;
          matched = true;
          const uint32_t ahead = std::min(row + kPrefetchRows, last_row);
          __builtin_prefetch(&c.user[ahead]);
          __builtin_prefetch(&c.timestamp[ahead]);
          __builtin_prefetch(&c.feature[ahead]);
          const uint32_t user = c.user[row];
          out[n] = step_event(c.timestamp[row], c.feature[row], user);
          n += 1 - walk.done(user);
        }
        out.resize(n);
      };
      events.clear();
      query::scan_buffered(p, filters, stats, [&](const RowCodes& r) {
        matched = true;
        if (step_of[r.feature] != kNoStep) events.push_back(step_event(r.timestamp, r.feature, r.user));
      });
      if (sources.size() == 1 && events.empty()) {
        // One sorted run (a compacted month): walked as it is read.
        OrderedStream stream(walk);
        const PartColumns& c = sources[0].part->columns();
        sources[0].rows.for_each_batch([&](std::span<const uint32_t> rows) {
          append_events(c, rows, stream.buffer());
          stream.release();
        });
        stream.finish();
        continue;
      }
      // Several runs: the unsealed rows sorted, each part's events ordered
      // within its seconds, then all merged.
      std::sort(events.begin(), events.end());
      runs.assign(1, 0);
      for (const Source& source : sources) {
        const size_t begin = events.size();
        const PartColumns& c = source.part->columns();
        source.rows.for_each_batch([&](std::span<const uint32_t> rows) { append_events(c, rows, events); });
        order_steps_within_seconds(events, begin, events.size());
        runs.push_back(begin);
      }
      for (size_t r = 1; r < runs.size(); ++r) {
        const auto middle = events.begin() + static_cast<ptrdiff_t>(runs[r]);
        const auto end = r + 1 < runs.size() ? events.begin() + static_cast<ptrdiff_t>(runs[r + 1]) : events.end();
        std::inplace_merge(events.begin(), middle, end);
      }
      matched = matched || !events.empty();
      walk.walk(events);
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
