#include "lib/rollup/partition_rollup.h"

#include <algorithm>
#include <atomic>
#include <limits>
#include <optional>
#include <thread>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "lib/rollup/timeline_build.h"
#include "lib/util/civil_time.h"
#include "lib/util/radix_sort.h"
#include "lib/util/sorted_search.h"

namespace usagedb {
namespace {

std::atomic<uint64_t> next_serial{1};

// Rows from which build() makes the version timeline and the metadata
// counts (two fifths of its work) on a second thread while it makes the
// rest: a bulk ingest's final checkpoint builds the rollup of the month it
// ended in alone, with the other core idle (a month of the 10M file: ~0.1 s
// of CPU). Smaller builds (a live store's seals) stay on one thread.
constexpr uint64_t kTwoThreadRows = uint64_t{1} << 18;

void sort_unique(std::vector<uint32_t>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

}  // namespace

uint64_t PartitionRollup::new_serial() { return next_serial.fetch_add(1, std::memory_order_relaxed); }

std::span<const TimelineCell> TimelineLevel::cells_between(int64_t begin, int64_t end) const {
  auto lo = std::lower_bound(cells.begin(), cells.end(), begin,
                             [](const TimelineCell& c, int64_t t) { return static_cast<int64_t>(c.bucket) < t; });
  auto hi = std::lower_bound(lo, cells.end(), end,
                             [](const TimelineCell& c, int64_t t) { return static_cast<int64_t>(c.bucket) < t; });
  return std::span<const TimelineCell>(lo, hi);
}

std::shared_ptr<const PartitionRollup> PartitionRollup::build(uint32_t month,
                                                              std::span<const std::shared_ptr<const Part>> parts) {
  std::shared_ptr<PartitionRollup> r(new PartitionRollup());
  r->serial_ = new_serial();
  r->month_ = month;
  for (const auto& part : parts) {
    r->part_ids_.push_back(part->id());
    r->rows_ += part->rows();
  }
  std::sort(r->part_ids_.begin(), r->part_ids_.end());
  // The version timeline and the metadata counts read only the parts: on a
  // helper thread for a large build (kTwoThreadRows), else at the end.
  std::optional<VersionTimeline> versions;
  std::optional<MetadataCounts> metadata;
  // At the end, the metadata counts of rows with one metadata string are
  // made from the month timeline and the users (MetadataCounts::build).
  const auto build_versions_and_metadata = [&](const TimelineLevel* month_level, std::span<const uint32_t> users) {
    versions = VersionTimeline::build(month, parts);
    metadata = MetadataCounts::build(parts, month_level, users);
  };
  std::thread helper;
  if (r->rows_ >= kTwoThreadRows && std::thread::hardware_concurrency() >= 2) {
    helper = std::thread(build_versions_and_metadata, nullptr, std::span<const uint32_t>());
  }

  // Pass 1, row order: each row's (feature, version) group, numbered in
  // first-seen order, with its events, first and last.
  absl::flat_hash_map<uint64_t, uint32_t> fv_index;
  std::vector<FvCell> fv;  // by group number
  // Per part, per row: group << 32 | timestamp (what pass 2 reads, in one
  // load per row).
  std::vector<std::vector<uint64_t>> group_of(parts.size());
  for (size_t p = 0; p < parts.size(); ++p) {
    const PartColumns& c = parts[p]->columns();
    std::vector<uint64_t>& groups = group_of[p];
    groups.resize(parts[p]->rows());
    uint64_t last_key = std::numeric_limits<uint64_t>::max();
    uint32_t g = 0;
    for (uint32_t row = 0; row < groups.size(); ++row) {
      const uint64_t key = (static_cast<uint64_t>(c.feature[row]) << 32) | c.version[row];
      if (key != last_key) {
        auto [it, inserted] = fv_index.try_emplace(key, static_cast<uint32_t>(fv.size()));
        if (inserted) {
          fv.push_back(FvCell{c.feature[row], c.version[row], 0, std::numeric_limits<uint32_t>::max(), 0, {}, {}});
        }
        g = it->second;
        last_key = key;
      }
      groups[row] = (static_cast<uint64_t>(g) << 32) | c.timestamp[row];
      FvCell& cell = fv[g];
      ++cell.events;
      cell.first = std::min(cell.first, c.timestamp[row]);
      cell.last = std::max(cell.last, c.timestamp[row]);
    }
  }
  // Renumber the groups in (feature, version) order, the summary's.
  const size_t groups = fv.size();
  std::vector<uint32_t> order(groups);
  for (uint32_t i = 0; i < groups; ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    return std::pair(fv[a].feature, fv[a].version) < std::pair(fv[b].feature, fv[b].version);
  });
  std::vector<uint32_t> rank(groups);
  for (uint32_t i = 0; i < groups; ++i) rank[order[i]] = i;
  for (std::vector<uint64_t>& rows : group_of) {
    for (uint64_t& g : rows) g = (static_cast<uint64_t>(rank[g >> 32]) << 32) | static_cast<uint32_t>(g);
  }
  r->fv_.reserve(groups);
  for (const uint32_t i : order) r->fv_.push_back(std::move(fv[i]));
  r->key_groups();

