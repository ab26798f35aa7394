// PartitionRollup: the pre-aggregated form of one monthly partition's parts,
// the store's materialized views (Tinybird's, but exact and never stale:
// see "Coverage" below).
//
// Each endpoint groups by a few columns; a rollup holds those groups already
// computed over a set of the partition's parts:
//
//   summary     (feature, version) -> events, first, last, users, sessions
//               (roaring bitmaps of dictionary codes)
//   user        user -> [(feature, version, count, first, last)]
//   timeline    per granularity (hour, day, week, month):
//               (bucket, feature) -> events, the sorted distinct user codes
//   versions    per granularity: (bucket, version) -> events, users, and
//               bucket -> users (version_timeline.h; version_adoption)
//   metadata    metadata string -> events and users per feature and in all
//               (metadata_counts.h; property_breakdown), when the rows hold
//               at most MetadataCounts::kMaxValues distinct strings
//   activity    the users of each day (any feature), of each feature in the
//               month and of the month, as bitmaps (activity_rollup.h):
//               made from the day and month cells whenever a rollup is
//               built or read back, for the engagement endpoints
//   day bits    per feature, its users of each day as plain bit vectors
//               (day_user_bits.h): made from the day cells when a funnel
//               first asks for that feature, kept, never persisted
//   hours by    per feature, its hour cells' users in one place, its
//   feature     heavy users' hours apart (feature_hours.h): made from the
//               hour cells when a funnel first asks for that feature,
//               kept, never persisted
//
// An endpoint answers a request from the rollup where the request covers
// whole buckets of it (a whole month for the summary, whole timeline
// buckets, every event of a user), and from the sorted parts for the rest
// (partial buckets at the edges of the time window, filters the rollup does
// not group by, parts the rollup does not cover yet, unsealed rows). The two
// are combined exactly: distinct counts as |A ∪ B| = |A| + |B| - |A ∩ B|.
//
// Why these grains and not a finer (hour, feature, version, event_type)
// cube: on 10M generated events (20k users, 60 features, 24 versions, 5
// event types) such a cube has 4.5M cells, nearly one per event, and its
// user sets add up to more codes than the rows themselves; the grains above
// have 1.4k / 0.52M (hour) / 22k (day) cells and answer each endpoint with
// a few thousand cells. Requests filtering on product_version or
// event_type in the timeline, or on event_type in the summary, read parts
// (bitmap indexes on feature/version keep that fast).
//
// Coverage: a rollup is built from a list of parts and knows their ids. The
// store keeps each partition's rollups in a RollupSet (rollup_set.h): one
// per part, built with the part when it is sealed or merged, each with the
// ids of the parts whose rows it holds. Whatever rewrites covered rows (a
// merge, deleting a user) removes the rollups of the parts it rewrites, and
// the new part comes with its own. So a query never counts a row twice or
// misses one, and every section of a rollup (present or added later) is
// built from exactly the rows of its parts by build() below.
//
// When: as each part is built (the background thread's seal or merge task,
// or the writer's own thread when the background thread is behind);
// checkpoints persist them with their coverage (lib/storage/rollup_file.h),
// so a reopened store starts with them.
//
// build() groups by sorting, not hashing: a pass over the rows numbers the
// (feature, version) groups; a pass over the parts' user indexes, user by
// user in code order, makes the user entries, each group's users and the
// month's timeline cells already in order; hour cells are made an hour at a
// time, days from hours and weeks from days (~4M rows/s on one core).
// A live store's parts hold minutes or hours of one day, so a day of one
// hour (a week of one day, a month of one day) takes that bucket's cells
// as they are, keys already in order are not sorted again, and rows of one
// metadata string take their metadata counts from the month's cells
// (rollup_internal::coarsen, radix_sort, MetadataCounts::build): a seal's
// rollup ~30% fewer instructions (bench/RESULTS.md, "seal10").
//
// Read on first use: a rollup read back from a file (lib/storage/
// rollup_file.h) is made by lazy() with a RollupSource and holds only its
// month, rows and parts until an accessor needs a section; that accessor
// reads the section (and what it is made from: activity() reads the day
// and month timelines) once, and every later call returns it. A section
// the source cannot read (a damaged file) reads as empty, and damaged()
// turns true: the store then drops the rollup and answers the query again
// from its parts (lib/db/event_store_impl.cc), as it does with a rollup
// file found damaged on open.
//
// Dropped when the budget needs room: the sections a lazy rollup read are
// charged to the budget lazy() was given (the store's PartCache), in the
// same least-recently-used order as the parts. A query holds every rollup
// its Snapshot shows (hold(), lib/query/snapshot.h) while it runs; a
// rollup nobody holds may have its sections dropped by the cache (and what
// is made from them: the activity, the hour cells by feature, the day
// bits), to be read from the file again on the next use. So a reader holds
// the rollup before it calls an accessor, and uses nothing an accessor
// returned after its Hold is gone.
//
// Thread-safety: immutable once built (sections read on first use are
// read, under a lock, by whichever thread asks first; dropped only while
// no Hold lives); share freely.
#ifndef USAGEDB_ROLLUP_PARTITION_ROLLUP_H_
#define USAGEDB_ROLLUP_PARTITION_ROLLUP_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "lib/index/bitmap.h"
#include "lib/rollup/cell_bits.h"
#include "lib/rollup/metadata_counts.h"
#include "lib/rollup/timeline_level.h"
#include "lib/rollup/version_timeline.h"
#include "lib/rollup/activity_rollup.h"
#include "lib/rollup/day_user_bits.h"
#include "lib/rollup/feature_hours.h"
#include "lib/table/part.h"
#include "lib/util/handle.h"
#include "lib/util/mutex.h"
#include "usagedb/queries.h"

