// Textual parameters to typed requests: every rule of SPEC 2 and 2.4, and
// the exact error messages a CLI or HTTP user sees.
#include "lib/api/endpoint_request.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testutil/helpers.h"

namespace usagedb::api {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

using ::usagedb::testing::at;

// The error message of a request that must fail, checking its code.
std::string error_of(Endpoint e, const Params& params, UnknownParameters unknown = UnknownParameters::kReject) {
  absl::StatusOr<EndpointRequest> r = parse_request(e, params, unknown);
  EXPECT_FALSE(r.ok()) << "expected an error for the parameters given";
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  return std::string(r.status().message());
}

template <typename Query>
Query parse_ok(Endpoint e, const Params& params, UnknownParameters unknown = UnknownParameters::kReject) {
  absl::StatusOr<EndpointRequest> r = parse_request(e, params, unknown);
  EXPECT_TRUE(r.ok()) << r.status();
  if (!r.ok()) return Query{};
  EXPECT_EQ(r->endpoint, e);
  EXPECT_TRUE(std::holds_alternative<Query>(r->query));
  if (!std::holds_alternative<Query>(r->query)) return Query{};
  return std::get<Query>(r->query);
}

TEST(ParseEndpoint, AcceptsEachNameAndRoundTrips) {
  for (const Endpoint e : {Endpoint::kUserFeatureUsage, Endpoint::kFeatureUsageSummary, Endpoint::kFeatureUsageTimeline,
                           Endpoint::kFeatureAdoption, Endpoint::kActiveUsers, Endpoint::kFeatureRetention,
                           Endpoint::kFeatureFunnel, Endpoint::kPropertyBreakdown, Endpoint::kVersionAdoption}) {
    absl::StatusOr<Endpoint> parsed = parse_endpoint(endpoint_name(e));
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, e);
  }
  EXPECT_EQ(endpoint_name(Endpoint::kUserFeatureUsage), "user_feature_usage");
  EXPECT_EQ(endpoint_name(Endpoint::kFeatureUsageSummary), "feature_usage_summary");
  EXPECT_EQ(endpoint_name(Endpoint::kFeatureUsageTimeline), "feature_usage_timeline");
  EXPECT_EQ(endpoint_name(Endpoint::kFeatureAdoption), "feature_adoption");
  EXPECT_EQ(endpoint_name(Endpoint::kActiveUsers), "active_users");
  EXPECT_EQ(endpoint_name(Endpoint::kFeatureRetention), "feature_retention");
  EXPECT_EQ(endpoint_name(Endpoint::kFeatureFunnel), "feature_funnel");
  EXPECT_EQ(endpoint_name(Endpoint::kPropertyBreakdown), "property_breakdown");
  EXPECT_EQ(endpoint_name(Endpoint::kVersionAdoption), "version_adoption");
}

TEST(ParseEndpoint, RejectsUnknownNamesListingTheKnownOnes) {
  for (const char* name : {"feature_usage", "", "User_Feature_Usage", "user_feature_usage.json", " user_feature_usage"}) {
    absl::StatusOr<Endpoint> parsed = parse_endpoint(name);
    ASSERT_FALSE(parsed.ok()) << name;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(std::string(parsed.status().message()),
              absl::StrCat("unknown endpoint '", name,
                           "': expected one of user_feature_usage, feature_usage_summary, feature_usage_timeline, "
                           "feature_adoption, active_users, feature_retention, feature_funnel, "
                           "property_breakdown, version_adoption"));
  }
}

