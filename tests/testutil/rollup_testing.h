// expect_same_rollup: two PartitionRollups hold the same groups, in every
// section (a rollup read back from its file, one built another way).
#ifndef USAGEDB_TESTS_TESTUTIL_ROLLUP_TESTING_H_
#define USAGEDB_TESTS_TESTUTIL_ROLLUP_TESTING_H_

#include <vector>

#include "gtest/gtest.h"
#include "lib/rollup/partition_rollup.h"

namespace usagedb::testing {

inline std::vector<uint32_t> bitmap_values(const Bitmap& b) {
  std::vector<uint32_t> v;
  b.for_each([&](uint32_t x) { v.push_back(x); });
  return v;
}

inline void expect_same_level(const TimelineLevel& g, const TimelineLevel& w) {
  ASSERT_EQ(g.cells.size(), w.cells.size());
  for (size_t i = 0; i < w.cells.size(); ++i) {
    EXPECT_EQ(g.cells[i].bucket, w.cells[i].bucket) << "cell " << i;
    EXPECT_EQ(g.cells[i].feature, w.cells[i].feature) << "cell " << i;
    EXPECT_EQ(g.cells[i].events, w.cells[i].events) << "cell " << i;
    const auto gu = g.users(g.cells[i]), wu = w.users(w.cells[i]);
    EXPECT_EQ(std::vector<uint32_t>(gu.begin(), gu.end()), std::vector<uint32_t>(wu.begin(), wu.end()))
        << "cell " << i;
  }
}

// REQUIRES: `users` lists every user code of either rollup.
inline void expect_same_rollup(const PartitionRollup& got, const PartitionRollup& want,
                               const std::vector<uint32_t>& users) {
  EXPECT_EQ(got.month(), want.month());
  EXPECT_EQ(got.rows(), want.rows());
  EXPECT_EQ(got.part_ids(), want.part_ids());
  ASSERT_EQ(got.summary().size(), want.summary().size());
  for (size_t i = 0; i < want.summary().size(); ++i) {
    const FvCell& g = got.summary()[i];
    const FvCell& w = want.summary()[i];
    SCOPED_TRACE(::testing::Message() << "summary cell " << i);
    EXPECT_EQ(g.feature, w.feature);
    EXPECT_EQ(g.version, w.version);
    EXPECT_EQ(g.events, w.events);
    EXPECT_EQ(g.first, w.first);
    EXPECT_EQ(g.last, w.last);
    EXPECT_EQ(bitmap_values(g.users), bitmap_values(w.users));
    EXPECT_EQ(bitmap_values(g.sessions), bitmap_values(w.sessions));
  }
  for (const uint32_t u : users) {
    const auto g = got.user(u), w = want.user(u);
    ASSERT_EQ(g.size(), w.size()) << "user " << u;
    for (size_t i = 0; i < w.size(); ++i) {
      EXPECT_EQ(g[i].group, w[i].group) << "user " << u;
      EXPECT_EQ(got.count(g[i]), want.count(w[i])) << "user " << u;
      EXPECT_EQ(g[i].first, w[i].first) << "user " << u;
      EXPECT_EQ(g[i].last, w[i].last) << "user " << u;
    }
  }
  const ActivityRollup& ga = got.activity();
  const ActivityRollup& wa = want.activity();
  ASSERT_EQ(ga.days().size(), wa.days().size());
  for (size_t i = 0; i < wa.days().size(); ++i) {
    EXPECT_EQ(ga.days()[i].day, wa.days()[i].day);
    EXPECT_EQ(bitmap_values(ga.days()[i].users), bitmap_values(wa.days()[i].users)) << "day " << wa.days()[i].day;
  }
  EXPECT_EQ(bitmap_values(ga.month_users()), bitmap_values(wa.month_users()));
  for (const TimelineCell& c : want.timeline(Granularity::kMonth).cells) {
    ASSERT_NE(ga.feature_users(c.feature), nullptr) << "feature " << c.feature;
    EXPECT_EQ(bitmap_values(*ga.feature_users(c.feature)), bitmap_values(*wa.feature_users(c.feature)));
  }
  for (const Granularity gr : {Granularity::kHour, Granularity::kDay, Granularity::kWeek, Granularity::kMonth}) {
    SCOPED_TRACE(::testing::Message() << "granularity " << static_cast<int>(gr));
    expect_same_level(got.timeline(gr), want.timeline(gr));
    ASSERT_EQ(got.versions() == nullptr, want.versions() == nullptr);
    if (want.versions() != nullptr) {
      expect_same_level(got.versions()->versions[static_cast<int>(gr)], want.versions()->versions[static_cast<int>(gr)]);
      expect_same_level(got.versions()->active[static_cast<int>(gr)], want.versions()->active[static_cast<int>(gr)]);
    }
  }
  ASSERT_EQ(got.metadata() == nullptr, want.metadata() == nullptr);
  if (want.metadata() != nullptr) {
    const MetadataCounts& g = *got.metadata();
    const MetadataCounts& w = *want.metadata();
    EXPECT_EQ(g.values, w.values);
    for (const auto& [gc, wc] : {std::pair{&g.cells, &w.cells}, std::pair{&g.totals, &w.totals}}) {
      ASSERT_EQ(gc->size(), wc->size());
      for (size_t i = 0; i < wc->size(); ++i) {
        EXPECT_EQ((*gc)[i].value, (*wc)[i].value) << "metadata cell " << i;
        EXPECT_EQ((*gc)[i].feature, (*wc)[i].feature) << "metadata cell " << i;
        EXPECT_EQ((*gc)[i].events, (*wc)[i].events) << "metadata cell " << i;
        EXPECT_EQ(bitmap_values((*gc)[i].users), bitmap_values((*wc)[i].users)) << "metadata cell " << i;
      }
    }
  }
}

}  // namespace usagedb::testing

#endif  // USAGEDB_TESTS_TESTUTIL_ROLLUP_TESTING_H_
