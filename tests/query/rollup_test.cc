// Rollups answer whole buckets and give exactly the rows a scan gives, in
// every state a partition's rollups can be in: one per part as parts are
// sealed and merged, one per month after compaction, missing for parts
// rewritten by delete_user, rebuilt, persisted and read back by a reopened
// store (or left unused when a file is damaged), and the rows no rollup
// holds stay under Options::max_unrolled_rows while events arrive; every
// endpoint, the engagement ones (and their activity bitmaps) too.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lib/gen/generator.h"
#include "lib/rollup/partition_rollup.h"
#include "lib/util/coding.h"
#include "tests/testutil/printers.h"
#include "tests/testutil/reference.h"
#include "tests/testutil/temp_dir.h"
#include "usagedb/usagedb.h"

namespace usagedb::testing {
namespace {

Timestamp date_param(const char* text) { return *parse_date_parameter(text); }

class RollupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = EventStore::open({.part_rows = 512, .background_threads = 0});
    ASSERT_TRUE(opened.ok()) << opened.status();
    store_ = std::move(opened).value();
  }

  // Generated events over three months of 2025.
  void record(uint64_t n, uint64_t seed) {
    gen::Generator g({.events = n, .seed = seed, .users = 300, .features = 12, .versions = 6, .months = 3});
    std::vector<Event> batch;
    while (const Event* e = g.next()) {
      ASSERT_TRUE(store_->record_event(*e).ok());
      reference_.record(*e);
    }
  }

  // Closes the store (a writer's close checkpoints: parts, dictionaries,
  // rollups) and opens the one in `directory` in its place.
  void reopen(const std::string& directory) {
    store_.reset();
    auto opened = EventStore::open({.directory = directory, .part_rows = 512, .background_threads = false});
    ASSERT_TRUE(opened.ok()) << opened.status();
    store_ = std::move(opened).value();
  }

  FeatureUsageSummaryQuery summary(const char* start, const char* end) {
    FeatureUsageSummaryQuery q;
    q.start_date = date_param(start);
    q.end_date = date_param(end);
    return q;
  }

  // Every endpoint agrees with the reference; returns the rows the three
  // rollup-friendly requests read (a whole month's summary, a daily
  // timeline over the whole data, a busy user).
  uint64_t check_all(const std::string& state) {
    SCOPED_TRACE(state);
    uint64_t read = 0;
    // Filters on feature or version over several whole months merge only
    // their groups, unless every group's merge is cached: asked before and
    // after the unfiltered requests that cache it.
    FeatureUsageSummaryQuery by_feature = summary("2025-01-01", "2026-01-01");
    by_feature.feature_id = "feature_3";
    FeatureUsageSummaryQuery by_version = summary("2025-01-01", "2026-01-01");
    by_version.product_version = "1.0.1";
    std::vector<FeatureUsageSummaryQuery> summaries = {by_feature,
                                                       by_version,
                                                       summary("2025-02-01", "2025-03-01"),
                                                       summary("2025-01-01", "2026-01-01"),
                                                       summary("2025-01-15", "2025-03-01"),
                                                       {},
                                                       by_feature,
                                                       by_version};
    FeatureUsageSummaryQuery filtered = summary("2025-01-01", "2025-04-01");
    filtered.event_type = "click";
    summaries.push_back(filtered);
    for (size_t i = 0; i < summaries.size(); ++i) {
      auto got = store_->feature_usage_summary(summaries[i]);
      EXPECT_TRUE(got.ok()) << got.status();
      EXPECT_EQ(got->rows, reference_.feature_usage_summary(summaries[i]).rows) << "summary " << i;
      if (i < 2) EXPECT_FALSE(got->rows.empty()) << "summary " << i << " matches nothing";
      if (i == 2) read += got->statistics.rows_read;
    }
    for (const Granularity g : {Granularity::kHour, Granularity::kDay, Granularity::kWeek, Granularity::kMonth}) {
      for (const char* feature : {"", "feature_1", "feature_3"}) {
        FeatureUsageTimelineQuery q;
        q.granularity = g;
        if (*feature != 0) q.feature_id = feature;
        q.start_date = date_param("2025-01-06");
        q.end_date = date_param("2025-03-17 05:00:00");
        auto got = store_->feature_usage_timeline(q);
        EXPECT_TRUE(got.ok()) << got.status();
        EXPECT_EQ(got->rows, reference_.feature_usage_timeline(q).rows)
            << granularity_name(g) << " " << feature;
        FeatureUsageTimelineQuery all;
        all.granularity = g;
        got = store_->feature_usage_timeline(all);
        EXPECT_EQ(got->rows, reference_.feature_usage_timeline(all).rows) << granularity_name(g);
        if (g == Granularity::kDay && *feature == 0) read += got->statistics.rows_read;
      }
    }
    check_engagement();
    check_versions_and_metadata();
    for (const char* user : {"user_1", "user_2", "user_17", "user_250"}) {
      UserFeatureUsageQuery q;
      q.user_id = user;
      auto got = store_->user_feature_usage(q);
      EXPECT_TRUE(got.ok()) << got.status();
      EXPECT_EQ(got->rows, reference_.user_feature_usage(q).rows) << user;
      q.feature_id = "feature_2";
      got = store_->user_feature_usage(q);
      EXPECT_EQ(got->rows, reference_.user_feature_usage(q).rows) << user << " feature_2";
      if (std::string(user) == "user_1") read += got->statistics.rows_read;
    }
    return read;
  }