namespace usagedb {

// One (feature, version) group of the summary.
struct FvCell {
  uint32_t feature = 0;
  uint32_t version = 0;
  uint64_t events = 0;
  uint32_t first = 0;  // min timestamp
  uint32_t last = 0;   // max timestamp
  Bitmap users;
  Bitmap sessions;
};

// The key of a summary cell alone: group_keys()[i] of summary()[i].
struct FvKey {
  uint32_t feature;
  uint32_t version;
};

// One user's usage of one (feature, version) group, summary()[group]. 16
// bytes: a 10M-event store holds millions of them. Its number of events is
// PartitionRollup::count(entry) (count32 unless it does not fit).
struct UserEntry {
  static constexpr uint32_t kBigCount = UINT32_MAX;  // count32 of a count kept aside
  uint32_t group;
  uint32_t count32;
  uint32_t first;
  uint32_t last;
};

// A rollup's contents column by column, as its file holds them
// (lib/storage/rollup_file.h): what PartitionRollup::restore() takes.
struct RollupContents {
  uint32_t month = 0;  // yyyymm
  uint64_t rows = 0;
  std::vector<uint64_t> part_ids;  // ascending
  std::vector<FvCell> summary;     // ascending by (feature, version)
  // A lazy rollup's kSummaryBitmaps section: summary[i]'s users and
  // sessions (restore() takes them in the cells themselves).
  std::vector<Bitmap> summary_users;
  std::vector<Bitmap> summary_sessions;
  // The users with entries, ascending by code, and how many entries each
  // has. Their entries follow one another in that order, each user's
  // ascending by group (an index into `summary`).
  std::vector<uint32_t> users;
  std::vector<uint32_t> entries_per_user;
  std::vector<uint32_t> entry_groups;
  std::vector<uint64_t> entry_counts;
  std::vector<uint32_t> entry_firsts;
  std::vector<uint32_t> entry_lasts;
  TimelineLevel timeline[4];  // indexed by Granularity
  // Absent in files written before these sections existed (and metadata
  // past MetadataCounts::kMaxValues strings): queries then read the parts.
  std::optional<VersionTimeline> versions;
  std::optional<MetadataCounts> metadata;
};

// The parts of a rollup a RollupSource reads one at a time (the sections
// of a rollup file, lib/storage/rollup_file.h).
enum class RollupSection : int {
  kGroups = 0,      // the summary's cells without their bitmaps
  kSummaryBitmaps,  // the summary cells' users and sessions
  kUserEntries,     // users, entries_per_user and the entry_* vectors
  kHour,            // timeline[kHour] ... timeline[kMonth]
  kDay,
  kWeek,
  kMonth,
  kVersions,        // versions (absent: left empty)
  kMetadata,        // metadata (absent: left empty)
};
inline constexpr int kRollupSections = 9;
// A section's name in messages ("summary bitmaps", "hour timeline", ...).
const char* rollup_section_name(RollupSection s);

// Where a lazy rollup's sections come from.
class RollupSource {
 public:
  virtual ~RollupSource() = default;
  // Reads `section` into its fields of `into` (the kSummaryBitmaps section
  // into summary_users and summary_sessions, one per summary cell); a
  // source that can only read everything at once (an older file) fills
  // every section and sets *all. A DataLossError naming the file and the
  // section when it is damaged.
  virtual absl::Status read(RollupSection section, RollupContents* into, bool* all) = 0;
};

class PartitionRollup final : private ChargedMemory {
  struct Release {
    void operator()(const PartitionRollup* rollup) const;  // rollup->release()
  };