TEST(ParameterNames, AreTheSpecsInSpecOrderThenLimitAndSkip) {
  EXPECT_THAT(parameter_names(Endpoint::kUserFeatureUsage),
              ElementsAre("user_id", "feature_id", "product_version", "limit", "skip"));
  EXPECT_THAT(parameter_names(Endpoint::kFeatureUsageSummary),
              ElementsAre("feature_id", "product_version", "event_type", "start_date", "end_date", "limit", "skip"));
  EXPECT_THAT(parameter_names(Endpoint::kFeatureUsageTimeline),
              ElementsAre("granularity", "feature_id", "product_version", "event_type", "start_date", "end_date",
                          "tz", "limit", "skip"));
  EXPECT_THAT(parameter_names(Endpoint::kPropertyBreakdown),
              ElementsAre("property", "feature_id", "product_version", "event_type", "start_date", "end_date",
                          "limit", "skip"));
  EXPECT_THAT(parameter_names(Endpoint::kFeatureAdoption),
              ElementsAre("feature_id", "product_version", "event_type", "start_date", "end_date", "limit", "skip"));
  EXPECT_THAT(parameter_names(Endpoint::kActiveUsers),
              ElementsAre("window_days", "feature_id", "product_version", "event_type", "start_date", "end_date",
                          "tz", "limit", "skip"));
  EXPECT_THAT(parameter_names(Endpoint::kFeatureRetention),
              ElementsAre("feature_id", "granularity", "product_version", "event_type", "start_date", "end_date",
                          "tz", "limit", "skip"));
  EXPECT_THAT(parameter_names(Endpoint::kFeatureFunnel),
              ElementsAre("steps", "window", "product_version", "event_type", "start_date", "end_date", "limit",
                          "skip"));
  EXPECT_THAT(parameter_names(Endpoint::kVersionAdoption),
              ElementsAre("granularity", "feature_id", "event_type", "start_date", "end_date", "tz", "limit",
                          "skip"));
}

TEST(ParseRequest, PropertyBreakdownTakesEveryParameter) {
  const auto q = parse_ok<PropertyBreakdownQuery>(
      Endpoint::kPropertyBreakdown,
      {{"property", "device"}, {"feature_id", "f"}, {"product_version", "1.0"}, {"event_type", "view"},
       {"start_date", "2025-01-01"}, {"end_date", "2025-02-01 12:00:00"}, {"limit", "3"}, {"skip", "1"}});
  EXPECT_EQ(q.property, "device");
  EXPECT_EQ(q.feature_id, "f");
  EXPECT_EQ(q.product_version, "1.0");
  EXPECT_EQ(q.event_type, "view");
  EXPECT_EQ(q.start_date, at("2025-01-01 00:00:00"));
  EXPECT_EQ(q.end_date, at("2025-02-01 12:00:00"));
  EXPECT_EQ(q.limit, 3u);
  EXPECT_EQ(q.skip, 1u);
  // Any bytes, the empty key included: the store judges its length.
  EXPECT_EQ(parse_ok<PropertyBreakdownQuery>(Endpoint::kPropertyBreakdown, {{"property", ""}}).property, "");
}

TEST(ParseRequest, PropertyIsRequired) {
  EXPECT_THAT(error_of(Endpoint::kPropertyBreakdown, {{"feature_id", "f"}}),
              HasSubstr("property: required: property_breakdown needs it ("));
  // Also where unknown parameters are ignored (HTTP).
  EXPECT_THAT(error_of(Endpoint::kPropertyBreakdown, {{"utm_source", "x"}}, UnknownParameters::kIgnore),
              HasSubstr("property: required"));
}

TEST(ParseRequest, VersionAdoptionTakesEveryParameterAndDefaultsToWeeks) {
  const auto q = parse_ok<VersionAdoptionQuery>(
      Endpoint::kVersionAdoption, {{"granularity", "month"}, {"feature_id", "f"}, {"event_type", "click"},
                                   {"start_date", "2025-01-01"}, {"end_date", "2025-03-01"},
                                   {"tz", "Asia/Kolkata"}, {"limit", "7"}, {"skip", "2"}});
  EXPECT_EQ(q.granularity, Granularity::kMonth);
  EXPECT_EQ(q.feature_id, "f");
  EXPECT_EQ(q.event_type, "click");
  EXPECT_EQ(q.start_date, at("2025-01-01 00:00:00"));
  EXPECT_EQ(q.end_date, at("2025-03-01 00:00:00"));
  EXPECT_EQ(q.tz, "Asia/Kolkata");
  EXPECT_EQ(q.limit, 7u);
  EXPECT_EQ(q.skip, 2u);
  const auto defaults = parse_ok<VersionAdoptionQuery>(Endpoint::kVersionAdoption, {});
  EXPECT_EQ(defaults.granularity, Granularity::kWeek);
  EXPECT_FALSE(defaults.tz.has_value());
  EXPECT_THAT(error_of(Endpoint::kVersionAdoption, {{"product_version", "1.0"}}),
              HasSubstr("unknown parameter 'product_version'"));
}

