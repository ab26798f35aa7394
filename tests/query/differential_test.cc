// The backbone of correctness: EventStore against the brute-force Reference
// (SPEC SQL followed literally) on random edge-case data, under hundreds of
// random parameter combinations per endpoint, with part sizes that put rows
// in many parts, in the unsealed buffer, or both, and durable stores that
// are closed and reopened between writes (parts and rollups read back from
// their files).
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/testutil/printers.h"
#include "tests/testutil/random_events.h"
#include "tests/testutil/reference.h"
#include "tests/testutil/temp_dir.h"
#include "usagedb/usagedb.h"

namespace usagedb::testing {
namespace {

struct Config {
  size_t part_rows;
  bool deduplicate;
  uint64_t seed;
  bool background_threads = true;
  bool durable = false;  // in a directory, reopened now and then while writing
  // Options::cache_bytes; non-zero also reopens the store before the
  // queries, so they read lazy parts through the cache.
  size_t cache_bytes = 0;
};

void PrintTo(const Config& c, std::ostream* os) {
  *os << "{part_rows=" << c.part_rows << ", deduplicate=" << c.deduplicate << ", seed=" << c.seed
      << ", background_threads=" << c.background_threads << ", durable=" << c.durable
      << ", cache_bytes=" << c.cache_bytes << "}";
}

std::string describe(const std::optional<std::string>& s) { return s ? absl::StrCat("'", *s, "'") : "-"; }
std::string describe(const std::optional<Timestamp>& t) { return t ? format_timestamp(*t) : "-"; }
std::string describe(const std::optional<uint64_t>& v) { return v ? absl::StrCat(*v) : "-"; }
std::string describe(const std::optional<std::chrono::sys_days>& d) {
  return d ? format_timestamp(Timestamp(*d)).substr(0, 10) : "-";
}
std::string describe(const std::vector<std::string>& steps) {
  std::string out;
  for (const std::string& s : steps) absl::StrAppend(&out, out.empty() ? "" : ",", s);
  return out;
}

class DifferentialTest : public ::testing::TestWithParam<Config> {
 protected:
  void open() {
    const Config c = GetParam();
    store_.reset();  // a durable store checkpoints as it closes
    auto opened = EventStore::open({.directory = c.durable ? dir_.path() : "",
                                    .deduplicate = c.deduplicate,
                                    .part_rows = c.part_rows,
                                    .background_threads = c.background_threads,
                                    .cache_bytes = c.cache_bytes});
    ASSERT_TRUE(opened.ok()) << opened.status();
    store_ = std::move(opened).value();
  }

  void SetUp() override {
    const Config c = GetParam();
    open();
    reference_ = Reference(c.deduplicate);
    RandomEvents gen(c.seed);
    // Mix single records and batches of varied size, with maintenance in
    // between: compaction, GDPR deletion of a user, retention.
    const auto events = gen.events(6000);
    size_t i = 0;
    int batch_number = 0;
    while (i < events.size()) {
      switch (++batch_number % 16) {
        case 3:
          if (c.durable) open();
          break;
        case 5:
          ASSERT_TRUE(store_->compact().ok());
          break;
        case 9: {
          const std::string user = gen.users()[gen.random().uniform(gen.users().size())];
          auto removed = store_->delete_user(user);
          ASSERT_TRUE(removed.ok()) << removed.status();
          ASSERT_EQ(*removed, reference_.delete_user(user)) << user;
          break;
        }
        case 13:
          if (gen.random().chance(0.3)) {
            const uint32_t month = gen.random().chance(0.5) ? 197002 : 202402;
            auto removed = store_->drop_partitions_before(month);
            ASSERT_TRUE(removed.ok()) << removed.status();
            ASSERT_EQ(*removed, reference_.drop_partitions_before(static_cast<int>(month)));
          }
          break;
      }
      const size_t n = std::min<size_t>(events.size() - i, 1 + gen.random().uniform(300));
      std::vector<Event> batch;
      for (size_t k = i; k < i + n; ++k) {
        batch.push_back(events[k].view());
        reference_.record(batch.back());
      }
      if (n == 1) {
        ASSERT_TRUE(store_->record_event(batch[0]).ok());
      } else {
        auto r = store_->record_events(batch);
        ASSERT_TRUE(r.ok()) << r.status();
        ASSERT_EQ(r->successful_rows + r->duplicate_rows, n);
      }
      i += n;
    }
    // Enough data for the comparison to mean something.
    ASSERT_GT(reference_.events().size(), 3000u);
    if (c.cache_bytes > 0) open();  // every part lazy, read on first use
  }

