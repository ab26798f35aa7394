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
// Without a filter on product_version or event_type, the rollups bound
// each user's level first (funnel_bounds.h: the steps' day cells, then their
// hour cells, no row read): the users whose bounds meet are counted, and
// only the others' rows are walked, each user's own through the parts' user
// indexes (walk_user_rows(), a user stopping at its upper bound), and only
// in the months where the hour walk saw a chain that may raise the user
// above its lower bound (FunnelBounds::months: on that funnel the walk of
// the open users' rows fell from 20% of the query's samples to 5%). On the
// funnel of the three most used features of 10M generated events (one day,
// the year), the bounds settle 19,631 of 19,997 users and the rest own 64k
// rows. In a partition where the rows of the users left would cost more
// read one by one than the streamed walk below (kUserRowCost), or when
// there are no bounds, the streamed walk reads every step row, dropping
// those of settled users. Both walks share one state per user, so each
// partition chooses for itself and its parts are held, and so read from a
// lazy store, once (walk_rows(): a year larger than the part cache is read
// once per query, not once to choose and again to walk). Of a lazy part,
// the users' rows are read from its rows by user (Part::user_ordered_rows():
// 4 bytes a row, kept in the cache's budget without the part's columns), so
// a year larger than the cache is not read again by the next funnel (at
// 100M events the year's rows by user take ~400 MB, its parts ~4.8 GB).
//
// The streamed walk runs over every user at once, in time order: the rows of
// the funnel's features (the parts' feature bitmaps, restricted to the window
// by binary search on the sorted timestamps, and intersected with the
// version bitmap), partition by partition (months ascend), each partition's
// events merged from its parts and unsealed rows by (timestamp, step) (a
// compacted month, one part, is walked as it is read). Only the users who
// have done the first step get a state, and the rows of those who reached
// the last step are dropped as they are read. It reads the 3.4M step rows
// of that funnel (a third of the table): most of its samples are on the
// loads of the user, timestamp and feature columns there, every cache line
// of those columns (bench/RESULTS.md "Run 6"), and the bounds cost less
// than that read ("Run 7").
#include <algorithm>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/query/endpoints.h"
#include "lib/query/funnel_bounds.h"
#include "lib/query/funnel_chain.h"
#include "lib/query/scan.h"
#include "lib/table/user_ordered_rows.h"

namespace usagedb {
namespace {

constexpr size_t kMinSteps = 2;
constexpr size_t kMaxSteps = 8;
constexpr int64_t kMaxWindow = 365 * 86400;
// How far ahead of the step row being read the columns are prefetched.
constexpr uint32_t kPrefetchRows = 2048;
// The same for the rows of one user read through a part's user index.
constexpr size_t kUserRowsAhead = 16;

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
      const HeldPart held = query::readable(snapshot, *part, f);
      if (!held) continue;
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

// The windowFunnel state of each user with a step event (funnel_chain.h),
// found through a table of slots by user code (4 bytes per user of the
// dictionary) and given out as users come.
//
// A user who reached the last step can reach no further, and one whose
// level is known otherwise (settle()) needs no walk: skip() says so from a
// table of one byte per user (small enough to stay in the core's first
// cache), and the extraction drops the user's later events before they are
// walked. On generated data the heaviest users, who have most of the
// events, reach the last step on their first day.
class FunnelWalk {
 public:
  FunnelWalk(uint32_t users, size_t steps, int64_t window)
      : steps_(static_cast<uint32_t>(steps)),
        stride_(steps_ + 1),
        window_(static_cast<uint64_t>(window)),
        slot_(users, kNone),
        skip_(users, 0) {}

  // Whether the events of `user` change nothing (1) or may (0).
  uint8_t skip(uint32_t user) const { return skip_[user]; }
  // The level of `user` is known: its events are not walked, and it is
  // left out of levels().
  void settle(uint32_t user) { skip_[user] = 1; }
  // `user` is known to reach `level` (a lower bound): its state starts
  // there, and its events may raise it (the events walked may be some of
  // the user's only: FunnelBounds::months).
  void seed(uint32_t user, uint32_t level) {
    uint32_t s = slot_[user];
    if (s == kNone) s = start(user);
    state_[s] = std::max(state_[s], level);
  }

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

