// SPEC 2.10: version_adoption.
#include "lib/api/endpoints/endpoint_specs.h"

namespace usagedb::api::internal {
namespace {

constexpr ParameterSpec kParameters[] = {
    {.name = "granularity",
     .type = ParameterType::kEnum,
     .default_value = "week",
     .description = "The length of a period: hour, day, week (starting on Monday) or month.",
     .choices = kGranularityChoices},
    kFeatureIdParam,
    kEventTypeParam,
    kStartDateParam,
    kEndDateParam,
    kTzParam,
    kLimitParam,
    kSkipParam,
};

constexpr ColumnSpec kColumns[] = {
    {"period", ColumnType::kDateTime},    {"product_version", ColumnType::kString},
    {"users", ColumnType::kUInt64},       {"active_users", ColumnType::kUInt64},
    {"share", ColumnType::kFloat64},      {"events", ColumnType::kUInt64},
};

// The period is SPEC 2.11's {bucket_tz}, a DateTime(tz); the time zone
// argument must be a constant, which ifNull of a query parameter is.
constexpr std::string_view kSql = R"sql(WITH ifNull({granularity:Nullable(String)}, 'week') AS granularity,
     ifNull({tz:Nullable(String)}, 'UTC') AS tz
SELECT v.period AS period, v.product_version AS product_version, v.users AS users,
       a.active_users AS active_users, v.users / a.active_users AS share, v.events AS events
FROM (SELECT multiIf(granularity = 'hour', toStartOfHour(timestamp, tz),
                     granularity = 'day', toStartOfDay(timestamp, tz),
                     granularity = 'week', toDateTime(toMonday(timestamp, tz), tz),
                     toDateTime(toStartOfMonth(timestamp, tz), tz)) AS period,
             product_version, uniqExact(user_id) AS users, count() AS events
      FROM feature_events
      WHERE ({feature_id:Nullable(String)} IS NULL OR feature_id = {feature_id:Nullable(String)})
        AND ({event_type:Nullable(String)} IS NULL OR event_type = {event_type:Nullable(String)})
        AND ({start_date:Nullable(DateTime('UTC'))} IS NULL OR timestamp >= {start_date:Nullable(DateTime('UTC'))})
        AND ({end_date:Nullable(DateTime('UTC'))} IS NULL OR timestamp < {end_date:Nullable(DateTime('UTC'))})
      GROUP BY period, product_version) AS v
INNER JOIN (SELECT multiIf(granularity = 'hour', toStartOfHour(timestamp, tz),
                           granularity = 'day', toStartOfDay(timestamp, tz),
                           granularity = 'week', toDateTime(toMonday(timestamp, tz), tz),
                           toDateTime(toStartOfMonth(timestamp, tz), tz)) AS period,
                   uniqExact(user_id) AS active_users
            FROM feature_events
            WHERE ({feature_id:Nullable(String)} IS NULL OR feature_id = {feature_id:Nullable(String)})
              AND ({event_type:Nullable(String)} IS NULL OR event_type = {event_type:Nullable(String)})
              AND ({start_date:Nullable(DateTime('UTC'))} IS NULL OR timestamp >= {start_date:Nullable(DateTime('UTC'))})
              AND ({end_date:Nullable(DateTime('UTC'))} IS NULL OR timestamp < {end_date:Nullable(DateTime('UTC'))})
            GROUP BY period) AS a USING period
ORDER BY period ASC, users DESC, product_version ASC
LIMIT ifNull({skip:Nullable(UInt64)}, 0), ifNull({limit:Nullable(UInt64)}, 18446744073709551615)
)sql";

}  // namespace

const EndpointSpec kVersionAdoptionSpec{
    .endpoint = Endpoint::kVersionAdoption,
    .name = "version_adoption",
    .description = "How fast does each release roll out: per period, the share of active users on each version?",
    .parameters = kParameters,
    .columns = kColumns,
    .clickhouse_sql = kSql,
};

}  // namespace usagedb::api::internal
