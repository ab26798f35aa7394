// The endpoint catalog: one coherent definition per endpoint, shared by the
// CLI, the HTTP API and the exports; and its SQL rendered for ClickHouse.
#include "lib/api/endpoint_catalog.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/api/clickhouse_sql.h"
#include "lib/api/endpoint_request.h"
#include "lib/api/result_table.h"

namespace usagedb::api {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// The query parameters `{name:Type}` of a SQL text, in order of appearance.
std::vector<std::pair<std::string, std::string>> placeholders(std::string_view sql) {
  std::vector<std::pair<std::string, std::string>> out;
  for (size_t open = sql.find('{'); open != std::string_view::npos; open = sql.find('{', open + 1)) {
    const size_t colon = sql.find(':', open);
    const size_t close = sql.find('}', open);
    out.emplace_back(std::string(sql.substr(open + 1, colon - open - 1)),
                     std::string(sql.substr(colon + 1, close - colon - 1)));
  }
  return out;
}

TEST(EndpointCatalog, IsIndexedByEndpointAndFoundByName) {
  std::set<std::string_view> names;
  for (size_t i = 0; i < endpoint_catalog().size(); ++i) {
    const EndpointSpec& spec = endpoint_catalog()[i];
    EXPECT_EQ(static_cast<size_t>(spec.endpoint), i) << spec.name;
    EXPECT_EQ(&endpoint_spec(spec.endpoint), &spec);
    EXPECT_EQ(find_endpoint(spec.name), &spec);
    EXPECT_TRUE(names.insert(spec.name).second) << "two endpoints named " << spec.name;
    EXPECT_FALSE(spec.description.empty()) << spec.name;
  }
  EXPECT_EQ(find_endpoint("feature_usage"), nullptr);
  EXPECT_EQ(find_endpoint("User_Feature_Usage"), nullptr);
  EXPECT_EQ(endpoint_catalog()[0].name, "user_feature_usage");
}

TEST(EndpointCatalog, EveryEndpointPagesWithLimitAndSkipLast) {
  for (const EndpointSpec& spec : endpoint_catalog()) {
    ASSERT_GE(spec.parameters.size(), 2u) << spec.name;
    EXPECT_EQ(spec.parameters[spec.parameters.size() - 2].name, "limit") << spec.name;
    EXPECT_EQ(spec.parameters.back().name, "skip") << spec.name;
    std::set<std::string_view> seen;
    for (const ParameterSpec& p : spec.parameters) {
      EXPECT_TRUE(seen.insert(p.name).second) << spec.name << " lists " << p.name << " twice";
      EXPECT_FALSE(p.description.empty()) << spec.name << "." << p.name;
      EXPECT_EQ(spec.parameter(p.name), &p);
      if (p.type == ParameterType::kEnum) EXPECT_FALSE(p.choices.empty()) << spec.name << "." << p.name;
      // A default must itself be a valid value.
      if (!p.default_value.empty()) EXPECT_TRUE(check_parameter(p, p.default_value).ok()) << p.name;
    }
    EXPECT_EQ(spec.parameter("token"), nullptr);
  }
}

// Every parameter is a query parameter of the SQL, every query parameter is a
// parameter, and each has one type wherever it appears.
TEST(EndpointCatalog, TheSqlTakesExactlyTheCatalogsParameters) {
  for (const EndpointSpec& spec : endpoint_catalog()) {
    std::map<std::string, std::string> types;
    for (const auto& [name, type] : placeholders(spec.clickhouse_sql)) {
      EXPECT_NE(spec.parameter(name), nullptr) << spec.name << ": the SQL's {" << name << "} is not a parameter";
      auto [it, inserted] = types.emplace(name, type);
      EXPECT_EQ(it->second, type) << spec.name << ": {" << name << "} has two types";
    }
    for (const ParameterSpec& p : spec.parameters) {
      ASSERT_TRUE(types.contains(std::string(p.name))) << spec.name << ": " << p.name << " is not in the SQL";
      const std::string& type = types[std::string(p.name)];
      // Optional parameters are Nullable (NULL = absent); the type inside is the catalog's.
      EXPECT_THAT(type, HasSubstr(std::string(parameter_type_name(p.type)))) << spec.name << "." << p.name;
      if (!p.required && p.type != ParameterType::kStringList) {
        EXPECT_TRUE(type.starts_with("Nullable(")) << spec.name << "." << p.name << ": " << type;
      }
    }
  }
}

TEST(EndpointCatalog, ColumnsAreTheResultTablesColumns) {
  QueryResult<UserFeatureUsageRow> u;
  QueryResult<FeatureUsageSummaryRow> s;
  QueryResult<FeatureUsageTimelineRow> t;
  QueryResult<FeatureAdoptionRow> adoption;
  QueryResult<ActiveUsersRow> active;
  QueryResult<FeatureRetentionRow> retention;
  QueryResult<FeatureFunnelRow> funnel;
  const ResultTable tables[] = {to_result_table(u, false),         to_result_table(s, false),
                                to_result_table(t, false),         to_result_table(adoption, false),
                                to_result_table(active, false),    to_result_table(retention, false),
                                to_result_table(funnel, false)};
  for (const ResultTable& table : tables) {
    bool matched = false;
    for (const EndpointSpec& spec : endpoint_catalog()) {
      if (table.columns == columns_of(spec)) matched = true;
    }
    EXPECT_TRUE(matched) << table.columns.front().name;
  }
  EXPECT_EQ(columns_of(endpoint_spec(Endpoint::kFeatureUsageTimeline), "Asia/Kolkata").front().time_zone,
            "Asia/Kolkata");
  EXPECT_EQ(columns_of(endpoint_spec(Endpoint::kFeatureUsageTimeline), "Asia/Kolkata")[1].time_zone, "")
      << "only DateTime columns carry the zone";
}

TEST(ParameterTypeName, IsTheTypeTinybirdAndClickHouseName) {
  EXPECT_EQ(parameter_type_name(ParameterType::kString), "String");
  EXPECT_EQ(parameter_type_name(ParameterType::kDateTime), "DateTime");
  EXPECT_EQ(parameter_type_name(ParameterType::kDate), "Date");
  EXPECT_EQ(parameter_type_name(ParameterType::kUInt64), "UInt64");
  EXPECT_EQ(parameter_type_name(ParameterType::kEnum), "String");
  EXPECT_EQ(parameter_type_name(ParameterType::kStringList), "Array(String)");
  EXPECT_EQ(parameter_type_name(ParameterType::kTimeZone), "String");
}

// ---- check_parameter: the value rules of each parameter type ----

std::string error_of(const ParameterSpec& spec, std::string_view value) {
  const absl::Status s = check_parameter(spec, value);
  EXPECT_FALSE(s.ok()) << spec.name << "=" << value;
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  return std::string(s.message());
}

TEST(CheckParameter, RangedIntegers) {
  const ParameterSpec days{.name = "window_days", .type = ParameterType::kUInt64, .min = 1, .max = 365};
  EXPECT_TRUE(check_parameter(days, "1").ok());
  EXPECT_TRUE(check_parameter(days, "365").ok());
  EXPECT_TRUE(check_parameter(days, "007").ok());
  EXPECT_EQ(error_of(days, "0"), "window_days: expected an integer from 1 to 365, got '0'");
  EXPECT_EQ(error_of(days, "366"), "window_days: expected an integer from 1 to 365, got '366'");
  EXPECT_EQ(error_of(days, "-1"), "window_days: expected an integer from 1 to 365, got '-1'");
  EXPECT_EQ(error_of(days, "99999999999999999999999"),
            "window_days: expected an integer from 1 to 365, got '99999999999999999999999'");
  EXPECT_EQ(error_of(days, ""), "window_days: expected an integer from 1 to 365, got ''");
}

TEST(CheckParameter, DatesAreWholeDays) {
  const ParameterSpec start{.name = "start_date", .type = ParameterType::kDate};
  EXPECT_TRUE(check_parameter(start, "2025-03-01").ok());
  EXPECT_TRUE(check_parameter(start, "2025-03-01 00:00:00").ok());
  EXPECT_EQ(error_of(start, "2025-03-01 00:00:01"),
            "start_date: '2025-03-01 00:00:01' is not a date: expected YYYY-MM-DD (a whole day, the time may only "
            "be 00:00:00)");
  EXPECT_THAT(error_of(start, "2025-02-29"), HasSubstr("start_date: '2025-02-29' is "));
  EXPECT_THAT(error_of(start, ""), HasSubstr("start_date: '' is "));
}

TEST(CheckParameter, ListsOfDistinctNonEmptyItems) {
  const ParameterSpec steps{.name = "steps", .type = ParameterType::kStringList, .min = 2, .max = 8};
  EXPECT_TRUE(check_parameter(steps, "search,filter").ok());
  EXPECT_TRUE(check_parameter(steps, "a,b,c,d,e,f,g,h").ok());
  EXPECT_TRUE(check_parameter(steps, "with space,b").ok());
  EXPECT_EQ(error_of(steps, "search"), "steps: expected 2 to 8 comma-separated values, got 1 in 'search'");
  EXPECT_EQ(error_of(steps, "a,b,c,d,e,f,g,h,i"),
            "steps: expected 2 to 8 comma-separated values, got 9 in 'a,b,c,d,e,f,g,h,i'");
  EXPECT_EQ(error_of(steps, "search,,export"),
            "steps: item 2 of 'search,,export' is empty: expected comma-separated non-empty values");
  EXPECT_EQ(error_of(steps, "a,b,"), "steps: item 3 of 'a,b,' is empty: expected comma-separated non-empty values");
  EXPECT_EQ(error_of(steps, ""), "steps: item 1 of '' is empty: expected comma-separated non-empty values");
  EXPECT_EQ(error_of(steps, "search,filter,search"),
            "steps: 'search' is given more than once in 'search,filter,search': the items must be distinct");
}

TEST(CheckParameter, TimeZonesOfTheSystemDatabase) {
  const ParameterSpec tz{.name = "tz", .type = ParameterType::kTimeZone};
  for (const char* zone : {"UTC", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu", "Australia/Lord_Howe"}) {
    EXPECT_TRUE(check_parameter(tz, zone).ok()) << zone;
  }
  for (const char* bad : {"", "Mars/Olympus_Mons", "america/new_york", "../../etc/passwd", "UTC "}) {
    EXPECT_THAT(error_of(tz, bad), HasSubstr(std::string("tz: '") + bad + "' is not a time zone")) << bad;
  }
}

TEST(CheckParameter, EnumsAndStrings) {
  const ParameterSpec& g = *endpoint_spec(Endpoint::kFeatureUsageTimeline).parameter("granularity");
  EXPECT_TRUE(check_parameter(g, "week").ok());
  EXPECT_EQ(error_of(g, "year"), "granularity: expected one of hour, day, week, month, got 'year'");
  EXPECT_TRUE(check_parameter(ParameterSpec{.name = "feature_id"}, "").ok());
}

// ---- render_clickhouse_sql ----

TEST(RenderClickHouseSql, AbsentParametersAreNullAndGivenOnesTypedLiterals) {
  absl::StatusOr<std::string> sql = render_clickhouse_sql(
      endpoint_spec(Endpoint::kFeatureUsageSummary),
      {{"feature_id", "it's \\ \n"}, {"start_date", "2025-01-01"}, {"limit", "10"}, {"utm_source", "ignored"}});
  ASSERT_TRUE(sql.ok()) << sql.status();
  EXPECT_EQ(sql->find('{'), std::string::npos) << *sql;
  EXPECT_THAT(*sql, HasSubstr("(CAST('it\\'s \\\\ \\x0A', 'Nullable(String)') IS NULL OR feature_id = "
                              "CAST('it\\'s \\\\ \\x0A', 'Nullable(String)'))"));
  EXPECT_THAT(*sql, HasSubstr("CAST(NULL, 'Nullable(String)') IS NULL OR product_version"));
  EXPECT_THAT(*sql, HasSubstr("timestamp >= CAST('2025-01-01 00:00:00', 'Nullable(DateTime(\\'UTC\\'))')"));
  EXPECT_THAT(*sql, HasSubstr("LIMIT ifNull(CAST(NULL, 'Nullable(UInt64)'), 0), ifNull(CAST(10, "
                              "'Nullable(UInt64)'), 18446744073709551615)"));
  EXPECT_THAT(*sql, ::testing::Not(HasSubstr("utm_source")));
}

TEST(RenderClickHouseSql, RejectsWhatTheEndpointRejects) {
  absl::StatusOr<std::string> sql =
      render_clickhouse_sql(endpoint_spec(Endpoint::kFeatureUsageTimeline), {{"granularity", "year"}});
  ASSERT_FALSE(sql.ok());
  EXPECT_EQ(sql.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(sql.status().message(), HasSubstr("granularity: expected one of"));
}

TEST(ClickHouseStringLiteral, EscapesQuotesBackslashesAndControlBytes) {
  EXPECT_EQ(clickhouse_string_literal(""), "''");
  EXPECT_EQ(clickhouse_string_literal("a'b\\c"), "'a\\'b\\\\c'");
  EXPECT_EQ(clickhouse_string_literal(std::string("\0\x1f\x7f\xc3\xa9", 5)), "'\\x00\\x1F\\x7F\xc3\xa9'");
}

// ---- format_float64: ClickHouse's (and JavaScript's) shortest form ----

TEST(FormatFloat64, PrintsAsClickHouseDoes) {
  // Each expected text is what chDB 26.7 prints for the value in JSON.
  const std::pair<double, const char*> cases[] = {
      {1.0 / 3, "0.3333333333333333"},
      {2.0 / 7, "0.2857142857142857"},
      {0.5, "0.5"},
      {1, "1"},
      {0, "0"},
      {0.1, "0.1"},
      {0.000001, "0.000001"},
      {1e-7, "1e-7"},
      {1.5e-7, "1.5e-7"},
      {123.456, "123.456"},
      {1e21, "1e21"},
      {1.5e21, "1.5e21"},
      {999999999999999900000.0, "999999999999999900000"},
      {5e-324, "5e-324"},
      {1.7976931348623157e308, "1.7976931348623157e308"},
      {0.4154002026342452, "0.4154002026342452"},
      {100, "100"},
      {1234567, "1234567"},
      {0.00001234, "0.00001234"},
      {9007199254740992.0, "9007199254740992"},
      {1e20, "100000000000000000000"},
      {0.30000000000000004, "0.30000000000000004"},
      {-0.25, "-0.25"},
  };
  for (const auto& [value, text] : cases) EXPECT_EQ(format_float64(value), text) << text;
  EXPECT_EQ(format_float64(std::numeric_limits<double>::infinity()), "inf");
  EXPECT_EQ(format_float64(std::numeric_limits<double>::quiet_NaN()), "nan");
}

TEST(FormatFloat64, ReadsBackAsTheSameDouble) {
  uint64_t x = 0x9E3779B97F4A7C15u;
  for (int i = 0; i < 20000; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    double d;
    std::memcpy(&d, &x, sizeof d);
    if (!std::isfinite(d)) continue;
    const std::string text = format_float64(d);
    EXPECT_EQ(std::strtod(text.c_str(), nullptr), d) << text;
  }
}

}  // namespace
}  // namespace usagedb::api