  // The rows check_all() reads from a store with the same events, all of
  // them still in buffers: what a store without rollups reads.
  uint64_t scan_baseline() {
    std::swap(store_, unsealed_);
    auto opened = EventStore::open({.part_rows = 1 << 20, .max_unrolled_rows = 1 << 21, .background_threads = 0});
    EXPECT_TRUE(opened.ok());
    store_ = std::move(opened).value();
    std::vector<Event> events;
    for (const OwnedEvent& e : reference_.events()) events.push_back(e.view());
    EXPECT_TRUE(store_->record_events(events).ok());
    const uint64_t rows = check_all("every row in buffers");
    std::swap(store_, unsealed_);
    unsealed_.reset();
    return rows;
  }

  // SPEC 2.9-2.11, from the version timelines, metadata counts and hour
  // cells of every rollup: whole months and a window cut mid-hour, in UTC
  // and in a zone whose days cut the rollups' UTC days.
  void check_versions_and_metadata() {
    for (const auto& [start, end] :
         {std::pair{"2025-01-01", "2025-04-01"}, std::pair{"2025-01-15 06:30:15", "2025-03-02 17:00:00"}}) {
      for (const char* tz : {"", "Asia/Kolkata"}) {
        SCOPED_TRACE(::testing::Message() << start << " .. " << end << " tz '" << tz << "'");
        for (const Granularity g : {Granularity::kDay, Granularity::kWeek}) {
          VersionAdoptionQuery versions{.granularity = g, .start_date = date_param(start), .end_date = date_param(end)};
          if (*tz != 0) versions.tz = tz;
          EXPECT_EQ(store_->version_adoption(versions)->rows, reference_.version_adoption(versions).rows)
              << granularity_name(g);
          FeatureUsageTimelineQuery local{.granularity = g, .start_date = date_param(start), .end_date = date_param(end)};
          if (*tz != 0) local.tz = tz;
          EXPECT_EQ(store_->feature_usage_timeline(local)->rows, reference_.feature_usage_timeline(local).rows)
              << granularity_name(g);
          local.feature_id = "feature_3";
          EXPECT_EQ(store_->feature_usage_timeline(local)->rows, reference_.feature_usage_timeline(local).rows)
              << granularity_name(g) << " feature_3";
        }
        for (const char* feature : {"", "feature_3"}) {
          PropertyBreakdownQuery breakdown{.property = "os", .start_date = date_param(start), .end_date = date_param(end)};
          if (*feature != 0) breakdown.feature_id = feature;
          const auto got = store_->property_breakdown(breakdown);
          ASSERT_TRUE(got.ok()) << got.status();
          EXPECT_EQ(got->rows, reference_.property_breakdown(breakdown).rows) << feature;
          EXPECT_FALSE(got->rows.empty());
        }
      }
    }
  }