  // The sessions of each group: a counting sort of the rows by group, then
  // each group's codes sorted.
  {
    std::vector<uint32_t> starts(groups + 1, 0);
    for (const std::vector<uint64_t>& rows : group_of) {
      for (const uint64_t g : rows) ++starts[(g >> 32) + 1];
    }
    for (size_t g = 0; g < groups; ++g) starts[g + 1] += starts[g];
    std::vector<uint32_t> sessions(starts[groups]);
    std::vector<uint32_t> next(starts.begin(), starts.end() - 1), scratch;
    for (size_t p = 0; p < parts.size(); ++p) {
      const std::vector<uint32_t>& session = parts[p]->columns().session;
      for (size_t row = 0; row < group_of[p].size(); ++row) sessions[next[group_of[p][row] >> 32]++] = session[row];
    }
    for (size_t g = 0; g < groups; ++g) {
      uint32_t* const begin = sessions.data() + starts[g];
      uint32_t* end = sessions.data() + starts[g + 1];
      radix_sort(std::span<uint32_t>(begin, end), scratch);
      end = std::unique(begin, end);
      r->fv_[g].sessions = Bitmap::from_strictly_ascending(std::span<const uint32_t>(begin, end));
      r->fv_[g].sessions.seal();
    }
  }

  // Pass 2, user by user in code order (the parts' user indexes): each
  // user's entries, and so each group's users, ascending.
  {
    std::vector<uint32_t> users;
    for (const auto& part : parts) {
      part->indexes().user.for_each([&](uint32_t code, std::span<const uint32_t>) { users.push_back(code); });
    }
    sort_unique(users);
    std::vector<std::vector<uint32_t>> group_users(groups);
    // The month's timeline cells come out of this pass too: a feature's
    // users are those with an entry of one of its groups, in code order.
    // feature_of[g]: the index of group g's feature among the distinct
    // features (groups are in feature order).
    std::vector<uint32_t> feature_of(groups);
    std::vector<uint32_t> features;
    std::vector<uint64_t> feature_events;
    for (size_t g = 0; g < groups; ++g) {
      if (features.empty() || features.back() != r->fv_[g].feature) {
        features.push_back(r->fv_[g].feature);
        feature_events.push_back(0);
      }
      feature_of[g] = static_cast<uint32_t>(features.size() - 1);
      feature_events.back() += r->fv_[g].events;
    }
    std::vector<std::vector<uint32_t>> feature_users(features.size());
    std::vector<uint32_t> slot(groups, UINT32_MAX);    // group -> index into `mine`, for the current user
    struct Usage {
      uint32_t group;
      uint64_t count;
      uint32_t first, last;
    };
    std::vector<Usage> mine;
    // The groups in `mine`, as bits: a user with many entries takes them in
    // group order by scanning these words rather than sorting `mine`.
    std::vector<uint64_t> touched((groups + 63) / 64, 0);
    r->user_codes_.reserve(users.size());
    r->user_ends_.reserve(users.size());
    for (const uint32_t user : users) {
      for (size_t p = 0; p < parts.size(); ++p) {
        const uint64_t* info = group_of[p].data();
        const std::span<const uint32_t> rows = parts[p]->user_rows(user);
        // A user's rows are spread over the part: fetch a few ahead.
        constexpr size_t kAhead = 8;
        for (size_t i = 0; i < std::min(kAhead, rows.size()); ++i) __builtin_prefetch(info + rows[i]);
        for (size_t i = 0; i < rows.size(); ++i) {
          if (i + kAhead < rows.size()) __builtin_prefetch(info + rows[i + kAhead]);
          const auto g = static_cast<uint32_t>(info[rows[i]] >> 32);
          const auto t = static_cast<uint32_t>(info[rows[i]]);
          if (slot[g] == UINT32_MAX) {
            slot[g] = static_cast<uint32_t>(mine.size());
            mine.push_back(Usage{g, 0, t, t});
            touched[g >> 6] |= uint64_t{1} << (g & 63);
          }
          Usage& e = mine[slot[g]];
          ++e.count;
          e.first = std::min(e.first, t);
          e.last = std::max(e.last, t);
        }
      }
      const auto emit = [&](const Usage& e) {
        const uint32_t g = e.group;
        r->add_entry(g, e.count, e.first, e.last);
        group_users[g].push_back(user);
        std::vector<uint32_t>& month_users = feature_users[feature_of[g]];
        if (month_users.empty() || month_users.back() != user) month_users.push_back(user);
        slot[g] = UINT32_MAX;
      };
      // In group order: sorting k entries costs ~k log k comparisons,
      // scanning the bits one word per 64 groups.
      if (mine.size() * 4 >= touched.size()) {
        for (size_t w = 0; w < touched.size(); ++w) {
          for (uint64_t bits = touched[w]; bits != 0; bits &= bits - 1) {
            emit(mine[slot[w * 64 + static_cast<size_t>(__builtin_ctzll(bits))]]);
          }
          touched[w] = 0;
        }
      } else {
        std::sort(mine.begin(), mine.end(), [](const Usage& a, const Usage& b) { return a.group < b.group; });
        for (const Usage& e : mine) {
          touched[e.group >> 6] = 0;
          emit(e);
        }
      }
      mine.clear();
      r->user_codes_.push_back(user);  // ascending: `users` is
      r->user_ends_.push_back(static_cast<uint32_t>(r->entries_.size()));
    }
    r->index_user_ends();
    for (size_t g = 0; g < groups; ++g) {
      r->fv_[g].users = Bitmap::from_strictly_ascending(group_users[g]);
      r->fv_[g].users.seal();
    }
    TimelineLevel& level = r->levels_[static_cast<int>(Granularity::kMonth)];
    const auto month_bucket = static_cast<uint32_t>(civil::month_start(month));
    for (size_t f = 0; f < features.size(); ++f) {
      const auto begin = static_cast<uint32_t>(level.user_codes.size());
      level.user_codes.insert(level.user_codes.end(), feature_users[f].begin(), feature_users[f].end());
      level.cells.push_back(TimelineCell{month_bucket, features[f], feature_events[f], begin,
                                         static_cast<uint32_t>(level.user_codes.size())});
    }
  }

