#include "lib/query/funnel_bounds.h"

#include <algorithm>
#include <utility>

#include "lib/query/funnel_chain.h"
#include "lib/util/civil_time.h"

namespace usagedb::query {
namespace {

constexpr int64_t kHour = civil::kSecondsPerHour;
// The most steps the bounds take: row_key() keeps a row's step in 3 bits.
constexpr uint32_t kMaxBoundSteps = 8;

// The users of one step with an event in one hour: a cell's, or those of
// rows read.
struct HourUsers {
  uint32_t hour;  // Unix seconds / 3600
  uint32_t step;
  std::span<const uint32_t> users;
  std::span<const uint16_t> narrow = {};  // or here (FeatureHours::narrow)
  size_t size() const { return users.size() + narrow.size(); }
};

// What the steps' days tell of each user (day_caps()): the most it can
// reach, and per block of days the users with a day chain starting in the
// block, by length, which HourChains uses to leave a user's hours unwalked
// on the days where no chain could raise it.
struct DayChains {
  std::vector<uint8_t> caps;  // by user code: 0 to steps; empty: none (the last step for all)
  // Per block of `block_days` days (block b: the days first_day + b *
  // block_days and on), per k from 0 to steps - 1, `words` words: the users
  // with a chain of days of k + 1 steps or more that starts in the block and
  // ends before the block after next (every chain of the hour walks is one;
  // day_caps()). Empty: not kept (then every user is walked every day).
  std::vector<uint64_t> blocks;
  int64_t first_day = 0;  // days since 1970-01-01
  int64_t block_days = 1;
  size_t words = 0;
  size_t count = 0;  // blocks
};

// The two walks of the header over every user at once: per user with a
// first step, [lower level, its chains, upper level, its chains], found
// through a table of slots by user code. A user whose lower bound reaches
// the most it can reach (its cap) is done: its level is known.
//
// Most entries of the cells are of users who are done (the heaviest users
// reach the last step on their first day), mixed with the others in no
// order a branch predictor could learn: each hour's cells are first copied
// without their done users, without a branch on whose an entry is, and the
// walks read the copies.
//
// Idle days: a user's hours on days where no chain of days longer than its
// lower bound may lie (DayChains::blocks) are not walked either (`walking_`
// says whether its entries are walked now: not done and not idle, redone at
// each block of days). Every hour chain above the user's lower bound is a
// chain of days of that length, whose days lie in its first day's block and
// the next, so its entries are all walked, in either walk (a user's upper
// bound is no less than its lower): the chains longer than the lower bound,
// the only ones that change a level or mark a month, are the same as in a
// walk of every entry, and so are the bounds and months given. On 100M
// generated events, a user whose level is 2 and whose third step is rare is
// walked on the few days around its third step, not every day of the year.
class HourChains {
 public:
  // `days`: the most each user can reach and its chains of days
  // (day_caps()); `skip_idle`: whether to leave the users' idle days
  // unwalked (when `days` has the blocks).
  HourChains(uint32_t users, uint32_t steps, int64_t window, DayChains days, bool skip_idle)
      : steps_(steps),
        stride_(2 * (steps + 1)),
        lower_window_(window >= kHour - 1 ? (window - (kHour - 1)) / kHour : -1),
        upper_window_((window + kHour - 1) / kHour),
        cap_(days.caps.empty() ? std::vector<uint8_t>(users, static_cast<uint8_t>(steps)) : std::move(days.caps)),
        direct_(size_t{users} * stride_ <= kMostDirectEntries),
        open_(users),
        idle_(skip_idle && !days.blocks.empty()) {
    // A user who can reach the first step and no further is there.
    for (uint32_t user = 0; user < users; ++user) open_[user] = cap_[user] >= 2;
    if (idle_) {
      days_ = std::move(days);
      // Every open user at lower bound 0, none walking until the first
      // hour's block is known.
      planes_.assign(size_t{steps} * days_.words, 0);
      active_.assign(days_.words, 0);
      walking_.assign(users, 0);
      for (uint32_t user = 0; user < users; ++user) {
        if (open_[user]) planes_[user / 64] |= uint64_t{1} << (user % 64);
      }
    } else {
      walking_ = open_;
    }
    if (direct_) {
      // Every user's state at user * stride_, levels 0 (no first step yet).
      state_.assign(size_t{users} * stride_, kUnsetChain);
      for (size_t s = 0; s < state_.size(); s += stride_) state_[s] = state_[s + steps_ + 1] = 0;
      months_.assign(users, 0);
    } else {
      slot_.assign(users, kNone);
    }
  }

  // Whether `user`'s level is still looked for (a user once done stays done).
  bool open(uint32_t user) const { return open_[user] != 0; }