  // The engagement endpoints (SPEC 2.5-2.8) over whole months, windows cut
  // mid-day and mid-hour, every feature and one: from the activity bitmaps,
  // the cells and the rows, whatever state the rollups are in.
  void check_engagement() {
    using std::chrono::sys_days;
    const std::pair<const char*, const char*> windows[] = {
        {"2025-01-01", "2025-04-01"}, {"2025-02-01", "2025-03-01"}, {"2025-01-15 06:30:15", "2025-03-02 17:00:00"}};
    for (const auto& [start, end] : windows) {
      for (const char* feature : {"", "feature_3"}) {
        SCOPED_TRACE(::testing::Message() << start << " .. " << end << " feature '" << feature << "'");
        FeatureAdoptionQuery adoption{.start_date = date_param(start), .end_date = date_param(end)};
        if (*feature != 0) adoption.feature_id = feature;
        EXPECT_EQ(store_->feature_adoption(adoption)->rows, reference_.feature_adoption(adoption).rows);
        for (const Granularity g : {Granularity::kDay, Granularity::kWeek, Granularity::kMonth}) {
          FeatureRetentionQuery retention{.granularity = g, .start_date = date_param(start), .end_date = date_param(end)};
          if (*feature != 0) retention.feature_id = feature;
          EXPECT_EQ(store_->feature_retention(retention)->rows, reference_.feature_retention(retention).rows)
              << granularity_name(g);
        }
        FeatureFunnelQuery funnel{.steps = {"feature_1", "feature_2", "feature_3"},
                                  .window = std::chrono::hours(6),
                                  .start_date = date_param(start),
                                  .end_date = date_param(end)};
        EXPECT_EQ(store_->feature_funnel(funnel)->rows, reference_.feature_funnel(funnel).rows);
      }
    }
    for (const uint32_t w : {1u, 7u, 28u}) {
      for (const char* feature : {"", "feature_3"}) {
        ActiveUsersQuery q{.window_days = w,
                           .start_date = sys_days{std::chrono::year{2025} / 1 / 20},
                           .end_date = sys_days{std::chrono::year{2025} / 3 / 10}};
        if (*feature != 0) q.feature_id = feature;
        EXPECT_EQ(store_->active_users(q)->rows, reference_.active_users(q).rows) << w << " " << feature;
        ActiveUsersQuery all{.window_days = w};
        EXPECT_EQ(store_->active_users(all)->rows, reference_.active_users(all).rows) << w;
      }
    }
  }

  std::unique_ptr<EventStore> store_;
  std::unique_ptr<EventStore> unsealed_;
  Reference reference_;
};

TEST_F(RollupTest, SameRowsInEveryStateAndFewerRowsRead) {
  record(12000, 5);
  // A store whose rows all wait in buffers reads every row: the baseline.
  const uint64_t scanned = scan_baseline();
  const uint64_t live = check_all("a rollup per part, as sealed and merged");
  EXPECT_LT(live * 3, scanned) << "rollups read " << live << " rows, scans " << scanned;

  ASSERT_TRUE(store_->compact().ok());
  const uint64_t rolled = check_all("one part and one rollup per month");
  // Cells instead of rows: a month's summary reads its (feature, version)
  // cells, the timeline its day cells, the user its entries.
  EXPECT_LT(rolled * 10, scanned) << "rollups read " << rolled << " rows, scans " << scanned;

  record(3000, 6);  // new parts with their rollups, and buffered rows
  check_all("the compacted rollups plus new parts' rollups");

  ASSERT_TRUE(store_->compact().ok());  // merges them, with the merged parts' rollups
  check_all("compacted again");

  auto removed = store_->delete_user("user_1");
  ASSERT_TRUE(removed.ok()) << removed.status();
  ASSERT_EQ(*removed, reference_.delete_user("user_1"));
  ASSERT_GT(*removed, 0u);
  check_all("rewritten parts without rollups");

  ASSERT_TRUE(store_->compact().ok());
  EXPECT_LT(check_all("rebuilt without the deleted user") * 10, scanned);

  auto dropped = store_->drop_partitions_before(202502);
  ASSERT_TRUE(dropped.ok());
  ASSERT_EQ(*dropped, reference_.drop_partitions_before(202502));
  check_all("after retention");
}

TEST_F(RollupTest, RowsNoRollupHoldsStayUnderTheBound) {
  for (const bool background : {true, false}) {
    SCOPED_TRACE(background ? "background thread" : "inline seals");
    auto opened =
        EventStore::open({.part_rows = 4096, .max_unrolled_rows = 1024, .background_threads = background});
    ASSERT_TRUE(opened.ok());
    store_ = std::move(opened).value();
    reference_ = Reference();
    // February's summary, asked while the events arrive: its cells and at
    // most 1024 rows one by one, however far the background thread lags.
    const FeatureUsageSummaryQuery q = summary("2025-02-01", "2025-03-01");
    const FeatureUsageSummaryQuery year = summary("2025-01-01", "2026-01-01");
    gen::Generator g({.events = 9000, .seed = 7, .users = 300, .features = 12, .versions = 6, .months = 3});
    uint64_t most_read = 0;
    int n = 0;
    while (const Event* e = g.next()) {
      ASSERT_TRUE(store_->record_event(*e).ok());
      reference_.record(*e);
      if (++n % 500 != 0) continue;
      auto got = store_->feature_usage_summary(q);
      ASSERT_TRUE(got.ok());
      ASSERT_EQ(got->rows, reference_.feature_usage_summary(q).rows) << "after " << n << " events";
      most_read = std::max(most_read, got->statistics.rows_read);
      // Several months: the cached merge of the rollups of the previous
      // request plus the rollups sealed and merged since.
      got = store_->feature_usage_summary(year);
      ASSERT_TRUE(got.ok());
      ASSERT_EQ(got->rows, reference_.feature_usage_summary(year).rows) << "after " << n << " events";
    }
    // 1024 rows, and at most 72 cells per rollup of the month's few parts.
    EXPECT_LE(most_read, 1024u + 72u * 12) << "February holds ~3000 rows";
  }
}