TEST(ParseRequest, TzIsAZoneOfTheDatabase) {
  EXPECT_EQ(parse_ok<FeatureUsageTimelineQuery>(Endpoint::kFeatureUsageTimeline, {{"tz", "America/New_York"}}).tz,
            "America/New_York");
  EXPECT_EQ(error_of(Endpoint::kFeatureUsageTimeline, {{"tz", "Mars/Olympus"}}),
            "tz: 'Mars/Olympus' is not a time zone of the system's tz database (expected an IANA name such as UTC, "
            "America/New_York or Asia/Kolkata)");
  EXPECT_THAT(error_of(Endpoint::kVersionAdoption, {{"tz", ""}}), HasSubstr("tz: '' is not a time zone"));
  EXPECT_THAT(error_of(Endpoint::kVersionAdoption, {{"tz", "../../etc/passwd"}}), HasSubstr("tz: "));
  // active_users and feature_retention take it too (SPEC 2.11).
  EXPECT_EQ(parse_ok<ActiveUsersQuery>(Endpoint::kActiveUsers, {{"tz", "Asia/Kolkata"}}).tz, "Asia/Kolkata");
  EXPECT_EQ(parse_ok<FeatureRetentionQuery>(Endpoint::kFeatureRetention, {{"tz", "America/New_York"}}).tz,
            "America/New_York");
  EXPECT_THAT(error_of(Endpoint::kActiveUsers, {{"tz", "Mars/Olympus"}}), HasSubstr("tz: 'Mars/Olympus'"));
  EXPECT_THAT(error_of(Endpoint::kFeatureRetention, {{"tz", "Mars/Olympus"}}), HasSubstr("tz: 'Mars/Olympus'"));
}

TEST(ParseRequest, UserFeatureUsageTakesEveryParameter) {
  const auto q = parse_ok<UserFeatureUsageQuery>(
      Endpoint::kUserFeatureUsage,
      {{"user_id", "user_615"}, {"feature_id", "feature_16"}, {"product_version", "1.5.5"}, {"limit", "10"},
       {"skip", "20"}});
  EXPECT_EQ(q.user_id, "user_615");
  EXPECT_EQ(q.feature_id, "feature_16");
  EXPECT_EQ(q.product_version, "1.5.5");
  EXPECT_EQ(q.limit, 10u);
  EXPECT_EQ(q.skip, 20u);
}

TEST(ParseRequest, AbsentParametersStayAbsent) {
  const auto u = parse_ok<UserFeatureUsageQuery>(Endpoint::kUserFeatureUsage, {});
  EXPECT_FALSE(u.user_id.has_value());
  EXPECT_FALSE(u.feature_id.has_value());
  EXPECT_FALSE(u.product_version.has_value());
  EXPECT_FALSE(u.limit.has_value());
  EXPECT_FALSE(u.skip.has_value());
  const auto s = parse_ok<FeatureUsageSummaryQuery>(Endpoint::kFeatureUsageSummary, {});
  EXPECT_FALSE(s.feature_id || s.product_version || s.event_type || s.start_date || s.end_date || s.limit || s.skip);
  const auto t = parse_ok<FeatureUsageTimelineQuery>(Endpoint::kFeatureUsageTimeline, {});
  EXPECT_EQ(t.granularity, Granularity::kDay);  // SPEC 2.3's default
  EXPECT_FALSE(t.feature_id || t.product_version || t.event_type || t.start_date || t.end_date || t.limit || t.skip);
}

