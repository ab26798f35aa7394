// PartitionRollup::build against a brute-force grouping of the same rows,
// every section of it, over one part and several (whose hours interleave),
// in an ordinary month and in January 1970, whose first week is clamped at
// the epoch, and over enough rows that it builds on two threads.
#include "lib/rollup/partition_rollup.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "lib/gen/random.h"
#include "lib/table/dictionary.h"
#include "lib/table/part_builder.h"
#include "lib/util/civil_time.h"
#include "tests/testutil/rollup_testing.h"

namespace usagedb::testing {
namespace {

// Cell i's users of a FeatureHours, from whichever of its two forms holds
// them.
std::vector<uint32_t> cell_users(const FeatureHours& h, size_t i) {
  std::vector<uint32_t> out;
  for (const uint32_t u : h.users_of(i)) out.push_back(u);
  for (const uint16_t u : h.narrow_users_of(i)) out.push_back(u);
  return out;
}

// Appends to `level` the cell of `feature` at `hour` (hours since the
// epoch) holding `users`.
void add_cell(TimelineLevel& level, uint32_t hour, uint32_t feature, const std::vector<uint32_t>& users) {
  const auto begin = static_cast<uint32_t>(level.user_codes.size());
  level.user_codes.insert(level.user_codes.end(), users.begin(), users.end());
  level.cells.push_back(
      TimelineCell{hour * 3600, feature, users.size(), begin, static_cast<uint32_t>(level.user_codes.size())});
}

struct RollupModel {
  struct Fv {
    uint64_t events = 0;
    uint32_t first = UINT32_MAX, last = 0;
    std::set<uint32_t> users, sessions;
  };
  struct Usage {
    uint64_t count = 0;
    uint32_t first = UINT32_MAX, last = 0;
  };
  struct Cell {
    uint64_t events = 0;
    std::set<uint32_t> users;
  };
  std::map<std::pair<uint32_t, uint32_t>, Fv> fv;                           // (feature, version)
  std::map<uint32_t, std::map<std::pair<uint32_t, uint32_t>, Usage>> user;  // user -> (feature, version)
  std::map<std::pair<uint32_t, uint32_t>, Cell> cells[4];                   // (bucket, feature), by Granularity
  std::map<std::pair<uint32_t, uint32_t>, Cell> version_cells[4];           // (bucket, version)
  std::map<uint32_t, Cell> active[4];                                       // bucket
  std::map<std::pair<std::string, uint32_t>, Cell> metadata;                // (metadata, feature)
  std::map<std::string, Cell> metadata_totals;
  std::map<uint32_t, std::set<uint32_t>> day_users;                         // the activity section's
  std::map<uint32_t, std::set<uint32_t>> feature_users;
  std::set<uint32_t> month_users;