 public:
  // Keeps the sections read while it lives (see "Dropped when the budget
  // needs room" above). Move-only; an empty Hold holds nothing (false: the
  // rollup has no budget). It does not own the rollup: whoever holds keeps
  // the rollup alive until the Hold is gone.
  using Hold = Handle<PartitionRollup, Release>;

  // Aggregates every row of `parts` (all in partition `month`, yyyymm).
  static std::shared_ptr<const PartitionRollup> build(uint32_t month,
                                                      std::span<const std::shared_ptr<const Part>> parts);
  // The rollup whose contents are `contents` (read back from a file), with
  // a new serial. REQUIRES: `contents` as RollupContents describes, its
  // vectors of entries as long as the sum of entries_per_user (the file's
  // reader checks all of it).
  static std::shared_ptr<const PartitionRollup> restore(RollupContents contents);
  // A rollup of `rows` rows of `part_ids` (ascending) in `month` whose
  // sections `source` reads on first use; `origin` is the number of the
  // file it reads (origin()). `budget`, when given, is charged the bytes of
  // the sections read, until they are dropped (when it needs room and no
  // Hold lives) or the rollup is destroyed (PartCache::charge: the store's
  // parts make room for them).
  static std::shared_ptr<const PartitionRollup> lazy(uint32_t month, uint64_t rows, std::vector<uint64_t> part_ids,
                                                     uint64_t origin, std::unique_ptr<RollupSource> source,
                                                     std::shared_ptr<PartCache> budget = nullptr);

  PartitionRollup(const PartitionRollup&) = delete;
  PartitionRollup& operator=(const PartitionRollup&) = delete;
  ~PartitionRollup();

  // Holds the sections (those read now and those read while it lives) in
  // memory until the Hold is gone. A rollup without a budget (built in
  // memory, read without one, or with a budget of 0: no limit) never drops
  // them: an empty Hold.
  Hold hold() const ABSL_LOCKS_EXCLUDED(hold_mu_);

  // Unique among the rollups of a process (cache keys).
  uint64_t serial() const { return serial_; }
  uint32_t month() const { return month_; }
  uint64_t rows() const { return rows_; }
  // The ids of the parts it was built from, ascending (read back from a
  // file: the parts it covered when it was written).
  const std::vector<uint64_t>& part_ids() const { return part_ids_; }

  // The file a lazy() rollup reads (0: built or restored in memory).
  uint64_t origin() const { return origin_; }
  // Whether a section could not be read (it reads as empty); damage() says
  // why. A query that read an empty section must be answered again without
  // this rollup.
  bool damaged() const { return damaged_.load(std::memory_order_acquire); }
  absl::Status damage() const ABSL_LOCKS_EXCLUDED(load_mu_);
  // Reads every section not read yet; damage() after.
  absl::Status load_all() const ABSL_LOCKS_EXCLUDED(load_mu_);

