// Typed results to ResultTable: the SPEC's column names, types and order, the
// cells, paging facts and statistics; and run_request end to end on a store.
#include "lib/api/result_table.h"

#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "usagedb/usagedb.h"
#include "tests/testutil/helpers.h"

namespace usagedb::api {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

using ::usagedb::testing::at;

std::vector<std::string> names(const ResultTable& t) {
  std::vector<std::string> out;
  for (const Column& c : t.columns) out.push_back(c.name);
  return out;
}

std::vector<ColumnType> types(const ResultTable& t) {
  std::vector<ColumnType> out;
  for (const Column& c : t.columns) out.push_back(c.type);
  return out;
}

constexpr ColumnType S = ColumnType::kString;
constexpr ColumnType U = ColumnType::kUInt64;
constexpr ColumnType D = ColumnType::kDateTime;
constexpr ColumnType F = ColumnType::kFloat64;
constexpr ColumnType Day = ColumnType::kDate;

std::chrono::sys_days day(int y, unsigned m, unsigned d) {
  return std::chrono::sys_days{std::chrono::year{y} / std::chrono::month{m} / std::chrono::day{d}};
}

TEST(ColumnTypeName, IsClickHouses) {
  EXPECT_EQ(column_type_name(ColumnType::kString), "String");
  EXPECT_EQ(column_type_name(ColumnType::kUInt64), "UInt64");
  EXPECT_EQ(column_type_name(ColumnType::kDateTime), "DateTime");
}

TEST(CellText, WritesEachType) {
  EXPECT_EQ(cell_text(Cell{std::string("a,\"b\"")}), "a,\"b\"");
  EXPECT_EQ(cell_text(Cell{std::string()}), "");
  EXPECT_EQ(cell_text(Cell{uint64_t{18446744073709551615u}}), "18446744073709551615");
  EXPECT_EQ(cell_text(Cell{uint64_t{0}}), "0");
  EXPECT_EQ(cell_text(Cell{at("2025-05-11 10:23:03")}), "2025-05-11 10:23:03");
}

TEST(ToResultTable, UserFeatureUsageColumnsAndCells) {
  QueryResult<UserFeatureUsageRow> r;
  r.rows = {{"u1", "f1", "1.0", 3, at("2025-01-01 00:00:00"), at("2025-01-02 03:04:05")}};
  r.rows_before_limit = 7;
  r.statistics = {.elapsed_seconds = 0.25, .rows_read = 11, .bytes_read = 132};
  const ResultTable t = to_result_table(r, /*limit_given=*/true);
  EXPECT_THAT(names(t),
              ElementsAre("user_id", "feature_id", "product_version", "usage_count", "first_usage", "last_usage"));
  EXPECT_THAT(types(t), ElementsAre(S, S, S, U, D, D));
  ASSERT_EQ(t.rows.size(), 1u);
  EXPECT_THAT(t.rows[0], ElementsAre(Cell{std::string("u1")}, Cell{std::string("f1")}, Cell{std::string("1.0")},
                                     Cell{uint64_t{3}}, Cell{at("2025-01-01 00:00:00")},
                                     Cell{at("2025-01-02 03:04:05")}));
  EXPECT_EQ(t.rows_before_limit, 7u);
  EXPECT_TRUE(t.limit_given);
  EXPECT_EQ(t.statistics.elapsed_seconds, 0.25);
  EXPECT_EQ(t.statistics.rows_read, 11u);
  EXPECT_EQ(t.statistics.bytes_read, 132u);
}

TEST(ToResultTable, FeatureUsageSummaryColumnsAndCells) {
  QueryResult<FeatureUsageSummaryRow> r;
  r.rows = {{"f1", "2.0", 10, 4, 5, at("2025-01-01 00:00:00"), at("2025-02-01 00:00:00")},
            {"f2", "", 1, 1, 1, at("2025-03-01 00:00:00"), at("2025-03-01 00:00:00")}};
  r.rows_before_limit = 2;
  const ResultTable t = to_result_table(r, /*limit_given=*/false);
  EXPECT_THAT(names(t), ElementsAre("feature_id", "product_version", "total_events", "unique_users",
                                    "unique_sessions", "first_seen", "last_seen"));
  EXPECT_THAT(types(t), ElementsAre(S, S, U, U, U, D, D));
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_THAT(t.rows[0], ElementsAre(Cell{std::string("f1")}, Cell{std::string("2.0")}, Cell{uint64_t{10}},
                                     Cell{uint64_t{4}}, Cell{uint64_t{5}}, Cell{at("2025-01-01 00:00:00")},
                                     Cell{at("2025-02-01 00:00:00")}));
  EXPECT_EQ(t.rows[1][1], Cell{std::string()});
  EXPECT_EQ(t.rows_before_limit, 2u);
  EXPECT_FALSE(t.limit_given);
}

TEST(ToResultTable, FeatureUsageTimelineColumnsAndCells) {
  QueryResult<FeatureUsageTimelineRow> r;
  r.rows = {{at("2025-01-06 00:00:00"), "f1", 9, 2}};
  r.rows_before_limit = 1;
  const ResultTable t = to_result_table(r, false);
  EXPECT_THAT(names(t), ElementsAre("period", "feature_id", "events", "unique_users"));
  EXPECT_THAT(types(t), ElementsAre(D, S, U, U));
  ASSERT_EQ(t.rows.size(), 1u);
  EXPECT_THAT(t.rows[0], ElementsAre(Cell{at("2025-01-06 00:00:00")}, Cell{std::string("f1")}, Cell{uint64_t{9}},
                                     Cell{uint64_t{2}}));
}

TEST(CellText, ShowsADateTimeInItsZone) {
  const Cell t{at("2025-11-02 06:30:00")};
  EXPECT_EQ(cell_text(t, "America/New_York"), "2025-11-02 01:30:00");  // EST, the second 01:30
  EXPECT_EQ(cell_text(Cell{at("2025-11-02 05:30:00")}, "America/New_York"), "2025-11-02 01:30:00");  // EDT
  EXPECT_EQ(cell_text(t, "Asia/Kathmandu"), "2025-11-02 12:15:00");
  EXPECT_EQ(cell_text(t, "UTC"), "2025-11-02 06:30:00");
  EXPECT_EQ(cell_text(t, "Not/AZone"), "2025-11-02 06:30:00");
}

TEST(ToResultTable, PropertyBreakdownColumnsAndCells) {
  QueryResult<PropertyBreakdownRow> r;
  r.rows = {{"mobile", 9, 4}, {"", 2, 2}};
  r.rows_before_limit = 2;
  const ResultTable t = to_result_table(r, false);
  EXPECT_THAT(names(t), ElementsAre("value", "events", "users"));
  EXPECT_THAT(types(t), ElementsAre(S, U, U));
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_THAT(t.rows[0], ElementsAre(Cell{std::string("mobile")}, Cell{uint64_t{9}}, Cell{uint64_t{4}}));
  EXPECT_EQ(t.rows[1][0], Cell{std::string()});
}

TEST(ToResultTable, VersionAdoptionColumnsCellsAndZone) {
  QueryResult<VersionAdoptionRow> r;
  r.rows = {{at("2025-03-03 05:00:00"), "1.2", 3, 4, 0.75, 10}};
  const ResultTable t = to_result_table(r, false, "America/New_York");
  EXPECT_THAT(names(t), ElementsAre("period", "product_version", "users", "active_users", "share", "events"));
  EXPECT_THAT(types(t), ElementsAre(D, S, U, U, ColumnType::kFloat64, U));
  EXPECT_EQ(t.columns[0].time_zone, "America/New_York");
  EXPECT_EQ(t.columns[1].time_zone, "");
  ASSERT_EQ(t.rows.size(), 1u);
  EXPECT_THAT(t.rows[0], ElementsAre(Cell{at("2025-03-03 05:00:00")}, Cell{std::string("1.2")}, Cell{uint64_t{3}},
                                     Cell{uint64_t{4}}, Cell{0.75}, Cell{uint64_t{10}}));
  EXPECT_EQ(cell_text(t.rows[0][0], t.columns[0].time_zone), "2025-03-03 00:00:00");
}

TEST(ToResultTable, RetentionCohortsPrintInTheZoneAndActiveUsersDaysAreDates) {
  QueryResult<FeatureRetentionRow> r;
  r.rows = {{at("2024-12-30 05:00:00"), 5, 1, 2}};
  const ResultTable t = to_result_table(r, false, "America/New_York");
  EXPECT_EQ(t.columns[0].time_zone, "America/New_York");
  EXPECT_EQ(cell_text(t.rows[0][0], t.columns[0].time_zone), "2024-12-30 00:00:00");
  QueryResult<ActiveUsersRow> days;
  days.rows = {{std::chrono::sys_days{std::chrono::year{2025} / 3 / 9}, 7}};
  const ResultTable d = to_result_table(days, false, "America/New_York");
  EXPECT_EQ(d.columns[0].type, ColumnType::kDate);
  EXPECT_EQ(d.columns[0].time_zone, "");  // a local date already
  EXPECT_EQ(cell_text(d.rows[0][0], d.columns[0].time_zone), "2025-03-09");
}

TEST(ToResultTable, EmptyResultKeepsTheColumns) {
  const ResultTable t = to_result_table(QueryResult<FeatureUsageTimelineRow>{}, false);
  EXPECT_EQ(t.columns.size(), 4u);
  EXPECT_TRUE(t.rows.empty());
  EXPECT_EQ(t.rows_before_limit, 0u);
}

class RunRequest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = EventStore::open(Options{});
    ASSERT_TRUE(opened.ok()) << opened.status();
    store_ = std::move(opened).value();
    const struct {
      const char* user;
      const char* feature;
      const char* version;
      const char* type;
      const char* ts;
      const char* session;
    } events[] = {
        {"alice", "search", "1.0", "view", "2025-01-01 10:00:00", "s1"},
        {"alice", "search", "1.0", "click", "2025-01-01 11:00:00", "s1"},
        {"alice", "export", "2.0", "view", "2025-01-02 09:00:00", "s2"},
        {"bob", "search", "2.0", "view", "2025-01-03 09:00:00", ""},
    };
    for (const auto& e : events) {
      ASSERT_TRUE(store_
                      ->record_event({.user_id = e.user, .feature_id = e.feature, .product_version = e.version,
                                      .event_type = e.type, .timestamp = at(e.ts), .session_id = e.session})
                      .ok());
    }
  }

  ResultTable run(Endpoint e, const Params& params) {
    absl::StatusOr<EndpointRequest> request = parse_request(e, params, UnknownParameters::kReject);
    EXPECT_TRUE(request.ok()) << request.status();
    if (!request.ok()) return {};
    absl::StatusOr<ResultTable> table = run_request(*store_, *request);
    EXPECT_TRUE(table.ok()) << table.status();
    return table.ok() ? std::move(table).value() : ResultTable{};
  }

  std::unique_ptr<EventStore> store_;
};