  void add(const RowCodes& r, uint32_t month, const std::string& meta) {
    for (Cell* c : {&metadata[{meta, r.feature}], &metadata_totals[meta]}) {
      ++c->events;
      c->users.insert(r.user);
    }
    Fv& f = fv[{r.feature, r.version}];
    ++f.events;
    f.first = std::min(f.first, r.timestamp);
    f.last = std::max(f.last, r.timestamp);
    f.users.insert(r.user);
    f.sessions.insert(r.session);
    Usage& u = user[r.user][{r.feature, r.version}];
    ++u.count;
    u.first = std::min(u.first, r.timestamp);
    u.last = std::max(u.last, r.timestamp);
    const int64_t t = r.timestamp;
    const uint32_t buckets[4] = {
        static_cast<uint32_t>(civil::start_of_hour(t)), static_cast<uint32_t>(civil::start_of_day(t)),
        static_cast<uint32_t>(civil::start_of_week(t)), static_cast<uint32_t>(civil::month_start(month))};
    for (int g = 0; g < 4; ++g) {
      for (Cell* c : {&cells[g][{buckets[g], r.feature}], &version_cells[g][{buckets[g], r.version}],
                      &active[g][buckets[g]]}) {
        ++c->events;
        c->users.insert(r.user);
      }
    }
    day_users[buckets[1]].insert(r.user);
    feature_users[r.feature].insert(r.user);
    month_users.insert(r.user);
  }
};

// `parts` parts of random rows in `month`, whose feature and version codes
// sort like their strings (so the parts' order is the model's).
// With many (feature, version) groups, users with few entries take them in
// group order by a sort, heavy users by scanning a bitmap: both are checked.
// `min_rows`: rows each part has at least (besides 1-3,000 at random).
void check_build(uint32_t month, int parts, uint64_t seed, int feature_count = 9, int version_count = 4,
                 uint64_t min_rows = 0) {
  SCOPED_TRACE(absl::StrCat("month ", month, ", ", parts, " parts, seed ", seed, ", ", feature_count, " features"));
  gen::Random rng(seed);
  Dictionary features, versions;
  for (int i = 0; i < feature_count; ++i) features.intern(absl::StrFormat("feature_%03d", i));
  for (int i = 0; i < version_count; ++i) versions.intern(absl::StrFormat("1.%02d", i));
  const auto begin = static_cast<uint32_t>(civil::month_start(month));
  const uint32_t days = 28;
  RollupModel model;
  std::vector<std::shared_ptr<const Part>> built;
  std::set<uint32_t> users;
  for (int p = 0; p < parts; ++p) {
    PartBuilder builder;
    const uint64_t rows = min_rows + 1 + rng.uniform(3000);
    for (uint64_t i = 0; i < rows; ++i) {
      RowCodes r;
      // Some rows crowd into a few hours, so cells of several parts meet.
      r.timestamp =
          begin + static_cast<uint32_t>(rng.uniform(4) == 0 ? rng.uniform(3 * 3600) : rng.uniform(days * 86400));
      r.feature = static_cast<uint32_t>(rng.uniform(feature_count));
      r.version = static_cast<uint32_t>(rng.uniform(version_count));
      // A few codes past 65535: bitmaps of several containers.
      r.user = static_cast<uint32_t>(rng.uniform(4) == 0    ? rng.uniform(3)
                                     : rng.uniform(50) == 0 ? 70000 + rng.uniform(20)
                                                            : rng.uniform(200));
      r.event_type = 0;
      r.session = static_cast<uint32_t>(rng.uniform(500));
      const std::string meta = rng.uniform(5) == 0 ? "" : absl::StrCat(R"({"plan":"p)", rng.uniform(6), R"("})");
      builder.add(r, i + 1, absl::StrCat("e", p, "_", i), meta);
      model.add(r, month, meta);
      users.insert(r.user);
    }
    built.push_back(std::move(builder).finish(100 - p, month, features, versions));
  }
  const std::shared_ptr<const PartitionRollup> rollup = PartitionRollup::build(month, built);
  EXPECT_EQ(rollup->month(), month);
  std::vector<uint64_t> ids;
  uint64_t rows = 0;
  for (const auto& part : built) {
    ids.push_back(part->id());
    rows += part->rows();
  }
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(rollup->part_ids(), ids);
  EXPECT_EQ(rollup->rows(), rows);

  ASSERT_EQ(rollup->summary().size(), model.fv.size());
  size_t i = 0;
  for (const auto& [key, want] : model.fv) {
    const FvCell& got = rollup->summary()[i++];
    EXPECT_EQ(std::pair(got.feature, got.version), key);
    EXPECT_EQ(got.events, want.events);
    EXPECT_EQ(got.first, want.first);
    EXPECT_EQ(got.last, want.last);
    EXPECT_EQ(bitmap_values(got.users), std::vector<uint32_t>(want.users.begin(), want.users.end()));
    EXPECT_EQ(bitmap_values(got.sessions), std::vector<uint32_t>(want.sessions.begin(), want.sessions.end()));
  }
  for (uint32_t u = 0; u < 201; ++u) {
    const std::span<const UserEntry> got = rollup->user(u);
    const auto it = model.user.find(u);
    ASSERT_EQ(got.size(), it == model.user.end() ? 0 : it->second.size()) << "user " << u;
    size_t j = 0;
    for (const auto& [key, want] : it == model.user.end() ? decltype(it->second){} : it->second) {
      const FvCell& cell = rollup->summary()[got[j].group];
      EXPECT_EQ(std::pair(cell.feature, cell.version), key) << "user " << u;
      EXPECT_EQ(rollup->count(got[j]), want.count) << "user " << u;
      EXPECT_EQ(got[j].first, want.first) << "user " << u;
      EXPECT_EQ(got[j].last, want.last) << "user " << u;
      ++j;
    }
  }
  for (int g = 0; g < 4; ++g) {
    const TimelineLevel& level = rollup->timeline(static_cast<Granularity>(g));
    ASSERT_EQ(level.cells.size(), model.cells[g].size()) << "granularity " << g;
    size_t k = 0;
    for (const auto& [key, want] : model.cells[g]) {
      const TimelineCell& got = level.cells[k++];
      EXPECT_EQ(std::pair(got.bucket, got.feature), key) << "granularity " << g;
      EXPECT_EQ(got.events, want.events) << "granularity " << g;
      const auto got_users = level.users(got);
      EXPECT_EQ(std::vector<uint32_t>(got_users.begin(), got_users.end()),
                std::vector<uint32_t>(want.users.begin(), want.users.end()))
          << "granularity " << g << " bucket " << got.bucket;
    }
  }
  // The hour cells of each feature, through the index.
  {
    const TimelineLevel& hours = rollup->timeline(Granularity::kHour);
    size_t indexed = 0;
    for (uint32_t f = 0; f < static_cast<uint32_t>(feature_count) + 1; ++f) {
      const std::span<const uint32_t> of_feature = rollup->hour_cells_of(f);
      for (size_t k = 0; k < of_feature.size(); ++k) {
        ASSERT_EQ(hours.cells[of_feature[k]].feature, f);
        if (k > 0) ASSERT_LT(hours.cells[of_feature[k - 1]].bucket, hours.cells[of_feature[k]].bucket);
      }
      indexed += of_feature.size();
      // The same cells in one place (feature_hours()), made once.
      const FeatureHours& in_one_place = rollup->feature_hours(f);
      EXPECT_EQ(&rollup->feature_hours(f), &in_one_place) << "made once";
      // Each hour's users, from the cells and from feature_hours() (its
      // cells and its heavy users' hours).
      std::map<int64_t, std::vector<uint32_t>> want, got;
      for (const uint32_t i : of_feature) {
        const auto users = hours.users(hours.cells[i]);
        want[hours.cells[i].bucket / 3600].assign(users.begin(), users.end());
      }
      for (size_t k = 0; k < in_one_place.cells(); ++k) {
        for (const uint32_t user : cell_users(in_one_place, k)) got[in_one_place.hours[k]].push_back(user);
      }
      for (size_t j = 0; j < in_one_place.heavy_users.size(); ++j) {
        for (const uint16_t h : in_one_place.heavy_hours_of(j)) {
          got[int64_t{in_one_place.heavy_base} + h].push_back(in_one_place.heavy_users[j]);
        }
      }
      for (auto& [hour, users] : got) std::sort(users.begin(), users.end());
      EXPECT_EQ(got, want) << "feature " << f;
    }
    EXPECT_EQ(indexed, hours.cells.size());
  }
  // The version timeline.
  ASSERT_NE(rollup->versions(), nullptr);
  const auto users_of = [](const TimelineLevel& level, const TimelineCell& c) {
    const auto u = level.users(c);
    return std::vector<uint32_t>(u.begin(), u.end());
  };
  for (int g = 0; g < 4; ++g) {
    const TimelineLevel& level = rollup->versions()->versions[g];
    ASSERT_EQ(level.cells.size(), model.version_cells[g].size()) << "granularity " << g;
    size_t k = 0;
    for (const auto& [key, want] : model.version_cells[g]) {
      const TimelineCell& got = level.cells[k++];
      EXPECT_EQ(std::pair(got.bucket, got.feature), key) << "granularity " << g;
      EXPECT_EQ(got.events, want.events) << "granularity " << g;
      EXPECT_EQ(users_of(level, got), std::vector<uint32_t>(want.users.begin(), want.users.end()));
    }
    const TimelineLevel& active = rollup->versions()->active[g];
    ASSERT_EQ(active.cells.size(), model.active[g].size()) << "granularity " << g;
    k = 0;
    for (const auto& [bucket, want] : model.active[g]) {
      const TimelineCell& got = active.cells[k++];
      EXPECT_EQ(got.bucket, bucket);
      EXPECT_EQ(got.feature, 0u);
      EXPECT_EQ(got.events, want.events);
      EXPECT_EQ(users_of(active, got), std::vector<uint32_t>(want.users.begin(), want.users.end()));
    }
  }
  // The metadata counts: by (string, feature) and by string.
  ASSERT_NE(rollup->metadata(), nullptr);
  const MetadataCounts& m = *rollup->metadata();
  ASSERT_EQ(m.values.size(), model.metadata_totals.size());
  ASSERT_EQ(m.totals.size(), m.values.size());
  for (const MetadataCell& total : m.totals) {
    const RollupModel::Cell& want = model.metadata_totals.at(m.values[total.value]);
    EXPECT_EQ(total.events, want.events);
    EXPECT_EQ(bitmap_values(total.users), std::vector<uint32_t>(want.users.begin(), want.users.end()));
    for (const MetadataCell& c : m.cells_of(total.value)) {
      const RollupModel::Cell& w = model.metadata.at({m.values[c.value], c.feature});
      EXPECT_EQ(c.events, w.events);
      EXPECT_EQ(bitmap_values(c.users), std::vector<uint32_t>(w.users.begin(), w.users.end()));
    }
  }
  EXPECT_EQ(m.cells.size(), model.metadata.size());

  const ActivityRollup& activity = rollup->activity();
  ASSERT_EQ(activity.days().size(), model.day_users.size());
  size_t d = 0;
  for (const auto& [day, want] : model.day_users) {
    EXPECT_EQ(activity.days()[d].day, day);
    EXPECT_EQ(bitmap_values(activity.days()[d].users), std::vector<uint32_t>(want.begin(), want.end())) << day;
    ++d;
  }
  for (const auto& [feature, want] : model.feature_users) {
    ASSERT_NE(activity.feature_users(feature), nullptr) << feature;
    EXPECT_EQ(bitmap_values(*activity.feature_users(feature)), std::vector<uint32_t>(want.begin(), want.end()));
  }
  EXPECT_EQ(activity.feature_users(static_cast<uint32_t>(feature_count)), nullptr);
  EXPECT_EQ(bitmap_values(activity.month_users()),
            std::vector<uint32_t>(model.month_users.begin(), model.month_users.end()));
  const uint32_t second_day = begin + 86400;
  EXPECT_EQ(activity.days_between(second_day, second_day + 86400).size(), model.day_users.count(second_day));
  // The day bits of each feature (and of one with no event): the day cells'
  // users, or none when they would be larger than the cells.
  for (uint32_t feature = 0; feature <= static_cast<uint32_t>(feature_count); ++feature) {
    const DayUserBits& bits = rollup->day_user_bits(feature);
    EXPECT_EQ(&rollup->day_user_bits(feature), &bits) << "made once";
    if (!bits.dense) {
      EXPECT_EQ(bits.days, 0u);
      EXPECT_TRUE(bits.bits.empty());
      continue;
    }
    std::map<std::pair<uint32_t, uint32_t>, std::vector<uint32_t>> got;  // (day, feature) -> users
    for (uint32_t d = 0; d < bits.days; ++d) {
      const std::span<const uint64_t> words = bits.day(d);
      for (uint32_t user = 0; user < 64 * words.size(); ++user) {
        if ((words[user / 64] >> (user % 64)) & 1) {
          got[{static_cast<uint32_t>(bits.first_day + int64_t{d} * 86400), feature}].push_back(user);
        }
      }
    }
    std::map<std::pair<uint32_t, uint32_t>, std::vector<uint32_t>> want;
    for (const auto& [key, cell] : model.cells[static_cast<int>(Granularity::kDay)]) {
      if (key.second == feature) want[key] = std::vector<uint32_t>(cell.users.begin(), cell.users.end());
    }
    EXPECT_EQ(got, want) << "feature " << feature;
    if (want.empty()) EXPECT_EQ(bits.days, 0u) << "feature " << feature;
  }
  // The same rows given in another order of parts make the same rollup.
  std::vector<std::shared_ptr<const Part>> reversed(built.rbegin(), built.rend());
  expect_same_rollup(*PartitionRollup::build(month, reversed), *rollup,
                     std::vector<uint32_t>(users.begin(), users.end()));
}

TEST(DayUserBitsFromCells, DenseWhereTheCellsAreFullSparseWhereTheyAreNot) {
  // Feature 1: users 0..99 on 2025-03-01 and 2025-03-03 (two words a day,
  // 200 entries): dense. Feature 2: user 70000 on two days ten days apart
  // (11 days of 1,094 words for 2 entries): no bits. Feature 3: none.
  constexpr uint32_t kDay1 = 1740787200;  // 2025-03-01
  TimelineLevel level;
  const auto add = [&](uint32_t day, uint32_t feature, std::vector<uint32_t> users) {
    const auto begin = static_cast<uint32_t>(level.user_codes.size());
    level.user_codes.insert(level.user_codes.end(), users.begin(), users.end());
    level.cells.push_back(TimelineCell{day, feature, users.size(), begin, static_cast<uint32_t>(level.user_codes.size())});
  };
  std::vector<uint32_t> hundred(100);
  for (uint32_t u = 0; u < 100; ++u) hundred[u] = u;
  add(kDay1, 1, hundred);
  add(kDay1, 2, {70000});
  add(kDay1 + 2 * 86400, 1, hundred);
  add(kDay1 + 10 * 86400, 2, {70000});

  const DayUserBits one = DayUserBits::from_cells(level, 1);
  ASSERT_TRUE(one.dense);
  EXPECT_EQ(one.first_day, kDay1);
  EXPECT_EQ(one.days, 3u);
  EXPECT_EQ(one.words, 2u);
  const std::vector<uint64_t> full{~uint64_t{0}, (uint64_t{1} << 36) - 1}, none{0, 0};
  EXPECT_EQ(std::vector<uint64_t>(one.day(0).begin(), one.day(0).end()), full);
  EXPECT_EQ(std::vector<uint64_t>(one.day(1).begin(), one.day(1).end()), none);
  EXPECT_EQ(std::vector<uint64_t>(one.day(2).begin(), one.day(2).end()), full);

  const DayUserBits two = DayUserBits::from_cells(level, 2);
  EXPECT_FALSE(two.dense);
  EXPECT_EQ(two.days, 0u);
  EXPECT_TRUE(two.bits.empty());

  const DayUserBits three = DayUserBits::from_cells(level, 3);
  EXPECT_TRUE(three.dense);
  EXPECT_EQ(three.days, 0u);
}

TEST(FeatureHoursFromCells, OneFeaturesCellsInHourOrderWithoutEmptyOnes) {
  // (The users of cell 0 reach past 2^16: kept in 32 bits.)
  // Feature 1 in hours 2 and 5 (an empty cell of hour 3 between), feature
  // 2 in hour 2: the index of feature 1's cells is {0, 2, 3}.
  constexpr uint32_t kHour0 = 1740787200 / 3600;  // 2025-03-01 00:00
  TimelineLevel level;
  const auto add = [&](uint32_t hour, uint32_t feature, std::vector<uint32_t> users) {
    add_cell(level, hour, feature, users);
  };
  add(kHour0 + 2, 1, {3, 9, 70000});
  add(kHour0 + 2, 2, {4});
  add(kHour0 + 3, 1, {});
  add(kHour0 + 5, 1, {9});
  const std::vector<uint32_t> cells{0, 2, 3};
  const FeatureHours h = FeatureHours::from_cells(level, cells);
  ASSERT_EQ(h.cells(), 2u);
  EXPECT_EQ(h.hours, (std::vector<uint32_t>{kHour0 + 2, kHour0 + 5}));
  EXPECT_TRUE(h.narrow.empty());
  EXPECT_TRUE(h.narrow_users_of(0).empty());
  EXPECT_EQ(std::vector<uint32_t>(h.users_of(0).begin(), h.users_of(0).end()), (std::vector<uint32_t>{3, 9, 70000}));
  EXPECT_EQ(std::vector<uint32_t>(h.users_of(1).begin(), h.users_of(1).end()), (std::vector<uint32_t>{9}));
  EXPECT_EQ(h.cells_between(kHour0, kHour0 + 100), (std::pair<size_t, size_t>{0, 2}));
  EXPECT_EQ(h.cells_between(kHour0 + 3, kHour0 + 5), (std::pair<size_t, size_t>{1, 1}));
  EXPECT_EQ(h.cells_between(kHour0 + 5, kHour0 + 6), (std::pair<size_t, size_t>{1, 2}));
  EXPECT_EQ(FeatureHours::from_cells(level, {}).cells(), 0u);
  EXPECT_GT(h.memory_bytes(), sizeof(FeatureHours));
}

TEST(FeatureHoursFromCells, UserCodesBelowTwoToTheSixteenIn16Bits) {
  constexpr uint32_t kHour0 = 1740787200 / 3600;  // 2025-03-01 00:00
  for (const uint32_t top : {uint32_t{65535}, uint32_t{65536}}) {
    SCOPED_TRACE(top);
    TimelineLevel level;
    const auto add = [&](uint32_t hour, std::vector<uint32_t> users) { add_cell(level, hour, 1, users); };
    add(kHour0 + 1, {0, 7});
    add(kHour0 + 4, {2, top});
    const FeatureHours h = FeatureHours::from_cells(level, std::vector<uint32_t>{0, 1});
    const bool narrow = top < 65536;
    EXPECT_EQ(h.narrow.empty(), !narrow);
    EXPECT_EQ(h.users.empty(), narrow);
    ASSERT_EQ(h.cells(), 2u);
    EXPECT_EQ(cell_users(h, 0), (std::vector<uint32_t>{0, 7}));
    EXPECT_EQ(cell_users(h, 1), (std::vector<uint32_t>{2, top}));
    EXPECT_GE(h.memory_bytes(), sizeof(FeatureHours) + 4 * (narrow ? sizeof(uint16_t) : sizeof(uint32_t)));
  }
}

TEST(FeatureHoursFromCells, HeavyUsersApartWithTheirHours) {
  // With heavy = 2: users 5 and 9 are in two or more cells, kept apart with
  // their hours (offsets from the first hour); the cells hold the others,
  // and hour 3's cell, of heavy users only, is left out.
  constexpr uint32_t kHour0 = 1740787200 / 3600;  // 2025-03-01 00:00
  TimelineLevel level;
  const auto add = [&](uint32_t hour, std::vector<uint32_t> users) { add_cell(level, hour, 1, users); };
  add(kHour0 + 1, {1, 5, 9});
  add(kHour0 + 3, {5, 9});
  add(kHour0 + 700, {2, 9});
  const std::vector<uint32_t> cells{0, 1, 2};
  const FeatureHours h = FeatureHours::from_cells(level, cells, /*heavy=*/2);
  EXPECT_EQ(h.heavy_users, (std::vector<uint32_t>{5, 9}));
  EXPECT_EQ(h.heavy_base, kHour0 + 1);
  EXPECT_EQ(h.heavy_last, 699u);
  const auto hours_of = [&](size_t j) { return std::vector<uint16_t>(h.heavy_hours_of(j).begin(), h.heavy_hours_of(j).end()); };
  EXPECT_EQ(hours_of(0), (std::vector<uint16_t>{0, 2}));
  EXPECT_EQ(hours_of(1), (std::vector<uint16_t>{0, 2, 699}));
  EXPECT_EQ(h.hours, (std::vector<uint32_t>{kHour0 + 1, kHour0 + 700}));
  EXPECT_EQ(cell_users(h, 0), (std::vector<uint32_t>{1}));
  EXPECT_EQ(cell_users(h, 1), (std::vector<uint32_t>{2}));
  EXPECT_GE(h.memory_bytes(), sizeof(FeatureHours) + 5 * sizeof(uint16_t) + 2 * sizeof(uint32_t));
  // heavy = 0: nobody apart; the default (64): nobody here.
  for (const uint32_t heavy : {uint32_t{0}, FeatureHours::kHeavyHours}) {
    const FeatureHours all = FeatureHours::from_cells(level, cells, heavy);
    EXPECT_TRUE(all.heavy_users.empty());
    ASSERT_EQ(all.cells(), 3u);
    EXPECT_EQ(cell_users(all, 0), (std::vector<uint32_t>{1, 5, 9}));
  }
  // Cells spanning more hours than 16 bits count: nobody apart.
  add(kHour0 + 70000, {5});
  const FeatureHours wide = FeatureHours::from_cells(level, std::vector<uint32_t>{0, 1, 2, 3}, 2);
  EXPECT_TRUE(wide.heavy_users.empty());
  EXPECT_EQ(wide.cells(), 4u);
}

TEST(PartitionRollupBuild, OnePartMatchesBruteForce) {
  for (uint64_t seed = 1; seed <= 3; ++seed) check_build(202503, 1, seed);
}

TEST(PartitionRollupBuild, SeveralPartsMatchBruteForce) {
  for (uint64_t seed = 1; seed <= 3; ++seed) check_build(202502, 4, seed);
}

TEST(PartitionRollupBuild, ManyGroupsMatchBruteForce) {
  check_build(202504, 1, 7, /*feature_count=*/400, /*version_count=*/12);
  check_build(202504, 3, 8, /*feature_count=*/400, /*version_count=*/12);
}

// From 2^18 rows, build() makes the version timeline and the metadata
// counts on a helper thread while it makes the rest: the same sections.
TEST(PartitionRollupBuild, LargeBuildOnTwoThreadsMatchesBruteForce) {
  // Two parts: the threshold counts the rows of all of them.
  check_build(202502, 2, 6, /*feature_count=*/40, /*version_count=*/6, /*min_rows=*/uint64_t{1} << 17);
}

TEST(PartitionRollupBuild, FirstWeekOfTheEpochIsClamped) {
  // The week of 1970-01-01 starts on Monday 1969-12-29, clamped to the
  // epoch (ClickHouse's Date): its days' week bucket is 0.
  for (uint64_t seed = 1; seed <= 3; ++seed) check_build(197001, 3, seed);
}

}  // namespace
}  // namespace usagedb::testing