  // Sorted by (feature, version).
  std::span<const FvCell> summary() const {
    ensure(bit(RollupSection::kGroups) | bit(RollupSection::kSummaryBitmaps));
    return fv_;
  }
  // The number of summary cells, and summary()[i] without its bitmaps
  // (feature, version, events, first, last): what a user's entries name,
  // read without the summary's bitmaps.
  size_t groups() const {
    ensure(bit(RollupSection::kGroups));
    return fv_.size();
  }
  const FvCell& group(uint32_t i) const {
    ensure(bit(RollupSection::kGroups));
    return fv_[i];
  }
  // The (feature, version) of every summary cell, 8 bytes each in one
  // array: what a look-up of one user's entries reads (the cells, ~120
  // bytes apart, cost a cache miss an entry).
  std::span<const FvKey> group_keys() const {
    ensure(bit(RollupSection::kGroups));
    return group_keys_;
  }
  // Sorted by (feature, version); empty when the user has no rows here.
  std::span<const UserEntry> user(uint32_t user_code) const;
  // user(user_code) of every one of `rollups` into out[i], REQUIRES:
  // out.size() == rollups.size(). The same answers, with the look-ups
  // overlapped: a question about one user looks it up in every month's
  // rollup, and between two runs of it an application's other questions
  // evict what it reads, so each step of each look-up was a cache miss
  // waited for in turn (bench/live mixed: ~150 a question). Here each step
  // asks for its cache lines in every rollup before reading any (the codes
  // at the user's guessed place, the ends of its entries, the entries, the
  // group_keys() they name, also made ready), so the misses of a step
  // overlap.
  static void users_of(std::span<const PartitionRollup* const> rollups, uint32_t user_code,
                       std::span<std::span<const UserEntry>> out);
  // Whether a one-user look-up that has a cheaper way to the user's rows
  // (part files that seek users: Part::reads_users_alone) should take it
  // instead of user(): true while the user entries section (read whole, at
  // 30M events ~3 MB a month) is not in memory and fewer than
  // kUserLookupsBeforeRead look-ups asked; each call counts one. So a
  // process that asks about one user reads a few KB of each part, and one
  // that keeps asking reads the section once (as the user dictionary builds
  // its index on the ninth look-up).
  // `can_defer` says whether the caller has that cheaper way; it is asked
  // only while the section is not in memory (a warm process pays nothing).
  template <typename CanDefer>
  bool defer_user_entries(CanDefer can_defer) const {
    if ((ready_.load(std::memory_order_acquire) & bit(RollupSection::kUserEntries)) != 0) return false;
    if (!can_defer()) return false;
    return user_lookups_.fetch_add(1, std::memory_order_relaxed) < kUserLookupsBeforeRead;
  }
  static constexpr uint32_t kUserLookupsBeforeRead = 8;
  // The codes of the users with entries, ascending.
  std::vector<uint32_t> users() const;
  // The events of an entry of user(). REQUIRES: `e` is one of them.
  uint64_t count(const UserEntry& e) const {
    ensure(bit(RollupSection::kUserEntries));
    return e.count32 != UserEntry::kBigCount ? e.count32 : big_counts_.at(static_cast<uint32_t>(&e - entries_.data()));
  }
  const TimelineLevel& timeline(Granularity g) const {
    ensure(1u << (static_cast<int>(RollupSection::kHour) + static_cast<int>(g)));
    return levels_[static_cast<int>(g)];
  }
  // The hour cells of `feature`, as indexes into timeline(kHour).cells,
  // ascending (by bucket): one feature's hours without stepping over the
  // other features' cells (a local timeline of one feature reads them).
  std::span<const uint32_t> hour_cells_of(uint32_t feature) const {
    ensure(bit(RollupSection::kHour));
    if (feature + 1 >= hour_feature_starts_.size()) return {};
    return std::span<const uint32_t>(hour_cells_by_feature_)
        .subspan(hour_feature_starts_[feature], hour_feature_starts_[feature + 1] - hour_feature_starts_[feature]);
  }
  // The version_adoption section; null when the rollup has none (read from
  // an older file).
  const VersionTimeline* versions() const {
    ensure(bit(RollupSection::kVersions));
    return versions_ ? &*versions_ : nullptr;
  }
  // The property_breakdown section; null when the rows hold too many
  // distinct metadata strings, or the rollup was read from an older file.
  const MetadataCounts* metadata() const {
    ensure(bit(RollupSection::kMetadata));
    return metadata_ ? &*metadata_ : nullptr;
  }
  const ActivityRollup& activity() const {
    ensure(kActivityBit);
    return activity_;
  }
  // The users of `feature` on each day of the month as bit vectors
  // (day_user_bits.h), made from the day cells on the first call for that
  // feature and kept until the sections are dropped (memory_bytes() counts
  // them).
  const DayUserBits& day_user_bits(uint32_t feature) const ABSL_LOCKS_EXCLUDED(bits_mu_);
  // The hour cells of `feature` with their users in one place
  // (feature_hours.h), made from the hour cells on the first call for that
  // feature and kept until the sections are dropped (memory_bytes() counts
  // them).
  const FeatureHours& feature_hours(uint32_t feature) const ABSL_LOCKS_EXCLUDED(bits_mu_);
  // The version timeline's week cells that the month's start or end cuts,
  // their users as bit vectors (cell_bits.h; empty without a version
  // timeline), made on the first call and kept until the version timeline
  // is dropped (memory_bytes() counts them).
  const VersionWeekEdges& version_week_edges() const ABSL_LOCKS_EXCLUDED(bits_mu_);