  // Walks the events of one user, step_key()s in (timestamp, step) order;
  // the user is skipped from then on once at `most`, the most it can reach.
  void walk_user(uint32_t user, std::span<const uint64_t> keys, uint32_t most) {
    for (const uint64_t key : keys) {
      add(StepEvent{key, user});
      if (skip_[user]) return;
      if (const uint32_t s = slot_[user]; s != kNone && state_[s] >= most) {
        skip_[user] = 1;
        return;
      }
    }
  }

  // Adds to levels[k] the users walked who reached level k.
  void add_levels(std::vector<uint64_t>& levels) const {
    for (size_t s = 0; s < state_.size(); s += stride_) ++levels[state_[s]];
  }

 private:
  static constexpr uint32_t kNone = UINT32_MAX;

  void add(const StepEvent& e) {
    if (skip_[e.user]) return;
    const auto step = static_cast<uint32_t>(e.key & 7);
    uint32_t s = slot_[e.user];
    if (s == kNone) {
      if (step != 0) return;  // no chain to extend
      s = start(e.user);      // once per user
    }
    uint32_t* state = &state_[s];
    query::advance_chain(state, steps_, static_cast<uint32_t>(e.key >> 3), step, window_);
    skip_[e.user] = state[0] == steps_;
  }

  [[gnu::noinline]] uint32_t start(uint32_t user) {
    const auto s = static_cast<uint32_t>(state_.size());
    slot_[user] = s;
    state_.push_back(0);
    state_.resize(state_.size() + steps_, query::kUnsetChain);
    return s;
  }