TEST_F(RunRequest, UserFeatureUsage) {
  const ResultTable t = run(Endpoint::kUserFeatureUsage, {{"user_id", "alice"}});
  EXPECT_EQ(t.columns.size(), 6u);
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_THAT(t.rows[0], ElementsAre(Cell{std::string("alice")}, Cell{std::string("search")},
                                     Cell{std::string("1.0")}, Cell{uint64_t{2}}, Cell{at("2025-01-01 10:00:00")},
                                     Cell{at("2025-01-01 11:00:00")}));
  EXPECT_EQ(t.rows[1][1], Cell{std::string("export")});
  EXPECT_EQ(t.rows_before_limit, 2u);
  EXPECT_FALSE(t.limit_given);
  EXPECT_GT(t.statistics.rows_read, 0u);
}

TEST_F(RunRequest, FeatureUsageSummaryWithLimit) {
  const ResultTable t = run(Endpoint::kFeatureUsageSummary, {{"limit", "1"}});
  EXPECT_EQ(t.columns.size(), 7u);
  ASSERT_EQ(t.rows.size(), 1u);
  // search 1.0 has two events: first in the SPEC's order.
  EXPECT_THAT(t.rows[0], ElementsAre(Cell{std::string("search")}, Cell{std::string("1.0")}, Cell{uint64_t{2}},
                                     Cell{uint64_t{1}}, Cell{uint64_t{1}}, Cell{at("2025-01-01 10:00:00")},
                                     Cell{at("2025-01-01 11:00:00")}));
  EXPECT_EQ(t.rows_before_limit, 3u);
  EXPECT_TRUE(t.limit_given);
}