  // Heap bytes held (approximate): of the sections read so far.
  size_t memory_bytes() const ABSL_LOCKS_EXCLUDED(load_mu_);
  // Of them, the bytes charged to the budget lazy() was given (0 without).
  size_t charged_bytes() const ABSL_LOCKS_EXCLUDED(load_mu_);

 private:
  PartitionRollup() = default;
  static uint64_t new_serial();

  static constexpr uint32_t bit(RollupSection s) { return 1u << static_cast<int>(s); }
  // Made from the day and month timelines, after them.
  static constexpr uint32_t kActivityBit = 1u << kRollupSections;
  static constexpr uint32_t kAllBits = (kActivityBit << 1) - 1;
  // Makes sure the sections of `bits` are in memory (or damaged: empty).
  // With a budget, the sections are marked used first (drop_charged()
  // leaves them alone while a Hold lives: the two sides order their marks
  // and their look at the other's as a Dekker pair, all sequentially
  // consistent). A mark already made is not made again: marks are cleared
  // only when the last Hold goes, so one seen while the caller's Hold lives
  // stays until the caller is done (no locked read-modify-write on every
  // call of an accessor in a loop).
  void ensure(uint32_t bits) const {
    if (budget_ != nullptr && (used_bits_.load() & bits) != bits) used_bits_.fetch_or(bits);
    if ((ready_.load() & bits) != bits) read_sections(bits);
  }
  // A Hold let go: when it was the last, the cache may drop the sections.
  void release() const ABSL_LOCKS_EXCLUDED(hold_mu_);
  // ChargedMemory: the sections no holder asked for since the first of them
  // began, when a Hold lives; when none does, those the last holders did
  // not ask for, and with `all` every one. The bytes freed.
  size_t drop_charged(bool all) const override ABSL_LOCKS_EXCLUDED(hold_mu_, load_mu_, bits_mu_);
  // Empties the sections of `bits` (and what is made from them); the bytes
  // freed, taken off charged_. Their ready bits are cleared already.
  size_t clear_sections(uint32_t bits) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(load_mu_) ABSL_LOCKS_EXCLUDED(bits_mu_);
  void read_sections(uint32_t bits) const ABSL_LOCKS_EXCLUDED(load_mu_);
  // Moves the sections of `bits` from `c` in (and what they make).
  void take_sections(uint32_t bits, RollupContents& c);
  void take_entries(RollupContents& c);

  uint64_t origin_ = 0;
  // The sections in memory (or damaged); all of them unless lazy().
  mutable std::atomic<uint32_t> ready_{kAllBits};
  mutable std::atomic<bool> damaged_{false};
  mutable std::atomic<uint32_t> user_lookups_{0};  // defer_user_entries()
  // The sections (bits as ready_) an accessor asked for since a Hold last
  // began with none alive: not dropped while a Hold lives; when the last
  // goes, a rollup some were asked of is the cache's newest use.
  mutable std::atomic<uint32_t> used_bits_{0};
  mutable Mutex load_mu_;
  // Read (and dropped once every section is in memory) by const accessors.
  mutable std::unique_ptr<RollupSource> source_ ABSL_GUARDED_BY(load_mu_);
  mutable absl::Status damage_ ABSL_GUARDED_BY(load_mu_);
  // lazy()'s budget and the bytes charged to it since the sections were
  // last dropped; the Holds that live.
  std::shared_ptr<PartCache> budget_;
  mutable size_t charged_ ABSL_GUARDED_BY(load_mu_) = 0;
  // Lock order: hold_mu_, then load_mu_ (drop_charged), then bits_mu_.
  mutable Mutex hold_mu_;
  mutable uint32_t holders_ ABSL_GUARDED_BY(hold_mu_) = 0;
  // used_bits_ of the holds that ended last: the sections dropped last.
  mutable uint32_t last_used_ ABSL_GUARDED_BY(hold_mu_) = 0;
  size_t memory_bytes_locked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(load_mu_);