  void TearDown() override {
    // With a cache of one byte, whatever a query read is let go when it
    // ends: the parts evicted, the rollups' sections dropped (read again by
    // the next query that needs them), while every answer above was exact.
    if (GetParam().cache_bytes == 0 || store_ == nullptr || HasFatalFailure()) return;
    const auto s = store_->stats();
    ASSERT_TRUE(s.ok()) << s.status();
    EXPECT_GT(s->cache_part_evictions, 0u);
    EXPECT_GT(s->cache_rollup_drops, 0u);
  }

  // Runs `n` random queries (half before, half after a compaction, which
  // brings every rollup up to date) on the store and the reference.
  template <typename Query, typename MakeQuery, typename Describe, typename Got, typename Want>
  void compare(int n, MakeQuery make_query, Describe describe_query, Got got_of, Want want_of) {
    int non_empty = 0;
    for (int i = 0; i < n; ++i) {
      if (i == n / 2) ASSERT_TRUE(store_->compact().ok());
      const Query q = make_query();
      SCOPED_TRACE(describe_query(q));
      auto got = got_of(q);
      ASSERT_TRUE(got.ok()) << got.status();
      const auto want = want_of(q);
      ASSERT_EQ(got->rows, want.rows);
      ASSERT_EQ(got->rows_before_limit, want.rows_before_limit);
      non_empty += !want.rows.empty();
    }
    EXPECT_GT(non_empty, n / 4);  // the queries do hit data
  }

