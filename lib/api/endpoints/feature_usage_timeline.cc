// SPEC 2.3: feature_usage_timeline.
#include "lib/api/endpoints/endpoint_specs.h"

namespace usagedb::api::internal {
namespace {

constexpr ParameterSpec kParameters[] = {
    {.name = "granularity",
     .type = ParameterType::kEnum,
     .default_value = "day",
     .description = "The length of a period: hour, day, week (starting on Monday) or month.",
     .choices = kGranularityChoices},
    kFeatureIdParam,
    kProductVersionParam,
    kEventTypeParam,
    kStartDateParam,
    kEndDateParam,
    kTzParam,
    kLimitParam,
    kSkipParam,
};

constexpr ColumnSpec kColumns[] = {
    {"period", ColumnType::kDateTime},
    {"feature_id", ColumnType::kString},
    {"events", ColumnType::kUInt64},
    {"unique_users", ColumnType::kUInt64},
};

// SPEC 2.11's {bucket_tz}, a DateTime(tz) (with tz = 'UTC', SPEC 2.3's
// toDateTime({bucket}(timestamp)) whatever the server's time zone); the time
// zone argument must be a constant, which ifNull of a query parameter is.
// toMonday never goes before 1970-01-01 (the Date range).
constexpr std::string_view kSql = R"sql(WITH ifNull({granularity:Nullable(String)}, 'day') AS granularity,
     ifNull({tz:Nullable(String)}, 'UTC') AS tz
SELECT multiIf(granularity = 'hour', toStartOfHour(timestamp, tz),
               granularity = 'day', toStartOfDay(timestamp, tz),
               granularity = 'week', toDateTime(toMonday(timestamp, tz), tz),
               toDateTime(toStartOfMonth(timestamp, tz), tz)) AS period,
       feature_id, count() AS events, uniqExact(user_id) AS unique_users
FROM feature_events
WHERE ({feature_id:Nullable(String)} IS NULL OR feature_id = {feature_id:Nullable(String)})
  AND ({product_version:Nullable(String)} IS NULL OR product_version = {product_version:Nullable(String)})
  AND ({event_type:Nullable(String)} IS NULL OR event_type = {event_type:Nullable(String)})
  AND ({start_date:Nullable(DateTime('UTC'))} IS NULL OR timestamp >= {start_date:Nullable(DateTime('UTC'))})
  AND ({end_date:Nullable(DateTime('UTC'))} IS NULL OR timestamp < {end_date:Nullable(DateTime('UTC'))})
GROUP BY period, feature_id
ORDER BY period ASC, feature_id ASC
LIMIT ifNull({skip:Nullable(UInt64)}, 0), ifNull({limit:Nullable(UInt64)}, 18446744073709551615)
)sql";

}  // namespace

const EndpointSpec kFeatureUsageTimelineSpec{
    .endpoint = Endpoint::kFeatureUsageTimeline,
    .name = "feature_usage_timeline",
    .description = "How does each feature's usage move over time: events and users per period?",
    .parameters = kParameters,
    .columns = kColumns,
    .clickhouse_sql = kSql,
};

}  // namespace usagedb::api::internal