// The rollup files of a store directory.
std::set<std::string> rollup_files(const std::string& dir) {
  std::set<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with("rollup-")) names.insert(name);
  }
  return names;
}

TEST_F(RollupTest, PersistedWithTheStoreAndReadBackOnOpen) {
  ScopedTempDir dir;
  const auto reopen = [&] { RollupTest::reopen(dir.path()); };
  const auto parts = [&] { return store_->stats()->parts; };
  reopen();
  record(12000, 8);
  const uint64_t scanned = scan_baseline();
  reopen();
  const std::set<std::string> first = rollup_files(dir.path());
  EXPECT_EQ(first.size(), parts()) << "one rollup file per part";
  // Read from the rollup files: no rebuild (no background thread, no compact).
  const uint64_t rolled = check_all("reopened");
  EXPECT_LT(rolled * 3, scanned) << "rollups read " << rolled << " rows, scans " << scanned;
  ASSERT_TRUE(store_->compact().ok());
  reopen();
  EXPECT_EQ(rollup_files(dir.path()).size(), 3u) << "compacted: one part and one rollup per month";
  EXPECT_LT(check_all("reopened after compaction") * 10, scanned);
  const std::set<std::string> compacted = rollup_files(dir.path());

  // New parts (the generator numbers event ids from evt_1 again: January's
  // are duplicates) come with rollup files of their own; the others stay.
  record(3000, 9);
  check_all("persisted rollups plus new rows");
  reopen();
  const std::set<std::string> second = rollup_files(dir.path());
  EXPECT_EQ(second.size(), parts());
  EXPECT_TRUE(std::includes(second.begin(), second.end(), compacted.begin(), compacted.end()));
  EXPECT_LT(check_all("reopened after more writes") * 3, scanned);

  reopen();  // nothing new: the same files
  EXPECT_EQ(rollup_files(dir.path()), second);

  // A damaged rollup file is not used: its part is read row by row, and
  // the next checkpoint replaces the file (a writer's: a process that only
  // reads leaves the files as they are).
  const std::string damaged = *compacted.begin();
  std::ofstream(dir.file(damaged), std::ios::binary | std::ios::trunc) << "not a rollup";
  reopen();
  check_all("one rollup file damaged");
  reopen();
  EXPECT_TRUE(rollup_files(dir.path()).contains(damaged)) << "a reader changed nothing";
  record(200, 10);
  reopen();
  const std::set<std::string> third = rollup_files(dir.path());
  EXPECT_EQ(third.size(), parts());
  EXPECT_FALSE(third.contains(damaged));
  EXPECT_LT(check_all("damaged rollup replaced") * 3, scanned);

  auto removed = store_->delete_user("user_2");
  ASSERT_TRUE(removed.ok()) << removed.status();
  ASSERT_EQ(*removed, reference_.delete_user("user_2"));
  ASSERT_GT(*removed, 0u);
  reopen();
  EXPECT_EQ(rollup_files(dir.path()).size(), parts()) << "the rewritten parts' rollups, built by delete_user's checkpoint";
  EXPECT_LT(check_all("reopened after delete_user") * 3, scanned);
}

// Every file of a store directory and its bytes.
std::map<std::string, std::string> store_files(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(entry.path(), std::ios::binary);
    files[entry.path().filename().string()] =
        std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return files;
}