TEST_F(RunRequest, FeatureUsageTimelineWithSkipOnly) {
  const ResultTable t = run(Endpoint::kFeatureUsageTimeline, {{"granularity", "month"}, {"skip", "1"}});
  EXPECT_EQ(t.columns.size(), 4u);
  ASSERT_EQ(t.rows.size(), 1u);
  EXPECT_THAT(t.rows[0], ElementsAre(Cell{at("2025-01-01 00:00:00")}, Cell{std::string("search")}, Cell{uint64_t{3}},
                                     Cell{uint64_t{2}}));
  EXPECT_EQ(t.rows_before_limit, 2u);
  EXPECT_FALSE(t.limit_given);
}

TEST_F(RunRequest, FeatureAdoption) {
  const ResultTable t = run(Endpoint::kFeatureAdoption, {{"event_type", "view"}});
  EXPECT_THAT(names(t), ElementsAre("feature_id", "users", "active_users", "adoption_rate", "events"));
  EXPECT_THAT(types(t), ElementsAre(S, U, U, F, U));
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_THAT(t.rows[0], ElementsAre(Cell{std::string("search")}, Cell{uint64_t{2}}, Cell{uint64_t{2}}, Cell{1.0},
                                     Cell{uint64_t{2}}));
  EXPECT_THAT(t.rows[1], ElementsAre(Cell{std::string("export")}, Cell{uint64_t{1}}, Cell{uint64_t{2}}, Cell{0.5},
                                     Cell{uint64_t{1}}));
}