TEST(ParseRequest, FeatureUsageSummaryTakesEveryParameter) {
  const auto q = parse_ok<FeatureUsageSummaryQuery>(
      Endpoint::kFeatureUsageSummary,
      {{"skip", "1"}, {"feature_id", "f"}, {"product_version", "2.0"}, {"event_type", "click"},
       {"start_date", "2025-01-01"}, {"end_date", "2025-02-01 12:30:00"}, {"limit", "0"}});
  EXPECT_EQ(q.feature_id, "f");
  EXPECT_EQ(q.product_version, "2.0");
  EXPECT_EQ(q.event_type, "click");
  EXPECT_EQ(q.start_date, at("2025-01-01 00:00:00"));
  EXPECT_EQ(q.end_date, at("2025-02-01 12:30:00"));
  EXPECT_EQ(q.limit, 0u);
  EXPECT_EQ(q.skip, 1u);
}

TEST(ParseRequest, FeatureUsageTimelineTakesEveryParameter) {
  const auto q = parse_ok<FeatureUsageTimelineQuery>(
      Endpoint::kFeatureUsageTimeline,
      {{"granularity", "week"}, {"feature_id", "f"}, {"product_version", "2.0"}, {"event_type", "view"},
       {"start_date", "2025-01-01 00:00:01"}, {"end_date", "2025-03-01"}, {"limit", "5"}, {"skip", "2"}});
  EXPECT_EQ(q.granularity, Granularity::kWeek);
  EXPECT_EQ(q.feature_id, "f");
  EXPECT_EQ(q.product_version, "2.0");
  EXPECT_EQ(q.event_type, "view");
  EXPECT_EQ(q.start_date, at("2025-01-01 00:00:01"));
  EXPECT_EQ(q.end_date, at("2025-03-01 00:00:00"));
  EXPECT_EQ(q.limit, 5u);
  EXPECT_EQ(q.skip, 2u);
}

TEST(ParseRequest, FeatureAdoptionTakesEveryParameter) {
  const auto q = parse_ok<FeatureAdoptionQuery>(
      Endpoint::kFeatureAdoption,
      {{"feature_id", "f"}, {"product_version", "2.0"}, {"event_type", "click"}, {"start_date", "2025-01-01"},
       {"end_date", "2025-02-01 12:30:00"}, {"limit", "3"}, {"skip", "1"}});
  EXPECT_EQ(q.feature_id, "f");
  EXPECT_EQ(q.product_version, "2.0");
  EXPECT_EQ(q.event_type, "click");
  EXPECT_EQ(q.start_date, at("2025-01-01 00:00:00"));
  EXPECT_EQ(q.end_date, at("2025-02-01 12:30:00"));
  EXPECT_EQ(q.limit, 3u);
  EXPECT_EQ(q.skip, 1u);
  const auto none = parse_ok<FeatureAdoptionQuery>(Endpoint::kFeatureAdoption, {});
  EXPECT_FALSE(none.feature_id || none.product_version || none.event_type || none.start_date || none.end_date ||
               none.limit || none.skip);
}