  // Timelines (the month's cells are made above): the hour cells from the
  // rows, an hour at a time across the parts (each part's rows of an hour
  // follow each other), then days from hours and weeks from days.
  {
    TimelineLevel& hours = r->levels_[static_cast<int>(Granularity::kHour)];
    std::vector<uint64_t> pairs, scratch;
    rollup_internal::for_each_hour(
        parts,
        [&](size_t p, uint32_t row) {
          const PartColumns& c = parts[p]->columns();
          pairs.push_back((static_cast<uint64_t>(c.feature[row]) << 32) | c.user[row]);
        },
        [&](int64_t hour) {
          rollup_internal::emit_bucket(static_cast<uint32_t>(hour), pairs, nullptr, hours, scratch);
        });
    hours.cells.shrink_to_fit();
    hours.user_codes.shrink_to_fit();
    TimelineLevel& days = r->levels_[static_cast<int>(Granularity::kDay)];
    days = rollup_internal::coarsen(hours, [](uint32_t b) { return static_cast<uint32_t>(civil::start_of_day(b)); });
    r->levels_[static_cast<int>(Granularity::kWeek)] =
        rollup_internal::coarsen(days, [](uint32_t b) { return static_cast<uint32_t>(civil::start_of_week(b)); });
  }
  if (helper.joinable()) {
    helper.join();
  } else {
    build_versions_and_metadata(&r->levels_[static_cast<int>(Granularity::kMonth)], r->user_codes_);
  }
  r->versions_ = std::move(*versions);
  r->metadata_ = std::move(metadata);
  r->finish();
  return r;
}

void PartitionRollup::finish() {
  activity_ = ActivityRollup::from_timeline(levels_[static_cast<int>(Granularity::kDay)],
                                            levels_[static_cast<int>(Granularity::kMonth)]);
  index_hour_cells();
}

void PartitionRollup::index_hour_cells() {
  // A counting sort of the cells by feature; each feature's stay in bucket order.
  const std::vector<TimelineCell>& cells = levels_[static_cast<int>(Granularity::kHour)].cells;
  uint32_t features = 0;
  for (const TimelineCell& c : cells) features = std::max(features, c.feature + 1);
  hour_feature_starts_.assign(features + 1, 0);
  for (const TimelineCell& c : cells) ++hour_feature_starts_[c.feature + 1];
  for (uint32_t f = 0; f < features; ++f) hour_feature_starts_[f + 1] += hour_feature_starts_[f];
  hour_cells_by_feature_.resize(cells.size());
  std::vector<uint32_t> next(hour_feature_starts_.begin(), hour_feature_starts_.end() - 1);
  for (uint32_t i = 0; i < cells.size(); ++i) hour_cells_by_feature_[next[cells[i].feature]++] = i;
}

void PartitionRollup::add_entry(uint32_t group, uint64_t count, uint32_t first, uint32_t last) {
  if (count >= UserEntry::kBigCount) big_counts_.emplace(static_cast<uint32_t>(entries_.size()), count);
  entries_.push_back(
      UserEntry{group, static_cast<uint32_t>(std::min<uint64_t>(count, UserEntry::kBigCount)), first, last});
}

size_t PartitionRollup::user_place(uint32_t user_code) const {
  if (ends_by_code_) {
    if (user_code < first_user_code_ || user_code > last_user_code_) return kNoUser;
    const size_t place = user_code - first_user_code_;
    // A code of the range without entries ends where the one before does.
    return user_ends_[place] != (place == 0 ? 0 : user_ends_[place - 1]) ? place : kNoUser;
  }
  // Interpolated: a query about one user looks it up in every month's
  // rollup, usually with the codes out of the cache (lib/util/sorted_search.h).
  const size_t i = interpolated_lower_bound(user_codes_, user_code, first_user_code_, last_user_code_);
  return i == user_codes_.size() || user_codes_[i] != user_code ? kNoUser : i;
}

std::span<const UserEntry> PartitionRollup::user(uint32_t user_code) const {
  ensure(bit(RollupSection::kUserEntries));
  const size_t place = user_place(user_code);
  return place == kNoUser ? std::span<const UserEntry>() : entries_at(place);
}

void PartitionRollup::users_of(std::span<const PartitionRollup* const> rollups, uint32_t user_code,
                               std::span<std::span<const UserEntry>> out) {
  // Each step reads what the step before asked for and asks for what the
  // next one reads: prefetches only, so the answers are user()'s whatever
  // the caches hold.
  const auto ask = [](const void* p) { __builtin_prefetch(p); };
  const auto ask_ends = [&](const PartitionRollup* r, size_t place) {
    if (place > 0) ask(&r->user_ends_[place - 1]);
    ask(&r->user_ends_[place]);
  };
  constexpr size_t kSearch = kNoUser - 1;  // ends by rank: user_codes_ searched in the second step
  absl::InlinedVector<size_t, 16> place(rollups.size(), kNoUser);
  for (size_t k = 0; k < rollups.size(); ++k) {
    const PartitionRollup* r = rollups[k];
    r->ensure(bit(RollupSection::kUserEntries) | bit(RollupSection::kGroups));
    if (r->ends_by_code_) {
      if (user_code < r->first_user_code_ || user_code > r->last_user_code_) continue;
      place[k] = user_code - r->first_user_code_;
      ask_ends(r, place[k]);
    } else if (const size_t n = r->user_codes_.size(); n != 0) {
      place[k] = kSearch;
      ask(&r->user_codes_[interpolated_guess(n, user_code, r->first_user_code_, r->last_user_code_)]);
    }
  }
  for (size_t k = 0; k < rollups.size(); ++k) {
    if (place[k] != kSearch) continue;
    place[k] = rollups[k]->user_place(user_code);
    if (place[k] != kNoUser) ask_ends(rollups[k], place[k]);
  }
  // A typical user's few entries a month, and the keys they name, are
  // asked for; a heavy user's many are read in order anyway (the hardware
  // prefetches them), where asking for each would cost more than it saves.
  constexpr size_t kAskedEntries = 32;
  for (size_t k = 0; k < rollups.size(); ++k) {
    out[k] = place[k] == kNoUser ? std::span<const UserEntry>() : rollups[k]->entries_at(place[k]);
    // (A code of the range without entries, by code: user()'s empty span.)
    if (out[k].empty()) out[k] = {};
    if (out[k].empty() || out[k].size() > kAskedEntries) continue;
    // Every cache line of them (a prefetch does not fault).
    const uintptr_t end = reinterpret_cast<uintptr_t>(out[k].data() + out[k].size());
    for (uintptr_t line = reinterpret_cast<uintptr_t>(out[k].data()) & ~uintptr_t{63}; line < end; line += 64) {
      ask(reinterpret_cast<const void*>(line));
    }
  }
  for (size_t k = 0; k < rollups.size(); ++k) {
    if (out[k].size() > kAskedEntries) continue;
    const std::vector<FvKey>& keys = rollups[k]->group_keys_;
    for (const UserEntry& e : out[k]) {
      if (e.group < keys.size()) ask(&keys[e.group]);
    }
  }
}

std::vector<uint32_t> PartitionRollup::users() const {
  ensure(bit(RollupSection::kUserEntries));
  return user_codes_;
}

std::shared_ptr<const PartitionRollup> PartitionRollup::restore(RollupContents contents) {
  std::shared_ptr<PartitionRollup> r(new PartitionRollup());
  r->serial_ = new_serial();
  r->month_ = contents.month;
  r->rows_ = contents.rows;
  r->part_ids_ = std::move(contents.part_ids);
  r->fv_ = std::move(contents.summary);
  r->key_groups();
  r->take_entries(contents);
  for (int g = 0; g < 4; ++g) r->levels_[g] = std::move(contents.timeline[g]);
  r->versions_ = std::move(contents.versions);
  r->metadata_ = std::move(contents.metadata);
  r->finish();
  return r;
}

std::shared_ptr<const PartitionRollup> PartitionRollup::lazy(uint32_t month, uint64_t rows,
                                                             std::vector<uint64_t> part_ids, uint64_t origin,
                                                             std::unique_ptr<RollupSource> source,
                                                             std::shared_ptr<PartCache> budget) {
  std::shared_ptr<PartitionRollup> r(new PartitionRollup());
  r->serial_ = new_serial();
  r->month_ = month;
  r->rows_ = rows;
  r->part_ids_ = std::move(part_ids);
  r->origin_ = origin;
  r->budget_ = std::move(budget);
  r->ready_.store(0, std::memory_order_relaxed);
  MutexLock l(&r->load_mu_);
  r->source_ = std::move(source);
  return r;
}

PartitionRollup::~PartitionRollup() {
  // First: the cache may be dropping the sections on another thread.
  if (budget_ != nullptr) budget_->forget(this);
}

void PartitionRollup::Release::operator()(const PartitionRollup* rollup) const { rollup->release(); }

PartitionRollup::Hold PartitionRollup::hold() const {
  // No budget to make room in: nothing is ever dropped.
  if (budget_ == nullptr || budget_->budget() == 0) return Hold();
  MutexLock l(&hold_mu_);
  ++holders_;
  return Hold(this);
}

void PartitionRollup::release() const {
  uint32_t used = 0;
  {
    MutexLock l(&hold_mu_);
    if (--holders_ > 0) return;
    // Under hold_mu_: no Hold begins meanwhile, so no accessor marks a
    // section that this forgets.
    used = used_bits_.exchange(0);
    last_used_ = used;
  }
  // Without a lock of this rollup: the cache takes them to drop sections. A
  // rollup the query used is the newest use; then whatever is over the
  // budget goes.
  if (used != 0) budget_->touch(this);
  budget_->trim();
}

namespace {

// The sections that go (or stay) together: the summary's cells, their
// bitmaps (in the cells) and the user entries (indexes into them).
constexpr uint32_t summary_family(uint32_t bits) {
  constexpr uint32_t kFamily = (1u << static_cast<int>(RollupSection::kGroups)) |
                               (1u << static_cast<int>(RollupSection::kSummaryBitmaps)) |
                               (1u << static_cast<int>(RollupSection::kUserEntries));
  return (bits & kFamily) != 0 ? bits | kFamily : bits;
}

}  // namespace

size_t PartitionRollup::drop_charged(bool all) const {
  // hold_mu_ stays locked while the sections go: no Hold begins meanwhile.
  MutexLock h(&hold_mu_);
  MutexLock l(&load_mu_);
  // A damaged rollup keeps what it read (the store leaves it out of the
  // next snapshots and drops it on its next checkpoint).
  if (source_ == nullptr || damaged_.load(std::memory_order_acquire) || charged_ == 0) return 0;
  if (holders_ == 0) {
    // No Hold lives, so no reader looks at a section. Those the last
    // queries did not ask for go first (read by earlier ones); then all,
    // read again on the next use.
    if (!all) {
      const uint32_t ready = ready_.load();
      const uint32_t stale = ready & ~summary_family(last_used_);
      if (stale == 0) return 0;
      ready_.store(ready & ~stale);
      return clear_sections(stale);
    }
    ready_.store(0);
    const size_t freed = clear_sections(kAllBits);
    last_used_ = 0;
    return freed + std::exchange(charged_, 0);
  }
  // Held: the sections no holder asked for go. Their ready bits are cleared
  // first, then the marks looked at (ensure() marks, then looks at the
  // bits): a section marked meanwhile is given back its bit and stays (its
  // reader saw the bit, or waits for load_mu_ and finds it again).
  const uint32_t candidates = ready_.load() & ~summary_family(used_bits_.load());
  if (candidates == 0) return 0;
  ready_.fetch_and(~candidates);
  const uint32_t kept = candidates & summary_family(used_bits_.load());
  if (kept != 0) ready_.fetch_or(kept);
  const uint32_t gone = candidates & ~kept;
  return gone != 0 ? clear_sections(gone) : 0;
}

size_t PartitionRollup::clear_sections(uint32_t bits) const {
  // Under load_mu_ with no reader of these sections: the other place (with
  // take_sections) a const rollup changes.
  auto* self = const_cast<PartitionRollup*>(this);
  const size_t before = memory_bytes_locked();
  if (bits & bit(RollupSection::kGroups)) {
    self->fv_ = std::vector<FvCell>();
    self->group_keys_ = std::vector<FvKey>();
  }
  if (bits & bit(RollupSection::kUserEntries)) {
    self->user_codes_ = std::vector<uint32_t>();
    self->user_ends_ = std::vector<uint32_t>();
    self->index_user_ends();
    self->entries_ = std::vector<UserEntry>();
    self->big_counts_ = absl::flat_hash_map<uint32_t, uint64_t>();
  }
  for (int g = 0; g < 4; ++g) {
    if (bits & (1u << (static_cast<int>(RollupSection::kHour) + g))) self->levels_[g] = TimelineLevel();
  }
  if (bits & bit(RollupSection::kHour)) {
    self->hour_cells_by_feature_ = std::vector<uint32_t>();
    self->hour_feature_starts_ = std::vector<uint32_t>();
  }
  if (bits & bit(RollupSection::kVersions)) {
    self->versions_.reset();
    // Made from the week cells: whoever holds some asked for the versions.
    MutexLock b(&self->bits_mu_);
    self->week_edges_.reset();
  }
  if (bits & bit(RollupSection::kMetadata)) self->metadata_.reset();
  if (bits & kActivityBit) self->activity_ = ActivityRollup();
  if (bits & bit(RollupSection::kDay)) {
    // Made from the day cells: whoever holds some asked for the day level.
    MutexLock b(&self->bits_mu_);
    self->day_bits_.clear();
  }
  if (bits & bit(RollupSection::kHour)) {
    // Made from the hour cells: whoever holds some asked for the hour level.
    MutexLock b(&self->bits_mu_);
    self->feature_hours_.clear();
  }
  const size_t freed = std::min(charged_, before - std::min(before, memory_bytes_locked()));
  charged_ -= freed;
  return freed;
}

void PartitionRollup::key_groups() {
  group_keys_.clear();
  group_keys_.reserve(fv_.size());
  for (const FvCell& c : fv_) group_keys_.push_back(FvKey{c.feature, c.version});
}

void PartitionRollup::take_entries(RollupContents& c) {
  entries_.reserve(c.entry_groups.size());
  user_ends_.reserve(c.users.size());
  size_t e = 0;
  for (size_t u = 0; u < c.users.size(); ++u) {
    for (uint32_t k = 0; k < c.entries_per_user[u]; ++k, ++e) {
      add_entry(c.entry_groups[e], c.entry_counts[e], c.entry_firsts[e], c.entry_lasts[e]);
    }
    user_ends_.push_back(static_cast<uint32_t>(e));
  }
  user_codes_ = std::move(c.users);  // ascending (the file's reader checks)
  index_user_ends();
}

void PartitionRollup::index_user_ends() {
  first_user_code_ = user_codes_.empty() ? 0 : user_codes_.front();
  last_user_code_ = user_codes_.empty() ? 0 : user_codes_.back();
  ends_by_code_ = false;
  const size_t n = user_codes_.size();
  if (n == 0 || user_ends_.size() != n) return;
  const uint64_t range = uint64_t{last_user_code_} - first_user_code_ + 1;
  if (range > 2 * uint64_t{n}) return;
  std::vector<uint32_t> by_code(static_cast<size_t>(range));
  uint32_t end = 0;
  size_t i = 0;
  for (size_t c = 0; c < by_code.size(); ++c) {
    if (i < n && user_codes_[i] - first_user_code_ == c) end = user_ends_[i++];
    by_code[c] = end;
  }
  // (Codes not strictly ascending, which the file's reader rules out, keep
  // their ends by rank.)
  if (i != n) return;
  user_ends_ = std::move(by_code);
  ends_by_code_ = true;
}

const char* rollup_section_name(RollupSection s) {
  switch (s) {
    case RollupSection::kGroups: return "summary cells";
    case RollupSection::kSummaryBitmaps: return "summary bitmaps";
    case RollupSection::kUserEntries: return "user entries";
    case RollupSection::kHour: return "hour timeline";
    case RollupSection::kDay: return "day timeline";
    case RollupSection::kWeek: return "week timeline";
    case RollupSection::kMonth: return "month timeline";
    case RollupSection::kVersions: return "version timeline";
    case RollupSection::kMetadata: return "metadata counts";
  }
  return "?";
}

void PartitionRollup::take_sections(uint32_t bits, RollupContents& c) {
  if (bits & bit(RollupSection::kGroups)) {
    fv_ = std::move(c.summary);
    key_groups();
  }
  if (bits & bit(RollupSection::kSummaryBitmaps)) {
    // The source checked that there is one of each per cell.
    for (size_t i = 0; i < fv_.size() && i < c.summary_users.size() && i < c.summary_sessions.size(); ++i) {
      fv_[i].users = std::move(c.summary_users[i]);
      fv_[i].sessions = std::move(c.summary_sessions[i]);
    }
  }
  if (bits & bit(RollupSection::kUserEntries)) take_entries(c);
  for (int g = 0; g < 4; ++g) {
    if (bits & (1u << (static_cast<int>(RollupSection::kHour) + g))) levels_[g] = std::move(c.timeline[g]);
  }
  if (bits & bit(RollupSection::kHour)) index_hour_cells();
  if (bits & bit(RollupSection::kVersions)) versions_ = std::move(c.versions);
  if (bits & bit(RollupSection::kMetadata)) metadata_ = std::move(c.metadata);
}

void PartitionRollup::read_sections(uint32_t bits) const {
  // The bitmaps go into the summary's cells and the user entries index
  // them (read after them: lower bits first); the activity is made from
  // the day and month timelines.
  if (bits & (bit(RollupSection::kSummaryBitmaps) | bit(RollupSection::kUserEntries))) {
    bits |= bit(RollupSection::kGroups);
  }
  if (bits & kActivityBit) bits |= bit(RollupSection::kDay) | bit(RollupSection::kMonth);
  size_t grew = 0;
  {
    MutexLock l(&load_mu_);
    const size_t before = budget_ != nullptr ? memory_bytes_locked() : 0;
    // Sections are read once, under load_mu_, before their bit is published
    // (release); readers look only at sections whose bit they saw (acquire).
    // So this is the one place a const rollup changes.
    auto* self = const_cast<PartitionRollup*>(this);
    uint32_t ready = ready_.load(std::memory_order_relaxed);
    for (int s = 0; s < kRollupSections; ++s) {
      const uint32_t b = 1u << s;
      if (!(bits & b) || (ready & b)) continue;
      RollupContents c;
      bool all = false;
      absl::Status status = source_ != nullptr ? source_->read(static_cast<RollupSection>(s), &c, &all)
                                               : absl::InternalError("a rollup without a source");
      const uint32_t read = all ? (kActivityBit - 1) & ~ready : b;
      if (!status.ok()) {
        // The section reads as empty; the store answers without this rollup.
        if (damage_.ok()) damage_ = std::move(status);
        damaged_.store(true, std::memory_order_release);
      } else {
        self->take_sections(read, c);
      }
      ready |= read;
      ready_.store(ready, std::memory_order_release);
    }
    if ((bits & kActivityBit) && !(ready & kActivityBit)) {
      self->activity_ = ActivityRollup::from_timeline(levels_[static_cast<int>(Granularity::kDay)],
                                                      levels_[static_cast<int>(Granularity::kMonth)]);
      ready |= kActivityBit;
    }
    // Its file is not read again, unless the sections may be dropped.
    if (ready == kAllBits && budget_ == nullptr) source_.reset();
    ready_.store(ready, std::memory_order_release);
    if (budget_ != nullptr) {
      // Sections are only added here: what they hold now, less what they held.
      const size_t after = memory_bytes_locked();
      if (after > before) {
        grew = after - before;
        charged_ += grew;
      }
    }
  }
  // Without load_mu_: the cache takes it to drop sections (this rollup's,
  // when nothing holds it: a reader that holds it keeps what it reads).
  if (grew > 0) budget_->charge(this, static_cast<int64_t>(grew));
}

absl::Status PartitionRollup::damage() const {
  MutexLock l(&load_mu_);
  return damage_;
}

absl::Status PartitionRollup::load_all() const {
  ensure(kAllBits);
  return damage();
}

const DayUserBits& PartitionRollup::day_user_bits(uint32_t feature) const {
  const TimelineLevel& days = timeline(Granularity::kDay);
  MutexLock l(&bits_mu_);
  std::unique_ptr<const DayUserBits>& bits = day_bits_[feature];
  if (bits == nullptr) bits = std::make_unique<const DayUserBits>(DayUserBits::from_cells(days, feature));
  return *bits;
}

const FeatureHours& PartitionRollup::feature_hours(uint32_t feature) const {
  const TimelineLevel& hours = timeline(Granularity::kHour);
  const std::span<const uint32_t> cells = hour_cells_of(feature);
  MutexLock l(&bits_mu_);
  std::unique_ptr<const FeatureHours>& h = feature_hours_[feature];
  if (h == nullptr) h = std::make_unique<const FeatureHours>(FeatureHours::from_cells(hours, cells));
  return *h;
}

const VersionWeekEdges& PartitionRollup::version_week_edges() const {
  const VersionTimeline* versions = this->versions();
  MutexLock l(&bits_mu_);
  if (week_edges_ == nullptr) {
    auto edges = std::make_unique<VersionWeekEdges>();
    if (versions != nullptr) {
      const int64_t begin = civil::month_start(month_), end = civil::month_start(civil::next_month(month_));
      constexpr int kWeek = static_cast<int>(Granularity::kWeek);
      constexpr int64_t kWeekSeconds = 7 * civil::kSecondsPerDay;
      edges->versions = CellBits::cut_cells(versions->versions[kWeek], begin, end, kWeekSeconds);
      edges->active = CellBits::cut_cells(versions->active[kWeek], begin, end, kWeekSeconds);
    }
    week_edges_ = std::move(edges);
  }
  return *week_edges_;
}

size_t PartitionRollup::memory_bytes() const {
  size_t bits = 0;
  {
    MutexLock l(&bits_mu_);
    for (const auto& [feature, b] : day_bits_) bits += b->memory_bytes();
    for (const auto& [feature, h] : feature_hours_) bits += h->memory_bytes();
    if (week_edges_ != nullptr) bits += week_edges_->memory_bytes();
  }
  MutexLock l(&load_mu_);
  return memory_bytes_locked() + bits;  // the day bits, feature hours and week edges: not charged to the cache
}

size_t PartitionRollup::charged_bytes() const {
  MutexLock l(&load_mu_);
  return charged_;
}

size_t PartitionRollup::memory_bytes_locked() const {
  size_t n = sizeof(*this) + part_ids_.capacity() * sizeof(uint64_t) + fv_.capacity() * sizeof(FvCell) +
             group_keys_.capacity() * sizeof(FvKey) +
             entries_.capacity() * sizeof(UserEntry) +
             (user_codes_.capacity() + user_ends_.capacity()) * sizeof(uint32_t);
  for (const FvCell& c : fv_) n += c.users.memory_bytes() + c.sessions.memory_bytes();
  for (const TimelineLevel& l : levels_) {
    n += l.cells.capacity() * sizeof(TimelineCell) + l.user_codes.capacity() * sizeof(uint32_t);
  }
  n += (hour_cells_by_feature_.capacity() + hour_feature_starts_.capacity()) * sizeof(uint32_t);
  if (versions_) n += versions_->memory_bytes();
  if (metadata_) n += metadata_->memory_bytes();
  return n + activity_.memory_bytes();
}

std::vector<FvCell> merge_summaries(std::span<const PartitionRollup* const> rollups,
                                    const std::function<bool(const FvCell&)>& keep) {
  absl::flat_hash_map<uint64_t, std::vector<const FvCell*>> groups;
  for (const PartitionRollup* r : rollups) {
    for (const FvCell& c : r->summary()) {
      if (keep && !keep(c)) continue;
      groups[(static_cast<uint64_t>(c.feature) << 32) | c.version].push_back(&c);
    }
  }
  std::vector<FvCell> out;
  out.reserve(groups.size());
  std::vector<const Bitmap*> users, sessions;
  for (const auto& [key, cells] : groups) {
    FvCell m{cells[0]->feature, cells[0]->version, 0, std::numeric_limits<uint32_t>::max(), 0, {}, {}};
    users.clear();
    sessions.clear();
    for (const FvCell* c : cells) {
      m.events += c->events;
      m.first = std::min(m.first, c->first);
      m.last = std::max(m.last, c->last);
      users.push_back(&c->users);
      sessions.push_back(&c->sessions);
    }
    m.users = Bitmap::union_of(users);
    m.sessions = Bitmap::union_of(sessions);
    m.users.seal();
    m.sessions.seal();
    out.push_back(std::move(m));
  }
  std::sort(out.begin(), out.end(), [](const FvCell& a, const FvCell& b) {
    return a.feature != b.feature ? a.feature < b.feature : a.version < b.version;
  });
  return out;
}

}  // namespace usagedb