  const uint32_t steps_;
  const uint32_t stride_;
  const uint64_t window_;
  std::vector<uint32_t> slot_;   // by user code: the user's state in state_, or kNone
  std::vector<uint32_t> state_;  // stride_ entries per user
  std::vector<uint8_t> skip_;    // by user code
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

// What a funnel reads: its filters, the step of each feature code
// (query::kNoStep: none) and the codes of the steps that were ever stored.
struct FunnelPlan {
  query::ScanFilters filters;
  std::vector<uint8_t> step_of;
  std::vector<uint32_t> step_codes;
  uint32_t steps;
  int64_t window;
};

// The parts of partition `p` with rows inside `window`, each with those
// rows; every part the window overlaps is held in `held` (released when it
// goes) and a part whose file is damaged is left out (snapshot.status()).
std::vector<std::pair<const Part*, RowRange>> hold_parts_in_window(const Snapshot& snapshot, const PartitionView& p,
                                                                   const query::TimeWindow& window,
                                                                   std::vector<HeldPart>& held) {
  std::vector<std::pair<const Part*, RowRange>> out;
  for (const auto& part : p.parts()) {
    if (!window.overlaps(*part)) continue;
    HeldPart part_held = snapshot.hold(*part);
    if (!part_held) continue;
    held.push_back(std::move(part_held));
    const RowRange range = window.rows_of(*part);
    if (!range.empty()) out.emplace_back(part.get(), range);
  }
  return out;
}

// The step rows of partition `p` that pass the plan's filters, walked in
// time order: the events merged from its parts (`parts`, held by the
// caller) and unsealed rows by (timestamp, step) (a compacted month, one
// part, is walked as it is read). Returns whether a row passed the
// filters.
bool walk_step_rows(const FunnelPlan& plan, const PartitionView& p,
                    std::span<const std::pair<const Part*, RowRange>> parts, FunnelWalk& walk, query::Stats& stats) {
  const query::ScanFilters& filters = plan.filters;
  const auto step_event = [&](uint32_t timestamp, uint32_t feature, uint32_t user) {
    return StepEvent{step_key(timestamp, plan.step_of[feature]), user};
  };
  bool matched = false;
  // The partition's parts with rows of the steps, and those rows.
  struct Source {
    const Part* part;
    Bitmap rows;
  };
  std::vector<Source> sources;
  for (const auto& [part, range] : parts) {
    std::vector<const Bitmap*> step_rows;
    for (const uint32_t code : plan.step_codes) {
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
    if (!rows.empty()) sources.push_back(Source{part, std::move(rows)});
  }
  // Appends the step events of `rows` of a part to `out`, but those of
  // users whose events change nothing, without a branch on which: each
  // row is written, and kept when its user is walked. The columns' lines
  // kPrefetchRows rows ahead are asked for early: the reads wait on those
  // loads, and the hardware's own prefetcher stops at page boundaries.
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
      n += 1 - walk.skip(user);
    }
    out.resize(n);
  };
  std::vector<StepEvent> events;
  query::scan_buffered(p, filters, stats, [&](const RowCodes& r) {
    matched = true;
    if (plan.step_of[r.feature] != query::kNoStep) events.push_back(step_event(r.timestamp, r.feature, r.user));
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
    return matched;
  }
  // Several runs: the unsealed rows sorted, each part's events ordered
  // within its seconds, then all merged.
  std::sort(events.begin(), events.end());
  std::vector<size_t> runs(1, 0);  // where each sorted run of `events` starts
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
  return matched;
}

// The step rows of `users` (ascending codes) in partition `p`'s unsealed
// rows, by user: what the walks by user add to each user's rows of parts.
class BufferedSteps {
 public:
  BufferedSteps(const FunnelPlan& plan, const PartitionView& p, std::span<const uint32_t> users, query::Stats& stats) {
    query::scan_buffered(p, plan.filters, stats, [&](const RowCodes& r) {
      const uint8_t step = plan.step_of[r.feature];
      if (step != query::kNoStep && std::binary_search(users.begin(), users.end(), r.user)) {
        rows_.emplace_back(r.user, step_key(r.timestamp, step));
      }
    });
    std::sort(rows_.begin(), rows_.end());
  }