  // The users of one hour, ascending by step.
  void add_hour(std::span<const HourUsers> hour) {
    if (hour.empty()) return;
    if (idle_) {
      const int64_t day = civil::floor_div(int64_t{hour[0].hour}, 24) - days_.first_day;
      const int64_t block = day < 0 ? -1 : day / days_.block_days;
      if (block != block_) choose_walking(block);
    }
    if (direct_) {
      add_hour_to<true>(hour);
    } else {
      add_hour_to<false>(hour);
    }
  }

  // The hours given next are of month `yyyymm` (months ascending).
  void begin_month(uint32_t yyyymm) {
    month_ = ordinal(yyyymm);
    if (!based_) first_month_ = month_, based_ = true;
    month_first_hour_ = civil::month_start(yyyymm) / kHour;
  }

  FunnelBounds finish() const {
    FunnelBounds b;
    b.first_month = first_month_;
    b.walked = walked_;
    for (uint32_t user = 0; user < open_.size(); ++user) {
      const uint32_t cap = cap_[user], s = slot(user);
      if (cap == 0 || (open_[user] && (s == kNone || state_[s] == 0))) continue;  // no first step
      b.users.push_back(user);
      if (!open_[user]) {
        b.lower.push_back(static_cast<uint8_t>(cap));
        b.upper.push_back(static_cast<uint8_t>(cap));
        b.months.push_back(0);
      } else {
        b.lower.push_back(static_cast<uint8_t>(state_[s]));
        b.upper.push_back(static_cast<uint8_t>(std::min(state_[s + steps_ + 1], cap)));
        b.months.push_back(b.lower.back() < b.upper.back() ? months_[s / stride_] : 0);
      }
    }
    return b;
  }

 private:
  static constexpr uint32_t kNone = UINT32_MAX;
  // Up to this many state entries for all users (4 MB: 131,072 users of a
  // 3-step funnel), each user's state is at user * stride_, without a slot
  // to load before it on every entry walked; past it, states are given out
  // as users come (laying out every user's state, written on each query,
  // would cost more than the walk saves where few of many users walk).
  static constexpr size_t kMostDirectEntries = size_t{1} << 20;

  uint32_t slot(uint32_t user) const { return direct_ ? user * stride_ : slot_[user]; }

  // The users walked in block `block` of days_ (before the first or past
  // the last: every open user): those of each lower bound k with a chain of
  // days of more than k steps starting in the block or the one before
  // (whose days may reach into this one).
  [[gnu::noinline]] void choose_walking(int64_t block) {
    block_ = block;
    const size_t words = days_.words, level = words;  // a block's bits of one k
    const bool inside = block >= 0 && static_cast<size_t>(block) < days_.count;
    const uint64_t* now = inside ? &days_.blocks[static_cast<size_t>(block) * steps_ * words] : nullptr;
    const uint64_t* before = inside && block > 0 ? now - steps_ * words : nullptr;
    for (size_t w = 0; w < words; ++w) {
      uint64_t walk = 0;
      for (uint32_t k = 0; k < steps_; ++k) {
        const uint64_t at_k = planes_[k * words + w];
        if (!inside) {
          walk |= at_k;
        } else {
          walk |= at_k & (now[k * level + w] | (before != nullptr ? before[k * level + w] : 0));
        }
      }
      for (uint64_t changed = walk ^ active_[w]; changed != 0; changed &= changed - 1) {
        const auto bit = static_cast<uint32_t>(__builtin_ctzll(changed));
        walking_[w * 64 + bit] = static_cast<uint8_t>((walk >> bit) & 1);
      }
      active_[w] = walk;
    }
  }

  // `user`'s lower bound rose from `from` to `to` (below its cap: it walks
  // on; at its cap: done).
  [[gnu::noinline]] void lower_rose(uint32_t user, uint32_t from, uint32_t to) {
    const uint64_t bit = uint64_t{1} << (user % 64);
    const size_t w = user / 64;
    if (idle_) planes_[from * days_.words + w] &= ~bit;
    if (to >= cap_[user]) {
      open_[user] = walking_[user] = 0;
    } else if (idle_) {
      planes_[to * days_.words + w] |= bit;
    }
  }