TEST(ParseRequest, ActiveUsersTakesDatesAndAWindowOfDays) {
  const auto q = parse_ok<ActiveUsersQuery>(
      Endpoint::kActiveUsers,
      {{"window_days", "28"}, {"feature_id", "f"}, {"product_version", "2.0"}, {"event_type", "view"},
       {"start_date", "2025-01-01"}, {"end_date", "2025-03-01 00:00:00"}, {"limit", "5"}, {"skip", "2"}});
  EXPECT_EQ(q.window_days, 28u);
  EXPECT_EQ(q.feature_id, "f");
  EXPECT_EQ(q.product_version, "2.0");
  EXPECT_EQ(q.event_type, "view");
  EXPECT_EQ(q.start_date, std::chrono::sys_days{std::chrono::year{2025} / 1 / 1});
  EXPECT_EQ(q.end_date, std::chrono::sys_days{std::chrono::year{2025} / 3 / 1});
  EXPECT_EQ(q.limit, 5u);
  EXPECT_EQ(q.skip, 2u);
  const auto none = parse_ok<ActiveUsersQuery>(Endpoint::kActiveUsers, {});
  EXPECT_EQ(none.window_days, 1u);  // SPEC 2.6's default: daily active users
  EXPECT_FALSE(none.start_date || none.end_date);
  EXPECT_EQ(error_of(Endpoint::kActiveUsers, {{"window_days", "0"}}),
            "window_days: expected an integer from 1 to 365, got '0'");
  EXPECT_EQ(error_of(Endpoint::kActiveUsers, {{"window_days", "366"}}),
            "window_days: expected an integer from 1 to 365, got '366'");
  EXPECT_THAT(error_of(Endpoint::kActiveUsers, {{"start_date", "2025-01-01 12:00:00"}}),
              HasSubstr("start_date: '2025-01-01 12:00:00' is not a date"));
  EXPECT_THAT(error_of(Endpoint::kActiveUsers, {{"end_date", "2025-01-01"}, {"start_date", "2025-01-02"}}),
              HasSubstr("end_date: '2025-01-01' is before start_date '2025-01-02'"));
}

TEST(ParseRequest, FeatureRetentionTakesEveryParameter) {
  const auto q = parse_ok<FeatureRetentionQuery>(
      Endpoint::kFeatureRetention,
      {{"feature_id", "f"}, {"granularity", "month"}, {"product_version", "2.0"}, {"event_type", "view"},
       {"start_date", "2025-01-01 00:00:01"}, {"end_date", "2025-03-01"}, {"limit", "5"}, {"skip", "2"}});
  EXPECT_EQ(q.feature_id, "f");
  EXPECT_EQ(q.granularity, Granularity::kMonth);
  EXPECT_EQ(q.product_version, "2.0");
  EXPECT_EQ(q.event_type, "view");
  EXPECT_EQ(q.start_date, at("2025-01-01 00:00:01"));
  EXPECT_EQ(q.end_date, at("2025-03-01 00:00:00"));
  EXPECT_EQ(q.limit, 5u);
  EXPECT_EQ(q.skip, 2u);
  EXPECT_EQ(parse_ok<FeatureRetentionQuery>(Endpoint::kFeatureRetention, {}).granularity, Granularity::kWeek);
  EXPECT_EQ(parse_ok<FeatureRetentionQuery>(Endpoint::kFeatureRetention, {{"granularity", "day"}}).granularity,
            Granularity::kDay);
  EXPECT_EQ(error_of(Endpoint::kFeatureRetention, {{"granularity", "hour"}}),
            "granularity: expected one of day, week, month, got 'hour'");
}