TEST_F(RunRequest, ActiveUsersWithDates) {
  const ResultTable t =
      run(Endpoint::kActiveUsers, {{"window_days", "2"}, {"start_date", "2025-01-02"}, {"end_date", "2025-01-05"}});
  EXPECT_THAT(names(t), ElementsAre("day", "active_users"));
  EXPECT_THAT(types(t), ElementsAre(Day, U));
  EXPECT_THAT(t.rows, ElementsAre(ElementsAre(Cell{day(2025, 1, 2)}, Cell{uint64_t{1}}),
                                  ElementsAre(Cell{day(2025, 1, 3)}, Cell{uint64_t{2}}),
                                  ElementsAre(Cell{day(2025, 1, 4)}, Cell{uint64_t{1}})));
  EXPECT_EQ(cell_text(t.rows[0][0]), "2025-01-02");
}

TEST_F(RunRequest, FeatureRetentionDaily) {
  const ResultTable t = run(Endpoint::kFeatureRetention, {{"granularity", "day"}, {"feature_id", "search"}});
  EXPECT_THAT(names(t), ElementsAre("cohort", "cohort_users", "period_offset", "users"));
  EXPECT_THAT(types(t), ElementsAre(D, U, U, U));
  EXPECT_THAT(t.rows, ElementsAre(ElementsAre(Cell{at("2025-01-01 00:00:00")}, Cell{uint64_t{1}}, Cell{uint64_t{0}},
                                              Cell{uint64_t{1}}),
                                  ElementsAre(Cell{at("2025-01-03 00:00:00")}, Cell{uint64_t{1}}, Cell{uint64_t{0}},
                                              Cell{uint64_t{1}})));
}

TEST_F(RunRequest, FeatureFunnel) {
  const ResultTable t = run(Endpoint::kFeatureFunnel, {{"steps", "search,export"}, {"window", "86400"}});
  EXPECT_THAT(names(t), ElementsAre("step", "feature_id", "users"));
  EXPECT_THAT(types(t), ElementsAre(U, S, U));
  // alice exports 22 hours after her second search (23 after her first); bob never exports.
  EXPECT_THAT(t.rows, ElementsAre(ElementsAre(Cell{uint64_t{1}}, Cell{std::string("search")}, Cell{uint64_t{2}}),
                                  ElementsAre(Cell{uint64_t{2}}, Cell{std::string("export")}, Cell{uint64_t{1}})));
  const ResultTable tight = run(Endpoint::kFeatureFunnel, {{"steps", "search,export"}, {"window", "3600"}});
  EXPECT_EQ(tight.rows[1][2], Cell{uint64_t{0}});
}