  template <bool kDirect>
  void add_hour_to(std::span<const HourUsers> hour) {
    size_t entries = 0;
    for (const HourUsers& h : hour) entries += h.size();
    if (walking_users_.size() < entries) walking_users_.resize(entries);
    ends_.clear();
    size_t n = 0;
    for (const HourUsers& h : hour) {
      for (const uint32_t user : h.users) {
        walking_users_[n] = user;
        n += walking_[user];
      }
      for (const uint16_t user : h.narrow) {
        walking_users_[n] = user;
        n += walking_[user];
      }
      ends_.push_back(n);
    }
    walked_ += n;
    const auto cell = [&](size_t i) {
      const size_t from = i == 0 ? 0 : ends_[i - 1];
      return std::span<const uint32_t>(walking_users_).subspan(from, ends_[i] - from);
    };
    // By descending step: no step extends a chain of its own hour.
    for (size_t i = hour.size(); i-- > 0;) {
      const uint32_t step = hour[i].step;
      if (step == 0) {
        for (const uint32_t user : cell(i)) {
          uint32_t s = kDirect ? user * stride_ : slot_[user];
          if (!kDirect && s == kNone) s = start(user);  // once per user
          if (state_[s] == 0) lower_rose(user, 0, 1);
          advance_chain(&state_[s], steps_, hour[i].hour, 0, 0);
        }
      } else if (lower_window_ >= 0) {  // else: a window under an hour; no two hours are close enough
        for (const uint32_t user : cell(i)) {
          const uint32_t s = kDirect ? user * stride_ : slot_[user];
          if (!kDirect && s == kNone) continue;  // no chain to extend (direct: none set)
          const uint32_t was = state_[s];
          if (advance_chain(&state_[s], steps_, hour[i].hour, step, static_cast<uint64_t>(lower_window_)) &&
              state_[s] != was) {
            lower_rose(user, was, state_[s]);
          }
        }
      }
    }
    // By ascending step: the steps of an hour in any order. advance_chain()
    // without its stop at the last step (the level is the same): every
    // chain that ends above the user's lower bound marks its months
    // (FunnelBounds::months), so the chains keep their latest starts.
    for (size_t i = 0; i < hour.size(); ++i) {
      const uint32_t step = hour[i].step, h = hour[i].hour;
      for (const uint32_t user : cell(i)) {
        const uint32_t s = kDirect ? user * stride_ : slot_[user];
        if (!kDirect && s == kNone) continue;  // (direct: no chain set)
        if (advance_chain<false>(&state_[s + steps_ + 1], steps_, h, step, static_cast<uint64_t>(upper_window_)) &&
            step != 0 && step + 1 > state_[s]) {
          mark_months(s, h);  // a chain above the lower bound now
        }
      }
    }
  }

  [[gnu::noinline]] uint32_t start(uint32_t user) {
    const auto s = static_cast<uint32_t>(state_.size());
    slot_[user] = s;
    state_.resize(state_.size() + stride_, kUnsetChain);
    state_[s] = state_[s + steps_ + 1] = 0;
    months_.push_back(0);
    return s;
  }

  static uint32_t ordinal(uint32_t yyyymm) { return FunnelBounds::month_ordinal(yyyymm); }

  // Marks, for the user at slot `s`, the months of the hours [h - the upper
  // window, h]: where a real chain whose last event is in hour h may lie.
  [[gnu::noinline]] void mark_months(uint32_t s, uint32_t h) {
    uint64_t& marks = months_[s / stride_];
    if (month_ - first_month_ >= 64) {
      marks = ~uint64_t{0};
      return;
    }
    const int64_t from = int64_t{h} - upper_window_;
    uint32_t low = month_;
    if (from < month_first_hour_) low = ordinal(civil::month_id(std::max<int64_t>(from, 0) * kHour));
    low = std::max(low, first_month_);  // no row before the first month
    const uint32_t width = month_ - low + 1;  // 1 to 64
    const uint64_t run = width == 64 ? ~uint64_t{0} : (uint64_t{1} << width) - 1;
    marks |= run << (low - first_month_);
  }