  // Appends `user`'s (step_key() of each row) to `events`.
  void append(uint32_t user, std::vector<uint64_t>& events) const {
    const auto mine = std::equal_range(rows_.begin(), rows_.end(), std::pair<uint32_t, uint64_t>{user, 0},
                                       [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto it = mine.first; it != mine.second; ++it) events.push_back(it->second);
  }

 private:
  std::vector<std::pair<uint32_t, uint64_t>> rows_;  // (user, step_key()), ascending
};

// Walks the step rows of partition `p` (its parts `parts`, held by the
// caller, and its unsealed rows) of each of `users` (ascending codes) the
// walk does not skip, user by user in time order, each user's rows read
// through the parts' user indexes; users[i] is skipped from then on once
// at upper[i], the most it can reach. For a plan whose only filter is its
// window (funnel_bounds.h's).
void walk_user_rows(const FunnelPlan& plan, const PartitionView& p,
                    std::span<const std::pair<const Part*, RowRange>> parts, std::span<const uint32_t> users,
                    std::span<const uint8_t> upper, FunnelWalk& walk, query::Stats& stats) {
  const BufferedSteps buffered(plan, p, users, stats);
  // The rows of the users walked (those not skipped yet), part by part, one
  // user after the other: each row's lines are a cache miss, asked for
  // kUserRowsAhead rows early across the users (a user has ~20 rows a
  // month), and the rows of other features are dropped without a branch (a
  // mispredicted one after each load kept the next loads from starting).
  std::vector<size_t> walked;  // indexes into users
  for (size_t i = 0; i < users.size(); ++i) {
    if (!walk.skip(users[i])) walked.push_back(i);
  }
  struct PartRows {
    const PartColumns* columns;
    std::vector<uint32_t> rows;
    std::vector<size_t> ends;  // per user walked: where its rows end
  };
  std::vector<PartRows> part_rows;
  part_rows.reserve(parts.size());
  uint64_t read = 0;
  for (const auto& [part, range] : parts) {
    PartRows& pr = part_rows.emplace_back(PartRows{&part->columns(), {}, {}});
    pr.ends.reserve(walked.size());
    for (const size_t i : walked) {
      std::span<const uint32_t> rows = part->user_rows(users[i]);
      if (range.size() != part->rows()) {
        const auto* from = std::lower_bound(rows.data(), rows.data() + rows.size(), range.begin);
        const auto* to = std::lower_bound(from, rows.data() + rows.size(), range.end);
        rows = std::span<const uint32_t>(from, to);
      }
      pr.rows.insert(pr.rows.end(), rows.begin(), rows.end());
      pr.ends.push_back(pr.rows.size());
    }
    read += pr.rows.size();
  }
  std::vector<uint64_t> events;  // one user's: step_key()
  for (size_t w = 0; w < walked.size(); ++w) {
    const uint32_t user = users[walked[w]];
    events.clear();
    for (const PartRows& pr : part_rows) {
      const PartColumns& c = *pr.columns;
      const size_t begin = w == 0 ? 0 : pr.ends[w - 1], end = pr.ends[w];
      size_t n = events.size();
      events.resize(n + (end - begin));
      for (size_t j = begin; j < end; ++j) {
        if (j + kUserRowsAhead < pr.rows.size()) {
          __builtin_prefetch(&c.feature[pr.rows[j + kUserRowsAhead]]);
          __builtin_prefetch(&c.timestamp[pr.rows[j + kUserRowsAhead]]);
        }
        const uint32_t row = pr.rows[j];
        const uint8_t step = plan.step_of[c.feature[row]];
        events[n] = step_key(c.timestamp[row], step & 7);
        n += step != query::kNoStep;
      }
      events.resize(n);
    }
    buffered.append(user, events);
    // The parts' rows and the buffers' interleave, and a second's steps
    // come in feature order.
    std::sort(events.begin(), events.end());
    walk.walk_user(user, events, upper[walked[w]]);
  }
  stats.read_rows(read, 2 * sizeof(uint32_t));
}

// walk_user_rows() from the parts' rows by user (`rows`, one per part of
// the partition in the window: Part::user_ordered_rows()), without the
// parts' columns: each user's rows of a part are one run, their timestamps
// ascending, cut to the plan's window.
void walk_user_ordered_rows(const FunnelPlan& plan, const PartitionView& p,
                            std::span<const std::shared_ptr<const UserOrderedRows>> rows,
                            std::span<const uint32_t> users, std::span<const uint8_t> upper, FunnelWalk& walk,
                            query::Stats& stats) {
  const BufferedSteps buffered(plan, p, users, stats);
  const int64_t begin = plan.filters.window.begin, end = plan.filters.window.end;
  std::vector<uint64_t> events;  // one user's: step_key()
  uint64_t read = 0;
  for (size_t i = 0; i < users.size(); ++i) {
    const uint32_t user = users[i];
    if (walk.skip(user)) continue;
    events.clear();
    for (const auto& part_rows : rows) {
      const std::span<const uint32_t> values = part_rows->rows(user);
      read += values.size();
      for (const uint32_t v : values) {
        const uint32_t timestamp = part_rows->timestamp(v);
        if (timestamp < begin || timestamp >= end) continue;
        const uint32_t feature = part_rows->feature(v);
        const uint8_t step = feature < plan.step_of.size() ? plan.step_of[feature] : query::kNoStep;
        if (step != query::kNoStep) events.push_back(step_key(timestamp, step));
      }
    }
    buffered.append(user, events);
    std::sort(events.begin(), events.end());
    walk.walk_user(user, events, upper[i]);
  }
  stats.read_rows(read, sizeof(uint32_t));
}

// The rows by user of every part of `p` in `window`, or none when one of
// them has none (a resident part, rows that do not pack, a file that
// cannot be read: the parts are then held, and a damaged file's error
// reported by Snapshot::hold as for any part).
std::vector<std::shared_ptr<const UserOrderedRows>> user_ordered_rows_in_window(const PartitionView& p,
                                                                                const query::TimeWindow& window) {
  std::vector<std::shared_ptr<const UserOrderedRows>> out;
  for (const auto& part : p.parts()) {
    if (!window.overlaps(*part)) continue;
    absl::StatusOr<std::shared_ptr<const UserOrderedRows>> rows = part->user_ordered_rows();
    if (!rows.ok() || *rows == nullptr) return {};
    out.push_back(*std::move(rows));
  }
  return out;
}

// Reading a row through a user index costs about this many rows of the
// streamed walk (each read a cache miss, against a stream's share of a
// line): on 10M generated events, ~47 ns against ~7 ns a row.
constexpr uint64_t kUserRowCost = 8;

// Walks the rows of every partition the plan's window reaches, months
// ascending, each partition's parts held while it is walked (read once:
// a store larger than the part cache reads each part once per query).
// Without `open`, every step row streamed (walk_step_rows()); with it (the
// users the bounds leave open, seeded in `walk` at their lower bounds, all
// others settled), each partition walked for the open users whose level
// its rows may raise (FunnelBounds::months; a partition that may raise
// none is not read), the cheaper way: the rows of those users through the
// user indexes (walk_user_rows()) or, when those are more than
// 1/kUserRowCost of the partition's step rows, its step rows streamed.
// Returns whether a row passed the filters.
bool walk_rows(const Snapshot& snapshot, const FunnelPlan& plan, const query::FunnelBounds* open, FunnelWalk& walk,
               query::Stats& stats) {
  bool matched = false;
  std::vector<uint32_t> month_users;  // of `open`, those the partition's rows may raise
  std::vector<uint8_t> month_upper;
  for (const PartitionView& p : snapshot.partitions()) {
    if (!plan.filters.window.overlaps_month(p.month())) continue;
    if (open != nullptr) {
      if (std::all_of(open->users.begin(), open->users.end(), [&](uint32_t u) { return walk.skip(u) != 0; })) {
        break;  // every user walked is at its upper bound: no part left to read
      }
      // The users a chain of this month may raise (FunnelBounds::months):
      // the others' rows of the month are not read.
      month_users.clear();
      month_upper.clear();
      for (size_t i = 0; i < open->users.size(); ++i) {
        if (!walk.skip(open->users[i]) && open->may_rise_in(i, p.month())) {
          month_users.push_back(open->users[i]);
          month_upper.push_back(open->upper[i]);
        }
      }
      if (month_users.empty()) continue;
    }
    const std::span<const uint32_t> users = month_users;
    const std::span<const uint8_t> upper = month_upper;
    if (!users.empty()) {
      // Lazy parts: their rows by user, without the parts' columns.
      const std::vector<std::shared_ptr<const UserOrderedRows>> rows =
          user_ordered_rows_in_window(p, plan.filters.window);
      if (!rows.empty()) {
        uint64_t user_rows = p.buffered_rows(), step_rows = 0;
        for (const auto& part_rows : rows) {
          for (const uint32_t user : users) {
            if (!walk.skip(user)) user_rows += part_rows->rows(user).size();
          }
          for (const uint32_t code : plan.step_codes) step_rows += part_rows->feature_rows(code);
        }
        if (user_rows * kUserRowCost <= step_rows) {
          walk_user_ordered_rows(plan, p, rows, users, upper, walk, stats);
          continue;
        }
      }
    }
    std::vector<HeldPart> held;  // the partition's parts, released as the next partition begins
    const std::vector<std::pair<const Part*, RowRange>> parts =
        hold_parts_in_window(snapshot, p, plan.filters.window, held);
    if (!users.empty()) {
      uint64_t user_rows = p.buffered_rows(), step_rows = 0;
      for (const auto& [part, range] : parts) {
        for (const uint32_t user : users) {
          if (!walk.skip(user)) user_rows += part->user_rows(user).size();
        }
        for (const uint32_t code : plan.step_codes) {
          if (const Bitmap* rows = part->feature_rows(code)) step_rows += rows->cardinality();
        }
      }
      if (user_rows * kUserRowCost <= step_rows) {
        walk_user_rows(plan, p, parts, users, upper, walk, stats);
        continue;
      }
    }
    matched = walk_step_rows(plan, p, parts, walk, stats) || matched;
  }
  return matched;
}

}  // namespace

absl::StatusOr<QueryResult<FeatureFunnelRow>> run_feature_funnel(const Snapshot& snapshot, const FeatureFunnelQuery& q) {
  query::Stats stats;
  if (absl::Status s = check_funnel(q); !s.ok()) return s;
  auto window = query::make_window(q.start_date, q.end_date);
  if (!window.ok()) return window.status();
  const Dictionaries& dicts = snapshot.dictionaries();
  FunnelPlan plan{// The condition of the SQL's WHERE: every filter but the steps.
                  .filters = {{},
                              query::resolve_filter(dicts.version, q.product_version),
                              query::resolve_filter(dicts.event_type, q.event_type),
                              *window},
                  .step_of = std::vector<uint8_t>(dicts.feature.size(), query::kNoStep),
                  .step_codes = {},
                  .steps = static_cast<uint32_t>(q.steps.size()),
                  .window = q.window.count()};
  for (size_t i = 0; i < q.steps.size(); ++i) {
    if (const std::optional<uint32_t> code = dicts.feature.find(q.steps[i]); code && *code < plan.step_of.size()) {
      plan.step_of[*code] = static_cast<uint8_t>(i);
      plan.step_codes.push_back(*code);
    }
  }

  std::vector<uint64_t> levels(plan.steps + 1, 0);  // users at each level
  bool matched = false;                             // a row passed the filters
  if (!plan.filters.matches_nothing() && !plan.step_codes.empty()) {
    const auto users = static_cast<uint32_t>(dicts.user.size());
    const std::optional<query::FunnelBounds> bounds =
        query::bound_funnel_levels(snapshot, plan.filters, plan.step_of, plan.steps, plan.window, stats);
    FunnelWalk walk(users, plan.steps, plan.window);
    if (!bounds) {
      matched = walk_rows(snapshot, plan, nullptr, walk, stats);
    } else {
      // The users whose bounds meet are counted; the others walked.
      matched = !bounds->users.empty();
      query::FunnelBounds open;
      open.first_month = bounds->first_month;
      for (size_t i = 0; i < bounds->users.size(); ++i) {
        if (bounds->lower[i] == bounds->upper[i]) {
          ++levels[bounds->lower[i]];
          walk.settle(bounds->users[i]);
        } else {
          open.users.push_back(bounds->users[i]);
          open.lower.push_back(bounds->lower[i]);
          open.upper.push_back(bounds->upper[i]);
          open.months.push_back(bounds->months[i]);
          walk.seed(bounds->users[i], bounds->lower[i]);
        }
      }
      if (!open.users.empty()) walk_rows(snapshot, plan, &open, walk, stats);
    }
    walk.add_levels(levels);
  }
  // No row at all: the SQL's `levels` has no user, and ARRAY JOIN no step.
  if (!matched) matched = any_row(snapshot, plan.filters, stats);
  if (!matched) return query::page<FeatureFunnelRow>({}, q.limit, q.skip, stats);
  // users[k]: the users who reached at least step k + 1.
  std::vector<FeatureFunnelRow> rows(plan.steps);
  uint64_t at_least = 0;
  for (size_t k = plan.steps; k >= 1; --k) {
    at_least += levels[k];
    rows[k - 1] = FeatureFunnelRow{k, q.steps[k - 1], at_least};
  }
  return query::page(std::move(rows), q.limit, q.skip, stats);
}

}  // namespace usagedb