TEST(ParseRequest, FeatureFunnelTakesStepsAndAWindow) {
  const auto q = parse_ok<FeatureFunnelQuery>(
      Endpoint::kFeatureFunnel,
      {{"steps", "search,filter,export"}, {"window", "3600"}, {"product_version", "2.0"}, {"event_type", "click"},
       {"start_date", "2025-01-01"}, {"end_date", "2025-02-01"}, {"limit", "2"}, {"skip", "1"}});
  EXPECT_THAT(q.steps, ElementsAre("search", "filter", "export"));
  EXPECT_EQ(q.window, std::chrono::seconds(3600));
  EXPECT_EQ(q.product_version, "2.0");
  EXPECT_EQ(q.event_type, "click");
  EXPECT_EQ(q.start_date, at("2025-01-01 00:00:00"));
  EXPECT_EQ(q.end_date, at("2025-02-01 00:00:00"));
  EXPECT_EQ(q.limit, 2u);
  EXPECT_EQ(q.skip, 1u);
  EXPECT_EQ(parse_ok<FeatureFunnelQuery>(Endpoint::kFeatureFunnel, {{"steps", "a,b"}}).window,
            std::chrono::seconds(86400));
  EXPECT_THAT(error_of(Endpoint::kFeatureFunnel, {}), HasSubstr("steps: required"));
  EXPECT_THAT(error_of(Endpoint::kFeatureFunnel, {{"window", "60"}}), HasSubstr("steps: required"));
  EXPECT_EQ(error_of(Endpoint::kFeatureFunnel, {{"steps", "a"}}),
            "steps: expected 2 to 8 comma-separated values, got 1 in 'a'");
  EXPECT_EQ(error_of(Endpoint::kFeatureFunnel, {{"steps", "a,b,a"}}),
            "steps: 'a' is given more than once in 'a,b,a': the items must be distinct");
  EXPECT_EQ(error_of(Endpoint::kFeatureFunnel, {{"steps", "a,,b"}}),
            "steps: item 2 of 'a,,b' is empty: expected comma-separated non-empty values");
  EXPECT_EQ(error_of(Endpoint::kFeatureFunnel, {{"steps", "a,b,c,d,e,f,g,h,i"}}),
            "steps: expected 2 to 8 comma-separated values, got 9 in 'a,b,c,d,e,f,g,h,i'");
  EXPECT_EQ(error_of(Endpoint::kFeatureFunnel, {{"steps", "a,b"}, {"window", "0"}}),
            "window: expected an integer from 1 to 31536000, got '0'");
  EXPECT_EQ(error_of(Endpoint::kFeatureFunnel, {{"steps", "a,b"}, {"window", "31536001"}}),
            "window: expected an integer from 1 to 31536000, got '31536001'");
}

TEST(ParseRequest, EachGranularityName) {
  const std::pair<const char*, Granularity> cases[] = {
      {"hour", Granularity::kHour}, {"day", Granularity::kDay}, {"week", Granularity::kWeek},
      {"month", Granularity::kMonth}};
  for (const auto& [name, g] : cases) {
    EXPECT_EQ(parse_ok<FeatureUsageTimelineQuery>(Endpoint::kFeatureUsageTimeline, {{"granularity", name}}).granularity,
              g)
        << name;
  }
}

TEST(ParseRequest, RejectsAnUnknownGranularity) {
  EXPECT_EQ(error_of(Endpoint::kFeatureUsageTimeline, {{"granularity", "minute"}}),
            "granularity: expected one of hour, day, week, month, got 'minute'");
  for (const char* bad : {"", "Day", "DAY", " day", "days"}) {
    EXPECT_EQ(error_of(Endpoint::kFeatureUsageTimeline, {{"granularity", bad}}),
              absl::StrCat("granularity: expected one of hour, day, week, month, got '", bad, "'"));
  }
}

TEST(ParseRequest, AnEmptyValueFiltersOnTheEmptyString) {
  const auto u = parse_ok<UserFeatureUsageQuery>(Endpoint::kUserFeatureUsage,
                                                 {{"user_id", ""}, {"feature_id", ""}, {"product_version", ""}});
  EXPECT_EQ(u.user_id, std::optional<std::string>(""));
  EXPECT_EQ(u.feature_id, std::optional<std::string>(""));
  EXPECT_EQ(u.product_version, std::optional<std::string>(""));
  const auto s = parse_ok<FeatureUsageSummaryQuery>(Endpoint::kFeatureUsageSummary, {{"event_type", ""}});
  EXPECT_EQ(s.event_type, std::optional<std::string>(""));
}

TEST(ParseRequest, StringValuesAreKeptByteForByte) {
  const std::string odd = "a,b \"c\"\n\t\xE6\xA9\x9F\xE8\x83\xBD =&%20";
  const auto u = parse_ok<UserFeatureUsageQuery>(Endpoint::kUserFeatureUsage, {{"user_id", odd}});
  EXPECT_EQ(u.user_id, odd);
}