TEST_F(RunRequest, TimelineInATimeZone) {
  // 2025-01-01 10:00 UTC is 15:30 in Kolkata; alice's 11:00 UTC click too
  // falls on January 1st there.
  const ResultTable t = run(Endpoint::kFeatureUsageTimeline, {{"tz", "Asia/Kolkata"}, {"feature_id", "search"}});
  ASSERT_EQ(t.columns.size(), 4u);
  EXPECT_EQ(t.columns[0].time_zone, "Asia/Kolkata");
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(cell_text(t.rows[0][0], t.columns[0].time_zone), "2025-01-01 00:00:00");
  EXPECT_EQ(t.rows[0][2], Cell{uint64_t{2}});
  EXPECT_EQ(cell_text(t.rows[1][0], t.columns[0].time_zone), "2025-01-03 00:00:00");
}

TEST_F(RunRequest, PropertyBreakdownAndVersionAdoption) {
  const ResultTable b = run(Endpoint::kPropertyBreakdown, {{"property", "device"}});
  ASSERT_EQ(b.rows.size(), 1u);  // no metadata: every event has ''
  EXPECT_THAT(b.rows[0], ElementsAre(Cell{std::string()}, Cell{uint64_t{4}}, Cell{uint64_t{2}}));
  const ResultTable v = run(Endpoint::kVersionAdoption, {{"granularity", "month"}});
  ASSERT_EQ(v.rows.size(), 2u);
  EXPECT_EQ(v.columns[0].time_zone, "");
  // 2.0: alice and bob of the two active users; 1.0: alice.
  EXPECT_THAT(v.rows[0], ElementsAre(Cell{at("2025-01-01 00:00:00")}, Cell{std::string("2.0")}, Cell{uint64_t{2}},
                                     Cell{uint64_t{2}}, Cell{1.0}, Cell{uint64_t{2}}));
  EXPECT_THAT(v.rows[1], ElementsAre(Cell{at("2025-01-01 00:00:00")}, Cell{std::string("1.0")}, Cell{uint64_t{1}},
                                     Cell{uint64_t{2}}, Cell{0.5}, Cell{uint64_t{2}}));
}

TEST_F(RunRequest, PassesOnTheStoresError) {
  // parse_request rejects this; a request built by hand reaches the store.
  EndpointRequest request;
  request.endpoint = Endpoint::kFeatureUsageSummary;
  request.query = FeatureUsageSummaryQuery{.start_date = at("2025-02-01 00:00:00"),
                                           .end_date = at("2025-01-01 00:00:00")};
  absl::StatusOr<ResultTable> t = run_request(*store_, request);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(t.status().message()), HasSubstr("end_date"));

  request.endpoint = Endpoint::kFeatureUsageTimeline;
  request.query = FeatureUsageTimelineQuery{.start_date = at("2025-02-01 00:00:00"),
                                            .end_date = at("2025-01-01 00:00:00")};
  EXPECT_FALSE(run_request(*store_, request).ok());

  // The C++ API checks tz and property itself.
  request.query = FeatureUsageTimelineQuery{.tz = "Mars/Base"};
  t = run_request(*store_, request);
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(std::string(t.status().message()), HasSubstr("tz: 'Mars/Base' is not a time zone"));
  request.endpoint = Endpoint::kVersionAdoption;
  request.query = VersionAdoptionQuery{.tz = ""};
  EXPECT_THAT(std::string(run_request(*store_, request).status().message()), HasSubstr("tz: '' is not"));
  request.endpoint = Endpoint::kPropertyBreakdown;
  request.query = PropertyBreakdownQuery{.property = ""};
  EXPECT_EQ(std::string(run_request(*store_, request).status().message()),
            "property: expected a metadata key of 1 to 256 bytes, got 0 bytes");
  request.query = PropertyBreakdownQuery{.property = std::string(257, 'k')};
  EXPECT_THAT(std::string(run_request(*store_, request).status().message()), HasSubstr("got 257 bytes"));
  request.query = PropertyBreakdownQuery{.property = std::string(256, 'k')};
  EXPECT_TRUE(run_request(*store_, request).ok());
}

}  // namespace
}  // namespace usagedb::api