// The byte in the middle of section `id` of a version 3 rollup file
// (lib/storage/rollup_file.h).
size_t middle_of_section(std::string_view file, uint64_t id) {
  const uint32_t header = coding::decode_fixed32(file.data() + 12);
  std::string_view in = file.substr(16, header);
  uint64_t v = 0, covered = 0, sections = 0;
  EXPECT_TRUE(coding::get_varint64(&in, &v) && coding::get_varint64(&in, &v) && coding::get_varint64(&in, &covered));
  for (uint64_t i = 0; i < covered; ++i) EXPECT_TRUE(coding::get_varint64(&in, &v));
  EXPECT_TRUE(coding::get_varint64(&in, &sections));
  for (uint64_t i = 0; i < sections; ++i) {
    uint64_t section = 0, offset = 0, size = 0, raw = 0, checksum = 0;
    EXPECT_TRUE(coding::get_varint64(&in, &section) && coding::get_varint64(&in, &offset) &&
                coding::get_varint64(&in, &size) && coding::get_varint64(&in, &raw) &&
                coding::get_fixed64(&in, &checksum));
    if (section == id) return 16 + header + 8 + offset + size / 2;
  }
  ADD_FAILURE() << "no section " << id;
  return 0;
}

// A reopened store reads its rollup files section by section: a process
// that only reads changes no file; a damaged section is answered from the
// parts, and the next writer replaces the file; the stored summary answers
// the whole store's summary, and a damaged one is not used.
TEST_F(RollupTest, SectionsOnFirstUseAReaderWritesNothingDamageIsAnsweredFromParts) {
  ScopedTempDir dir;
  const auto reopen = [&] { RollupTest::reopen(dir.path()); };
  reopen();
  record(6000, 11);
  ASSERT_TRUE(store_->compact().ok());
  reopen();
  const std::map<std::string, std::string> written = store_files(dir.path());
  ASSERT_TRUE(written.contains("SUMMARY"));
  // The whole store's summary from the stored counts: a row per group read.
  auto all = store_->feature_usage_summary({});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->rows, reference_.feature_usage_summary({}).rows);
  EXPECT_EQ(all->statistics.rows_read, all->rows.size());
  check_all("reopened");
  reopen();
  EXPECT_EQ(store_files(dir.path()), written) << "a process that only read changed a file";

  // A byte of a section every check_all() reads (the summary's bitmaps,
  // the user entries, the day timeline) of each rollup file.
  uint64_t section = 1;
  for (const auto& [name, bytes] : written) {
    if (!name.starts_with("rollup-")) continue;
    std::string bad = bytes;
    bad[middle_of_section(bad, section)] ^= 0x20;
    section = section == 1 ? 2 : section == 2 ? 4 : 1;
    std::ofstream(dir.file(name), std::ios::binary | std::ios::trunc) << bad;
  }
  std::string summary = written.at("SUMMARY");
  summary[summary.size() / 2] ^= 0x20;
  std::ofstream(dir.file("SUMMARY"), std::ios::binary | std::ios::trunc) << summary;
  reopen();
  check_all("every rollup file with a damaged section, the stored summary damaged");
  reopen();
  const std::map<std::string, std::string> damaged = store_files(dir.path());
  for (const auto& [name, bytes] : written) {
    if (name.starts_with("rollup-")) EXPECT_TRUE(damaged.contains(name)) << name << ": a reader changed it";
  }
  // A writer's checkpoint replaces them (and the stored summary).
  record(300, 12);
  check_all("written to");
  reopen();
  const std::map<std::string, std::string> replaced = store_files(dir.path());
  for (const auto& [name, bytes] : written) {
    if (name.starts_with("rollup-")) EXPECT_FALSE(replaced.contains(name)) << name << " was not replaced";
  }
  EXPECT_NE(replaced.at("SUMMARY"), summary);
  check_all("replaced");
}

// A reopened store's one-user look-ups read the part files' blocks of the
// user (format version 3) while the rollups' user entries are not in memory,
// then, from the ninth look-up of a rollup, the entries: the same answers
// either way, filters included.
TEST_F(RollupTest, OneUserFromThePartFilesThenFromTheRollups) {
  ScopedTempDir dir;
  const auto reopen = [&] { RollupTest::reopen(dir.path()); };
  reopen();
  record(6000, 13);
  ASSERT_TRUE(store_->compact().ok());
  reopen();
  for (uint32_t round = 0; round < PartitionRollup::kUserLookupsBeforeRead + 3; ++round) {
    for (const char* user : {"user_3", "user_40", "user_299", "nobody"}) {
      UserFeatureUsageQuery q;
      q.user_id = user;
      if (round % 3 == 1) q.feature_id = "feature_2";
      if (round % 3 == 2) q.product_version = "1.0.1";
      auto got = store_->user_feature_usage(q);
      ASSERT_TRUE(got.ok()) << got.status();
      EXPECT_EQ(got->rows, reference_.user_feature_usage(q).rows) << user << " round " << round;
    }
  }
}

}  // namespace
}  // namespace usagedb::testing