  const uint32_t steps_;
  const uint32_t stride_;
  const int64_t lower_window_;  // hours; -1: none
  const int64_t upper_window_;  // hours
  std::vector<uint8_t> cap_;     // by user code
  const bool direct_;            // states by user code, else through slot_
  std::vector<uint32_t> slot_;   // by user code: the user's state in state_, or kNone (empty: direct_)
  std::vector<uint32_t> state_;  // stride_ entries per user
  std::vector<uint8_t> open_;     // by user code: 0 once the level is known
  std::vector<uint8_t> walking_;  // by user code: whether its entries are walked now (open and not idle)
  const bool idle_;               // whether idle days are skipped (days_ has blocks)
  DayChains days_;                // (idle_) the blocks of chains of days
  std::vector<uint64_t> planes_;  // (idle_) per lower bound k < steps, the open users at k: bits by user code
  std::vector<uint64_t> active_;  // (idle_) the users walked in block_: bits by user code
  int64_t block_ = INT64_MIN;     // (idle_) the block of days walked
  std::vector<uint32_t> walking_users_;  // an hour's cells without the users not walking
  std::vector<size_t> ends_;             // where each cell's end in walking_users_
  std::vector<uint64_t> months_;         // per slot (state_ index / stride_): FunnelBounds::months
  uint64_t walked_ = 0;           // entries walked: FunnelBounds::walked
  bool based_ = false;
  uint32_t first_month_ = 0;       // the first month's ordinal (year * 12 + month - 1)
  uint32_t month_ = 0;             // the ordinal of the month walked
  int64_t month_first_hour_ = 0;   // its first hour
};

// (hour, step, user) of a row, ordered by hour then step.
uint64_t row_key(uint32_t timestamp, uint32_t step, uint32_t user) {
  return (static_cast<uint64_t>(timestamp / kHour) << 35) | (static_cast<uint64_t>(step) << 32) | user;
}

int64_t floor_hour(int64_t t) { return civil::floor_div(t, kHour) * kHour; }

// The users of a month's hours, in hour order, each hour's ascending by
// step; hours[i] = (hour, where its users end in `cells`). For day_caps(),
// also the rollups whose day bits (PartitionRollup::day_user_bits) give the
// whole days, [day_hours.first, day_hours.second) in hours.
//
// The heavy users' hours (FeatureHours::heavy_users) are in no cell: those
// of the whole days are read by the walk from `heavy` (walk_month()), each
// user's only while its level is not known; those of the other hours (a day
// the window cuts) are read with the rows, into `cells` and `rows`, so that
// day_caps() sees them too.
struct MonthHours {
  // A rollup's hours of one step feature.
  struct Heavy {
    const FeatureHours* hours;
    uint32_t step;
  };
  uint32_t month;  // yyyymm
  std::vector<HourUsers> cells;
  std::vector<std::pair<uint32_t, uint32_t>> hours;
  std::vector<uint32_t> row_users;  // the users of the rows read, whom some cells hold
  std::vector<const PartitionRollup*> day_rollups;
  std::pair<uint32_t, uint32_t> day_hours;
  std::vector<HourUsers> rows;      // the cells of row_users (also in `cells`)
  std::vector<Heavy> heavy;         // by step
};

// The month of partition `p` within window `w` (not empty): the cells of
// its rollups for whole hours, rows for the rest.
MonthHours gather_month(const Snapshot& snapshot, const PartitionView& p, const TimeWindow& w,
                        std::span<const uint8_t> step_of, std::span<const std::pair<uint32_t, uint32_t>> codes,
                        Stats& stats) {
  const int64_t begin = std::max(w.begin, civil::month_start(p.month()));
  const int64_t end = std::min(w.end, civil::month_start(civil::next_month(p.month())));
  // The whole hours [first, last), from the cells; the rest from rows.
  int64_t first = floor_hour(begin + kHour - 1), last = floor_hour(end);
  if (first >= last) first = last = end;
  // The whole days, from their cells (and the heavy users' hours in them).
  const int64_t first_day = civil::floor_div(first + civil::kSecondsPerDay - 1, civil::kSecondsPerDay) * civil::kSecondsPerDay;
  const int64_t last_day = civil::floor_div(last, civil::kSecondsPerDay) * civil::kSecondsPerDay;
  const bool whole_days = first_day < last_day;

  std::vector<uint64_t> keys;  // of the rows read
  const auto read_rows = [&](const Part& part, int64_t from, int64_t to) {
    if (from >= to) return;
    const RowRange range = part.time_range(from, to);
    if (range.empty()) return;
    const PartColumns& c = part.columns();
    stats.read_rows(range.size(), 3 * sizeof(uint32_t));
    for (uint32_t row = range.begin; row < range.end; ++row) {
      const uint8_t step = step_of[c.feature[row]];
      if (step != kNoStep) keys.push_back(row_key(c.timestamp[row], step, c.user[row]));
    }
  };
  for (const auto& part : p.parts()) {
    if (!w.overlaps(*part)) continue;
    if (!p.covered(*part)) {
      if (const HeldPart held = snapshot.hold(*part)) read_rows(*part, begin, end);
    } else if (begin < first || last < end) {
      if (const HeldPart held = snapshot.hold(*part)) {
        read_rows(*part, begin, first);
        read_rows(*part, last, end);
      }
    }
  }
  ScanFilters in_month;
  in_month.window = TimeWindow{begin, end};
  scan_buffered(p, in_month, stats, [&](const RowCodes& r) {
    const uint8_t step = step_of[r.feature];
    if (step != kNoStep) keys.push_back(row_key(r.timestamp, step, r.user));
  });
  // The heavy users' hours outside the whole days, as rows.
  MonthHours m;
  uint64_t entries = 0;
  for (const auto& [code, step_code] : codes) {
    const uint32_t step = step_code;  // a lambda below captures it (clang 14: not a structured binding)
    for (const CoveredRollup& e : p.rollups().entries()) {
      const FeatureHours& hours = e.rollup->feature_hours(code);
      if (hours.heavy_users.empty()) continue;
      m.heavy.push_back(MonthHours::Heavy{&hours, step});
      const auto add = [&](int64_t from, int64_t to) {  // seconds, whole hours
        if (from >= to) return;
        const int64_t base = int64_t{hours.heavy_base};
        const auto lo = static_cast<uint16_t>(std::clamp<int64_t>(from / kHour - base, 0, UINT16_MAX));
        const int64_t hi = std::clamp<int64_t>(to / kHour - base, 0, int64_t{UINT16_MAX} + 1);
        for (size_t j = 0; j < hours.heavy_users.size(); ++j) {
          const std::span<const uint16_t> h = hours.heavy_hours_of(j);
          for (auto it = std::lower_bound(h.begin(), h.end(), lo); it != h.end() && *it < hi; ++it) {
            keys.push_back(row_key(static_cast<uint32_t>((base + *it) * kHour), step, hours.heavy_users[j]));
            ++entries;
          }
        }
      };
      if (whole_days) {
        add(first, first_day);
        add(last_day, last);
      } else {
        add(first, last);
      }
    }
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  m.month = p.month();
  m.row_users.resize(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) m.row_users[i] = static_cast<uint32_t>(keys[i]);
  std::vector<HourUsers>& row_hours = m.rows;  // runs of row_users
  for (size_t run = 0, i = 1; run < keys.size(); ++i) {
    if (i == keys.size() || (keys[i] >> 32) != (keys[run] >> 32)) {
      row_hours.push_back(HourUsers{static_cast<uint32_t>(keys[run] >> 35), static_cast<uint32_t>((keys[run] >> 32) & 7),
                                    std::span<const uint32_t>(m.row_users).subspan(run, i - run)});
      run = i;
    }
  }

  // The month's users by step (the cells of each rollup, then the rows)...
  std::vector<HourUsers> by_step;
  for (const auto& [code, step] : codes) {
    for (const CoveredRollup& e : p.rollups().entries()) {
      // The feature's cells in one place: the walks read each feature's
      // users as one stream.
      const FeatureHours& hours = e.rollup->feature_hours(code);
      const auto [from, to] = hours.cells_between(static_cast<uint32_t>(first / kHour), static_cast<uint32_t>(last / kHour));
      for (size_t i = from; i < to; ++i) {
        by_step.push_back(HourUsers{hours.hours[i], step, hours.users_of(i), hours.narrow_users_of(i)});
        entries += by_step.back().size();
      }
    }
    for (const HourUsers& h : row_hours) {
      if (h.step == step) by_step.push_back(h);
    }
  }
  if (whole_days) {
    m.day_hours = {static_cast<uint32_t>(first_day / kHour), static_cast<uint32_t>(last_day / kHour)};
    for (const CoveredRollup& e : p.rollups().entries()) m.day_rollups.push_back(e.rollup.get());
  }
  stats.read_rows(entries, sizeof(uint32_t));
  // ... then by hour (a counting sort, which keeps each hour's by step).
  const auto hour0 = static_cast<uint32_t>(begin / kHour);
  std::vector<uint32_t> starts(static_cast<size_t>((end - 1) / kHour - hour0 + 2), 0);
  for (const HourUsers& h : by_step) ++starts[h.hour - hour0 + 1];
  for (size_t i = 1; i < starts.size(); ++i) starts[i] += starts[i - 1];
  m.cells.resize(by_step.size());
  for (const HourUsers& h : by_step) m.cells[starts[h.hour - hour0]++] = h;
  // starts[i] is now where hour i ends.
  for (size_t i = 0, from = 0; i + 1 < starts.size(); from = starts[i], ++i) {
    if (starts[i] > from) m.hours.emplace_back(hour0 + static_cast<uint32_t>(i), starts[i]);
  }
  return m;
}

// Walks the hours of `m` (HourChains::add_hour): the cells, with the heavy
// users' hours of the whole days (m.heavy) read in chunks of time, each
// chunk's of the users whose level is still looked for, and given to the
// walk with the cells of their hour and step. The chunks double from a day
// (the heaviest users are known on their first day or two; a user walking
// longer is looked at a few times a month, not every day, and at most about
// half of what it reads is read after its level is known).
//
// `scratch`: buffers kept from one month to the next (made anew each month,
// the pages of the larger ones were faulted in and zeroed every time).
struct WalkScratch {
  // Per Heavy, where each heavy user still walking is in its hours.
  struct Cursor {
    uint32_t user;
    const uint16_t* at;
    const uint16_t* end;
  };
  std::vector<std::vector<Cursor>> cursors;
  std::vector<std::pair<uint32_t, uint32_t>> read;  // (slot: Heavy * width + hour in the chunk, user)
  std::vector<uint32_t> starts, users;
  std::vector<HourUsers> hour_cells;
};
void walk_month(const MonthHours& m, HourChains& chains, WalkScratch& scratch, Stats& stats) {
  constexpr uint32_t kFirstChunk = 24;  // hours
  const uint32_t from = m.day_hours.first, to = m.day_hours.second;
  using Cursor = WalkScratch::Cursor;
  std::vector<std::vector<Cursor>>& cursors = scratch.cursors;
  cursors.resize(from < to ? m.heavy.size() : 0);
  for (size_t k = 0; k < cursors.size(); ++k) {
    cursors[k].clear();
    const FeatureHours& h = *m.heavy[k].hours;
    const int64_t base = int64_t{h.heavy_base};
    const auto lo = static_cast<uint16_t>(std::clamp<int64_t>(int64_t{from} - base, 0, UINT16_MAX));
    const int64_t hi = std::clamp<int64_t>(int64_t{to} - base, 0, int64_t{UINT16_MAX} + 1);
    // Whether every hour of the rollup is in [from, to) (a month's whole
    // days: no search).
    const bool all = lo == 0 && hi > int64_t{h.heavy_last};
    for (size_t j = 0; j < h.heavy_users.size(); ++j) {
      if (!chains.open(h.heavy_users[j])) continue;
      const std::span<const uint16_t> hours = h.heavy_hours_of(j);
      const uint16_t* begin = hours.data();
      const uint16_t* end = hours.data() + hours.size();
      if (!all) {
        begin = std::lower_bound(begin, end, lo);
        end = std::lower_bound(begin, end, hi);
      }
      if (begin != end) cursors[k].push_back(Cursor{h.heavy_users[j], begin, end});
    }
  }
  size_t next = 0, cell_from = 0;  // m.hours[next] is the next hour of cells; its cells begin at cell_from
  const auto light_until = [&](uint32_t hour) {
    for (; next < m.hours.size() && m.hours[next].first < hour; ++next) {
      chains.add_hour(std::span<const HourUsers>(m.cells).subspan(cell_from, m.hours[next].second - cell_from));
      cell_from = m.hours[next].second;
    }
  };
  std::vector<std::pair<uint32_t, uint32_t>>& read = scratch.read;
  std::vector<uint32_t>& starts = scratch.starts;
  std::vector<uint32_t>& users = scratch.users;
  std::vector<HourUsers>& hour_cells = scratch.hour_cells;
  uint64_t entries = 0;
  size_t left = 0;  // cursors
  for (const std::vector<Cursor>& c : cursors) left += c.size();
  for (uint32_t c0 = from, c1 = from; c0 < to && left > 0; c0 = c1) {
    light_until(c0);
    c1 = std::min(to, c0 + std::max(kFirstChunk, c0 - from));
    const uint32_t width = c1 - c0;
    read.clear();
    left = 0;
    for (size_t k = 0; k < cursors.size(); ++k) {
      const uint32_t base = m.heavy[k].hours->heavy_base;
      size_t kept = 0;
      for (Cursor c : cursors[k]) {
        if (!chains.open(c.user)) continue;
        for (; c.at != c.end && base + *c.at < c1; ++c.at) read.emplace_back(k * width + (base + *c.at - c0), c.user);
        if (c.at != c.end) cursors[k][kept++] = c;
      }
      cursors[k].resize(kept);
      left += kept;
    }
    entries += read.size();
    // By slot (a counting sort).
    starts.assign(cursors.size() * width + 1, 0);
    for (const auto& [slot, user] : read) ++starts[slot + 1];
    for (size_t i = 1; i < starts.size(); ++i) starts[i] += starts[i - 1];
    users.resize(read.size());
    for (const auto& [slot, user] : read) users[starts[slot]++] = user;
    // starts[slot] is now where the slot ends.
    for (uint32_t hour = c0; hour < c1; ++hour) {
      std::span<const HourUsers> light;
      if (next < m.hours.size() && m.hours[next].first == hour) {
        light = std::span<const HourUsers>(m.cells).subspan(cell_from, m.hours[next].second - cell_from);
        cell_from = m.hours[next++].second;
      }
      hour_cells.clear();
      size_t l = 0;
      for (size_t k = 0; k < cursors.size(); ++k) {
        const size_t slot = k * width + (hour - c0);
        const size_t begin = slot == 0 ? 0 : starts[slot - 1];
        if (begin == starts[slot]) continue;
        const uint32_t step = m.heavy[k].step;
        for (; l < light.size() && light[l].step <= step; ++l) hour_cells.push_back(light[l]);
        hour_cells.push_back(HourUsers{hour, step, std::span<const uint32_t>(users).subspan(begin, starts[slot] - begin)});
      }
      if (hour_cells.empty()) {
        if (!light.empty()) chains.add_hour(light);
        continue;
      }
      hour_cells.insert(hour_cells.end(), light.begin() + static_cast<ptrdiff_t>(l), light.end());
      chains.add_hour(hour_cells);
    }
  }
  light_until(UINT32_MAX);
  stats.read_rows(entries, sizeof(uint16_t));
}

// The most each user can reach (by user code: 0 to steps) by the steps'
// days alone: a chain through days d1 <= .. <= dk with dk - d1 <= the
// window in whole days rounded up (any order within a day; every real
// chain is one). All users at once, as bit vectors: per block of B days (B
// the window's days), the users with a chain starting in the block, found
// over the block's days and the window's after it (2B days: chains a little
// longer than the window count too, which an upper bound allows). Empty
// when the bits of all the days would take more than kMaxDayBits bytes (a
// bound on the work: they are made a few days at a time).
//
// Each block's chains are kept too (DayChains::blocks: the users with a
// chain of each length starting in the block) when they take no more than
// kMaxBlockBits bytes (2.7 MB for 20k users, a year and a one-day window).
constexpr size_t kMaxDayBits = 64 << 20;
constexpr size_t kMaxBlockBits = 16 << 20;
DayChains day_caps(std::span<const MonthHours> months, std::span<const std::pair<uint32_t, uint32_t>> codes,
                   uint32_t users, uint32_t steps, int64_t window, Stats& stats) {
  constexpr int64_t kHoursPerDay = 24;
  uint32_t first_day = UINT32_MAX, last_day = 0;
  for (const MonthHours& m : months) {
    if (!m.hours.empty()) {
      first_day = std::min<uint32_t>(first_day, m.hours.front().first / kHoursPerDay);
      last_day = std::max<uint32_t>(last_day, m.hours.back().first / kHoursPerDay);
    }
    // The whole days, where the heavy users' hours are in no cell (a month
    // may have no other user).
    if (!m.heavy.empty() && m.day_hours.first < m.day_hours.second) {
      first_day = std::min<uint32_t>(first_day, m.day_hours.first / kHoursPerDay);
      last_day = std::max<uint32_t>(last_day, (m.day_hours.second - 1) / kHoursPerDay);
    }
  }
  DayChains out;
  out.caps.assign(users, 0);
  if (first_day > last_day) return out;
  const size_t words = (users + 63) / 64;
  const size_t days = last_day - first_day + 1;
  if (days * steps * words * sizeof(uint64_t) > kMaxDayBits) return {};
  // What each day's bits (the users of each step on the day) are made of:
  // words to OR (the rollups' day bits) and users to set (the day cells
  // where there are no bits, the hour cells of the days not whole, the
  // rows), each at its day from first_day.
  struct DayWords {
    uint32_t day;
    uint32_t step;
    const uint64_t* words;
    size_t n;
  };
  struct DayUsers {
    uint32_t day;
    uint32_t step;
    std::span<const uint32_t> users;
    std::span<const uint16_t> narrow;
  };
  std::vector<DayWords> day_words;
  std::vector<DayUsers> day_users;
  const auto add = [&](uint32_t hour, std::span<const HourUsers> cells) {
    for (const HourUsers& h : cells) {
      day_users.push_back(DayUsers{static_cast<uint32_t>(hour / kHoursPerDay - first_day), h.step, h.users, h.narrow});
    }
  };
  uint64_t words_read = 0, cell_entries = 0;
  for (const MonthHours& m : months) {
    // The rollups' day bits where there are whole days, the hour cells of
    // the other days, and the rows read (of any day: the rows no rollup
    // holds are in no day cell).
    const uint32_t day_from = m.day_hours.first / kHoursPerDay, day_to = m.day_hours.second / kHoursPerDay;
    for (const PartitionRollup* rollup : m.day_rollups) {
      for (const auto& [code, step] : codes) {
        const DayUserBits& b = rollup->day_user_bits(code);
        if (!b.dense) {  // few users a day among many: the cells
          const TimelineLevel& level = rollup->timeline(Granularity::kDay);
          for (const TimelineCell& cell : level.cells_between(int64_t{day_from} * civil::kSecondsPerDay,
                                                              int64_t{day_to} * civil::kSecondsPerDay)) {
            const auto day = static_cast<uint32_t>(cell.bucket / civil::kSecondsPerDay);
            if (cell.feature != code || day < first_day || day > last_day) continue;
            day_users.push_back(DayUsers{day - first_day, step, level.users(cell), {}});
            cell_entries += cell.users_end - cell.users_begin;
          }
          continue;
        }
        const size_t n = std::min<size_t>(b.words, words);
        for (uint32_t d = 0; d < b.days; ++d) {
          const auto day = static_cast<uint32_t>((b.first_day + int64_t{d} * civil::kSecondsPerDay) / civil::kSecondsPerDay);
          if (day < day_from || day >= day_to || day < first_day || day > last_day) continue;
          day_words.push_back(DayWords{day - first_day, step, b.day(d).data(), n});
          words_read += n;
        }
      }
    }
    size_t from = 0;
    for (const auto& [hour, end] : m.hours) {
      if (hour < m.day_hours.first || hour >= m.day_hours.second) {
        add(hour, std::span<const HourUsers>(m.cells).subspan(from, end - from));
      }
      from = end;
    }
    for (const HourUsers& r : m.rows) add(r.hour, std::span<const HourUsers>(&r, 1));
  }
  stats.read_rows(words_read, sizeof(uint64_t));
  stats.read_rows(cell_entries, sizeof(uint32_t));
  const auto by_day = [](const auto& a, const auto& b) { return a.day < b.day; };
  std::stable_sort(day_words.begin(), day_words.end(), by_day);
  std::stable_sort(day_users.begin(), day_users.end(), by_day);

  // The days' bits are made as the blocks reach them, into a ring of the
  // 2B days a block reads (a block's days never wrap onto one another; a
  // year of bits made at once, 2.7 MB at 20k users, was new memory, zeroed
  // and faulted in, on every request).
  const auto block = static_cast<size_t>((window + civil::kSecondsPerDay - 1) / civil::kSecondsPerDay);
  const size_t ring_days = std::min(days, 2 * block);
  const size_t blocks = (days + block - 1) / block;
  if (blocks * steps * words * sizeof(uint64_t) <= kMaxBlockBits) {
    out.blocks.reserve(blocks * steps * words);  // appended block by block
    out.first_day = first_day;
    out.block_days = static_cast<int64_t>(block);
    out.words = words;
    out.count = blocks;
  }
  std::vector<uint64_t> ring(ring_days * steps * words);
  size_t made = 0, next_words = 0, next_users = 0;  // the days made, and the sources used
  const auto make_day = [&](size_t day) {
    uint64_t* bits = &ring[(day % ring_days) * steps * words];
    std::fill(bits, bits + steps * words, 0);
    for (; next_words < day_words.size() && day_words[next_words].day == day; ++next_words) {
      const DayWords& d = day_words[next_words];
      uint64_t* set = bits + d.step * words;
      for (size_t i = 0; i < d.n; ++i) set[i] |= d.words[i];
    }
    for (; next_users < day_users.size() && day_users[next_users].day == day; ++next_users) {
      const DayUsers& d = day_users[next_users];
      uint64_t* set = bits + d.step * words;
      for (const uint32_t user : d.users) set[user / 64] |= uint64_t{1} << (user % 64);
      for (const uint32_t user : d.narrow) set[user / 64] |= uint64_t{1} << (user % 64);
    }
  };
  std::vector<uint64_t> chains(steps * words), reached(steps * words, 0);
  for (size_t start = 0; start < days; start += block) {
    std::fill(chains.begin(), chains.end(), 0);
    for (size_t day = start; day < std::min(days, start + 2 * block); ++day) {
      for (; made <= day; ++made) make_day(made);
      const uint64_t* on_day = &ring[(day % ring_days) * steps * words];
      // By ascending step: the steps of a day in any order.
      if (day < start + block) {
        for (size_t i = 0; i < words; ++i) chains[i] |= on_day[i];
      }
      for (size_t k = 1; k < steps; ++k) {
        for (size_t i = 0; i < words; ++i) chains[k * words + i] |= chains[(k - 1) * words + i] & on_day[k * words + i];
      }
    }
    for (size_t i = 0; i < chains.size(); ++i) reached[i] |= chains[i];
    if (out.count != 0) out.blocks.insert(out.blocks.end(), chains.begin(), chains.end());
  }
  for (uint32_t k = 1; k <= steps; ++k) {
    const uint64_t* set = &reached[(k - 1) * words];
    for (uint32_t user = 0; user < users; ++user) {
      if ((set[user / 64] >> (user % 64)) & 1) out.caps[user] = static_cast<uint8_t>(k);
    }
  }
  return out;
}

}  // namespace

std::optional<FunnelBounds> bound_funnel_levels(const Snapshot& snapshot, const ScanFilters& filters,
                                                std::span<const uint8_t> step_of, uint32_t steps, int64_t window,
                                                Stats& stats, bool skip_idle_days) {
  if (filters.version.active || filters.event_type.active || steps > kMaxBoundSteps) return std::nullopt;
  const auto users = static_cast<uint32_t>(snapshot.dictionaries().user.size());
  if (filters.matches_nothing()) return FunnelBounds{};
  const TimeWindow& w = filters.window;
  uint64_t covered = 0, uncovered = 0;
  for (const PartitionView& p : snapshot.partitions()) {
    if (!w.overlaps_month(p.month())) continue;
    for (const auto& part : p.parts()) {
      if (w.overlaps(*part)) (p.covered(*part) ? covered : uncovered) += part->rows();
    }
    uncovered += p.buffered_rows();
  }
  if (uncovered * 4 > covered + uncovered) return std::nullopt;

  // (feature code, step), by step.
  std::vector<std::pair<uint32_t, uint32_t>> codes;
  for (uint32_t code = 0; code < step_of.size(); ++code) {
    if (step_of[code] != kNoStep) codes.emplace_back(code, step_of[code]);
  }
  std::sort(codes.begin(), codes.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
  std::vector<MonthHours> months;
  for (const PartitionView& p : snapshot.partitions()) {
    if (!w.overlaps_month(p.month())) continue;
    if (std::max(w.begin, civil::month_start(p.month())) < std::min(w.end, civil::month_start(civil::next_month(p.month())))) {
      months.push_back(gather_month(snapshot, p, w, step_of, codes, stats));
    }
  }
  HourChains chains(users, steps, window, day_caps(months, codes, users, steps, window, stats), skip_idle_days);
  WalkScratch scratch;
  for (const MonthHours& m : months) {
    chains.begin_month(m.month);
    walk_month(m, chains, scratch, stats);
  }
  return chains.finish();
}

}  // namespace usagedb::query