TEST(ParseRequest, LimitAndSkipTakeTheWholeUint64Range) {
  const auto q = parse_ok<UserFeatureUsageQuery>(Endpoint::kUserFeatureUsage,
                                                 {{"limit", "18446744073709551615"}, {"skip", "007"}});
  EXPECT_EQ(q.limit, UINT64_MAX);
  EXPECT_EQ(q.skip, 7u);
}

TEST(ParseRequest, RejectsLimitAndSkipThatAreNotPlainDecimals) {
  EXPECT_EQ(error_of(Endpoint::kUserFeatureUsage, {{"limit", "-1"}}),
            "limit: expected a non-negative integer, got '-1'");
  for (const char* name : {"limit", "skip"}) {
    for (const char* bad : {"", "+1", " 1", "1 ", "1.5", "1e3", "0x10", "ten", "1_000", "١"}) {
      EXPECT_EQ(error_of(Endpoint::kFeatureUsageSummary, {{name, bad}}),
                absl::StrCat(name, ": expected a non-negative integer, got '", bad, "'"));
    }
  }
}

TEST(ParseRequest, RejectsLimitAndSkipThatOverflow) {
  EXPECT_EQ(error_of(Endpoint::kUserFeatureUsage, {{"limit", "18446744073709551616"}}),
            "limit: '18446744073709551616' is too large: the maximum is 18446744073709551615");
  EXPECT_EQ(error_of(Endpoint::kFeatureUsageTimeline, {{"skip", "99999999999999999999999"}}),
            "skip: '99999999999999999999999' is too large: the maximum is 18446744073709551615");
}

TEST(ParseRequest, RejectsMalformedDatesNamingTheParameter) {
  EXPECT_THAT(error_of(Endpoint::kFeatureUsageSummary, {{"start_date", "2025-13-01"}}),
              HasSubstr("start_date: '2025-13-01' is not a valid"));
  for (const char* name : {"start_date", "end_date"}) {
    for (const char* bad : {"", "2025-02-29", "2025-01-01T00:00:00", "2025-01-01 24:00:00", "20250101", "yesterday",
                            "1969-12-31", "2106-01-01", "2025-01-01 00:00:00Z"}) {
      for (const Endpoint e : {Endpoint::kFeatureUsageSummary, Endpoint::kFeatureUsageTimeline}) {
        EXPECT_THAT(error_of(e, {{name, bad}}), HasSubstr(absl::StrCat(name, ": '", bad, "' is ")))
            << name << "=" << bad;
      }
    }
  }
}

TEST(ParseRequest, RejectsAnEndDateBeforeTheStartDate) {
  EXPECT_EQ(error_of(Endpoint::kFeatureUsageSummary, {{"start_date", "2025-02-01"}, {"end_date", "2025-01-31 23:59:59"}}),
            "end_date: '2025-01-31 23:59:59' is before start_date '2025-02-01' (start_date is inclusive, end_date "
            "exclusive)");
  // Given in the other order, the message is the same.
  EXPECT_THAT(error_of(Endpoint::kFeatureUsageTimeline, {{"end_date", "2025-01-01"}, {"start_date", "2025-01-02"}}),
              HasSubstr("end_date: '2025-01-01' is before start_date '2025-01-02'"));
}

TEST(ParseRequest, AcceptsAnEmptyWindowAndAnOrderedOne) {
  const auto same = parse_ok<FeatureUsageSummaryQuery>(
      Endpoint::kFeatureUsageSummary, {{"start_date", "2025-01-01"}, {"end_date", "2025-01-01 00:00:00"}});
  EXPECT_EQ(same.start_date, same.end_date);
  const auto ordered = parse_ok<FeatureUsageSummaryQuery>(Endpoint::kFeatureUsageSummary,
                                                          {{"start_date", "2025-01-01"}, {"end_date", "2025-01-02"}});
  EXPECT_LT(*ordered.start_date, *ordered.end_date);
}