  uint64_t serial_ = 0;
  uint32_t month_ = 0;
  uint64_t rows_ = 0;
  std::vector<uint64_t> part_ids_;
  std::vector<FvCell> fv_;
  std::vector<FvKey> group_keys_;  // of fv_, made with it (key_groups)
  void key_groups();
  // The users with entries, ascending, and the end of each one's entries in
  // entries_ (its begin: the end before), by the user's rank in
  // user_codes_: an interpolated search finds a user (filled as fast as the
  // entries are read, where a hash map was not). When the codes fill at
  // least half of [first, last] (most of a store's users come back every
  // month), user_ends_ is indexed by code - first instead, every code of
  // the range with an end (a code without entries: the end before it):
  // a look-up then reads two adjacent ends, no search (ends_by_code_).
  std::vector<uint32_t> user_codes_;
  std::vector<uint32_t> user_ends_;
  // user_codes_'s first and last (0 when empty), set with it
  // (index_user_ends): user() guesses a user's place from them without
  // reading the vector's ends (lib/util/sorted_search.h).
  uint32_t first_user_code_ = 0;
  uint32_t last_user_code_ = 0;
  bool ends_by_code_ = false;
  // Sets the three above from user_codes_ and the ends by rank (and turns
  // user_ends_ to ends by code when the codes are dense enough).
  void index_user_ends();
  // Where the user's ends are in user_ends_ (by rank or by code), or
  // kNoUser when the rollup has no entries of `user_code` (an interpolated
  // search when the ends are by rank).
  static constexpr size_t kNoUser = SIZE_MAX;
  size_t user_place(uint32_t user_code) const;
  // The entries of the user whose ends are at `place` in user_ends_.
  std::span<const UserEntry> entries_at(size_t place) const {
    const uint32_t begin = place == 0 ? 0 : user_ends_[place - 1];
    return std::span<const UserEntry>(entries_).subspan(begin, user_ends_[place] - begin);
  }
  std::vector<UserEntry> entries_;
  // Counts of kBigCount or more, by index into entries_ (none in practice).
  absl::flat_hash_map<uint32_t, uint64_t> big_counts_;
  // Appends an entry, keeping a count that does not fit 32 bits aside.
  void add_entry(uint32_t group, uint64_t count, uint32_t first, uint32_t last);
  TimelineLevel levels_[4];  // indexed by Granularity
  std::optional<VersionTimeline> versions_;
  std::optional<MetadataCounts> metadata_;
  // Derived from the cells, not persisted: every way of making a rollup
  // ends with finish(), which makes them (a lazy rollup, as it reads the
  // hour timeline, and the day and month ones).
  void finish();
  // hour_cells_of(): the hour cells by feature, [starts[f], starts[f + 1])
  // for feature f.
  void index_hour_cells();
  std::vector<uint32_t> hour_cells_by_feature_;
  std::vector<uint32_t> hour_feature_starts_;
  ActivityRollup activity_;  // from levels_
  // day_user_bits(), by feature; an entry is never replaced or erased.
  mutable Mutex bits_mu_;
  mutable absl::flat_hash_map<uint32_t, std::unique_ptr<const DayUserBits>> day_bits_ ABSL_GUARDED_BY(bits_mu_);
  // feature_hours(), by feature; an entry is never replaced or erased.
  mutable absl::flat_hash_map<uint32_t, std::unique_ptr<const FeatureHours>> feature_hours_ ABSL_GUARDED_BY(bits_mu_);
  // version_week_edges(), once made.
  mutable std::unique_ptr<const VersionWeekEdges> week_edges_ ABSL_GUARDED_BY(bits_mu_);
};

// The (feature, version) groups of several months' rollups merged (bitmap
// unions), sorted by (feature, version).
// With `keep`, only the groups whose cells it accepts (a request filtering
// on feature or version merges just those).
std::vector<FvCell> merge_summaries(std::span<const PartitionRollup* const> rollups,
                                    const std::function<bool(const FvCell&)>& keep = nullptr);

}  // namespace usagedb

#endif  // USAGEDB_ROLLUP_PARTITION_ROLLUP_H_