  ScopedTempDir dir_;
  std::unique_ptr<EventStore> store_;
  Reference reference_;
};

TEST_P(DifferentialTest, UserFeatureUsage) {
  RandomEvents gen(GetParam().seed + 1000);
  int non_empty = 0;
  for (int i = 0; i < 400; ++i) {
    // Half the queries before, half after a compaction, which brings every
    // rollup up to date: partial rollups + scanned parts, then rollups.
    if (i == 200) ASSERT_TRUE(store_->compact().ok());
    const UserFeatureUsageQuery q = gen.user_query();
    SCOPED_TRACE(absl::StrCat("user_id=", describe(q.user_id), " feature_id=", describe(q.feature_id),
                              " product_version=", describe(q.product_version), " limit=", describe(q.limit),
                              " skip=", describe(q.skip)));
    auto got = store_->user_feature_usage(q);
    ASSERT_TRUE(got.ok()) << got.status();
    const auto want = reference_.user_feature_usage(q);
    ASSERT_EQ(got->rows, want.rows);
    ASSERT_EQ(got->rows_before_limit, want.rows_before_limit);
    non_empty += !want.rows.empty();
  }
  EXPECT_GT(non_empty, 100);  // the queries do hit data
}

TEST_P(DifferentialTest, FeatureUsageSummary) {
  RandomEvents gen(GetParam().seed + 2000);
  int non_empty = 0;
  for (int i = 0; i < 400; ++i) {
    // Half the queries before, half after a compaction, which brings every
    // rollup up to date: partial rollups + scanned parts, then rollups.
    if (i == 200) ASSERT_TRUE(store_->compact().ok());
    const FeatureUsageSummaryQuery q = gen.summary_query();
    SCOPED_TRACE(absl::StrCat("feature_id=", describe(q.feature_id), " product_version=", describe(q.product_version),
                              " event_type=", describe(q.event_type), " start_date=", describe(q.start_date),
                              " end_date=", describe(q.end_date), " limit=", describe(q.limit),
                              " skip=", describe(q.skip)));
    auto got = store_->feature_usage_summary(q);
    ASSERT_TRUE(got.ok()) << got.status();
    const auto want = reference_.feature_usage_summary(q);
    ASSERT_EQ(got->rows, want.rows);
    ASSERT_EQ(got->rows_before_limit, want.rows_before_limit);
    non_empty += !want.rows.empty();
  }
  EXPECT_GT(non_empty, 100);
}

TEST_P(DifferentialTest, FeatureUsageTimeline) {
  RandomEvents gen(GetParam().seed + 3000);
  int non_empty = 0;
  for (int i = 0; i < 400; ++i) {
    // Half the queries before, half after a compaction, which brings every
    // rollup up to date: partial rollups + scanned parts, then rollups.
    if (i == 200) ASSERT_TRUE(store_->compact().ok());
    const FeatureUsageTimelineQuery q = gen.timeline_query();
    SCOPED_TRACE(absl::StrCat("granularity=", std::string(granularity_name(q.granularity)), " feature_id=", describe(q.feature_id),
                              " product_version=", describe(q.product_version), " event_type=",
                              describe(q.event_type), " start_date=", describe(q.start_date),
                              " end_date=", describe(q.end_date), " tz=", describe(q.tz),
                              " limit=", describe(q.limit), " skip=", describe(q.skip)));
    auto got = store_->feature_usage_timeline(q);
    ASSERT_TRUE(got.ok()) << got.status();
    const auto want = reference_.feature_usage_timeline(q);
    ASSERT_EQ(got->rows, want.rows);
    ASSERT_EQ(got->rows_before_limit, want.rows_before_limit);
    non_empty += !want.rows.empty();
  }
  EXPECT_GT(non_empty, 100);
}

TEST_P(DifferentialTest, FeatureAdoption) {
  RandomEvents gen(GetParam().seed + 4000);
  compare<FeatureAdoptionQuery>(
      200, [&] { return gen.adoption_query(); },
      [](const FeatureAdoptionQuery& q) {
        return absl::StrCat("feature_id=", describe(q.feature_id), " product_version=", describe(q.product_version),
                            " event_type=", describe(q.event_type), " start_date=", describe(q.start_date),
                            " end_date=", describe(q.end_date), " limit=", describe(q.limit),
                            " skip=", describe(q.skip));
      },
      [&](const FeatureAdoptionQuery& q) { return store_->feature_adoption(q); },
      [&](const FeatureAdoptionQuery& q) { return reference_.feature_adoption(q); });
}

TEST_P(DifferentialTest, ActiveUsers) {
  RandomEvents gen(GetParam().seed + 5000);
  compare<ActiveUsersQuery>(
      160, [&] { return gen.active_users_query(); },
      [](const ActiveUsersQuery& q) {
        return absl::StrCat("window_days=", q.window_days, " feature_id=", describe(q.feature_id),
                            " product_version=", describe(q.product_version), " event_type=", describe(q.event_type),
                            " start_date=", describe(q.start_date), " end_date=", describe(q.end_date),
                            " tz=", describe(q.tz), " limit=", describe(q.limit), " skip=", describe(q.skip));
      },
      [&](const ActiveUsersQuery& q) { return store_->active_users(q); },
      [&](const ActiveUsersQuery& q) { return reference_.active_users(q); });
}

TEST_P(DifferentialTest, FeatureRetention) {
  RandomEvents gen(GetParam().seed + 6000);
  compare<FeatureRetentionQuery>(
      200, [&] { return gen.retention_query(); },
      [](const FeatureRetentionQuery& q) {
        return absl::StrCat("granularity=", std::string(granularity_name(q.granularity)),
                            " feature_id=", describe(q.feature_id), " product_version=", describe(q.product_version),
                            " event_type=", describe(q.event_type), " start_date=", describe(q.start_date),
                            " end_date=", describe(q.end_date), " tz=", describe(q.tz),
                            " limit=", describe(q.limit), " skip=", describe(q.skip));
      },
      [&](const FeatureRetentionQuery& q) { return store_->feature_retention(q); },
      [&](const FeatureRetentionQuery& q) { return reference_.feature_retention(q); });
}

TEST_P(DifferentialTest, FeatureFunnel) {
  RandomEvents gen(GetParam().seed + 7000);
  compare<FeatureFunnelQuery>(
      200, [&] { return gen.funnel_query(); },
      [](const FeatureFunnelQuery& q) {
        return absl::StrCat("steps=", describe(q.steps), " window=", q.window.count(),
                            " product_version=", describe(q.product_version), " event_type=", describe(q.event_type),
                            " start_date=", describe(q.start_date), " end_date=", describe(q.end_date),
                            " limit=", describe(q.limit), " skip=", describe(q.skip));
      },
      [&](const FeatureFunnelQuery& q) { return store_->feature_funnel(q); },
      [&](const FeatureFunnelQuery& q) { return reference_.feature_funnel(q); });
}

TEST_P(DifferentialTest, PropertyBreakdown) {
  RandomEvents gen(GetParam().seed + 4000);
  int non_empty = 0, valued = 0;
  for (int i = 0; i < 300; ++i) {
    if (i == 150) ASSERT_TRUE(store_->compact().ok());
    const PropertyBreakdownQuery q = gen.property_query();
    SCOPED_TRACE(absl::StrCat("property='", q.property, "' feature_id=", describe(q.feature_id),
                              " product_version=", describe(q.product_version), " event_type=",
                              describe(q.event_type), " start_date=", describe(q.start_date),
                              " end_date=", describe(q.end_date), " limit=", describe(q.limit),
                              " skip=", describe(q.skip)));
    auto got = store_->property_breakdown(q);
    ASSERT_TRUE(got.ok()) << got.status();
    const auto want = reference_.property_breakdown(q);
    ASSERT_EQ(got->rows, want.rows);
    ASSERT_EQ(got->rows_before_limit, want.rows_before_limit);
    non_empty += !want.rows.empty();
    valued += want.rows_before_limit > 1;  // values besides ''
  }
  EXPECT_GT(non_empty, 100);
  EXPECT_GT(valued, 50);
}

TEST_P(DifferentialTest, VersionAdoption) {
  RandomEvents gen(GetParam().seed + 5000);
  int non_empty = 0;
  for (int i = 0; i < 300; ++i) {
    if (i == 150) ASSERT_TRUE(store_->compact().ok());
    const VersionAdoptionQuery q = gen.version_query();
    SCOPED_TRACE(absl::StrCat("granularity=", std::string(granularity_name(q.granularity)),
                              " feature_id=", describe(q.feature_id), " event_type=", describe(q.event_type),
                              " start_date=", describe(q.start_date), " end_date=", describe(q.end_date),
                              " tz=", describe(q.tz), " limit=", describe(q.limit), " skip=", describe(q.skip)));
    auto got = store_->version_adoption(q);
    ASSERT_TRUE(got.ok()) << got.status();
    const auto want = reference_.version_adoption(q);
    ASSERT_EQ(got->rows, want.rows);
    ASSERT_EQ(got->rows_before_limit, want.rows_before_limit);
    non_empty += !want.rows.empty();
  }
  EXPECT_GT(non_empty, 100);
}

INSTANTIATE_TEST_SUITE_P(PartSizes, DifferentialTest,
                         ::testing::Values(Config{1, true, 11},        // every row its own part, merged
                                           Config{7, true, 12},        // many tiny parts + buffers
                                           Config{256, true, 13},      // parts and buffers
                                           Config{1 << 20, true, 14},  // buffers only
                                           Config{64, false, 15},      // dedup off
                                           Config{16, true, 16, false},   // sealing inline, no merges
                                           Config{128, true, 17, true, true},  // reopened from its files
                                           // reopened, with a cache that evicts every part not in use
                                           Config{128, true, 18, true, true, 1}),
                         [](const auto& info) {
                           return absl::StrCat("rows", info.param.part_rows, info.param.deduplicate ? "" : "_nodedup",
                                               info.param.background_threads ? "" : "_inline",
                                               info.param.durable ? "_durable" : "",
                                               info.param.cache_bytes > 0 ? "_tinycache" : "");
                         });

}  // namespace
}  // namespace usagedb::testing