TEST(ParseRequest, RejectsAnUnknownParameterListingTheAcceptedOnes) {
  EXPECT_EQ(error_of(Endpoint::kFeatureUsageSummary, {{"feature_id", "f"}, {"utm_source", "newsletter"}}),
            "unknown parameter 'utm_source' for feature_usage_summary: expected one of feature_id, "
            "product_version, event_type, start_date, end_date, limit, skip");
  // Another endpoint's parameter is unknown here.
  EXPECT_EQ(error_of(Endpoint::kUserFeatureUsage, {{"granularity", "day"}}),
            "unknown parameter 'granularity' for user_feature_usage: expected one of user_id, feature_id, "
            "product_version, limit, skip");
  EXPECT_THAT(error_of(Endpoint::kFeatureUsageSummary, {{"user_id", "u"}}),
              HasSubstr("unknown parameter 'user_id' for feature_usage_summary"));
  EXPECT_THAT(error_of(Endpoint::kFeatureUsageTimeline, {{"Feature_ID", "f"}}),
              HasSubstr("unknown parameter 'Feature_ID' for feature_usage_timeline: expected one of granularity, "));
  EXPECT_THAT(error_of(Endpoint::kFeatureUsageTimeline, {{"", "x"}}), HasSubstr("unknown parameter ''"));
  // Control bytes in a name are shown escaped, so the message stays one line.
  EXPECT_THAT(error_of(Endpoint::kFeatureUsageTimeline, {{"a\nb", "x"}}), HasSubstr("unknown parameter 'a\\x0ab'"));
}

TEST(ParseRequest, IgnoresUnknownParametersWhenAsked) {
  const auto q = parse_ok<FeatureUsageSummaryQuery>(
      Endpoint::kFeatureUsageSummary,
      {{"token", "p.abc"}, {"utm_source", "x"}, {"utm_source", "y"}, {"feature_id", "f"}, {"limit", "3"}},
      UnknownParameters::kIgnore);
  EXPECT_EQ(q.feature_id, "f");
  EXPECT_EQ(q.limit, 3u);
  // An unknown parameter's value is not looked at.
  parse_ok<UserFeatureUsageQuery>(Endpoint::kUserFeatureUsage, {{"start_date", "garbage"}}, UnknownParameters::kIgnore);
}

TEST(ParseRequest, RejectsAParameterGivenTwice) {
  EXPECT_EQ(error_of(Endpoint::kFeatureUsageSummary, {{"feature_id", "a"}, {"feature_id", "b"}}),
            "feature_id: given more than once; give each parameter at most once");
  // Even with the same value, and under kIgnore (a known parameter is not ignored).
  EXPECT_THAT(error_of(Endpoint::kUserFeatureUsage, {{"limit", "1"}, {"user_id", "u"}, {"limit", "1"}},
                       UnknownParameters::kIgnore),
              HasSubstr("limit: given more than once"));
  EXPECT_THAT(error_of(Endpoint::kFeatureUsageTimeline, {{"granularity", "day"}, {"granularity", "day"}}),
              HasSubstr("granularity: given more than once"));
}

TEST(ParseRequest, ReportsTheFirstErrorInTheOrderGiven) {
  EXPECT_THAT(error_of(Endpoint::kFeatureUsageSummary, {{"skip", "x"}, {"limit", "y"}}), HasSubstr("skip: "));
  EXPECT_THAT(error_of(Endpoint::kFeatureUsageSummary, {{"limit", "y"}, {"skip", "x"}}), HasSubstr("limit: "));
  EXPECT_THAT(error_of(Endpoint::kFeatureUsageSummary, {{"bogus", "1"}, {"limit", "y"}}),
              HasSubstr("unknown parameter 'bogus'"));
}

}  // namespace
}  // namespace usagedb::api
