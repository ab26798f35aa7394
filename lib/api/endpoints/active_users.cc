// SPEC 2.6: active_users.
#include "lib/api/endpoints/endpoint_specs.h"

namespace usagedb::api::internal {
namespace {

constexpr ParameterSpec kParameters[] = {
    {.name = "window_days",
     .type = ParameterType::kUInt64,
     .default_value = "1",
     .description = "Days per window: a user counts on day d when active on any of the window_days days up to d "
                    "(1: daily, 7: weekly, 28 or 30: monthly active users).",
     .min = 1,
     .max = 365},
    kFeatureIdParam,
    kProductVersionParam,
    kEventTypeParam,
    {.name = "start_date",
     .type = ParameterType::kDate,
     .description = "The first day of the series (YYYY-MM-DD, a date in tz; inclusive). Default: the first day "
                    "with a matching event. Earlier events count toward the windows of the first days."},
    {.name = "end_date",
     .type = ParameterType::kDate,
     .description = "The day after the series (YYYY-MM-DD, a date in tz; exclusive). Default: the day after the "
                    "last day with a matching event."},
    {.name = "tz",
     .type = ParameterType::kTimeZone,
     .default_value = "UTC",
     .description = "The time zone whose calendar days are the days: an IANA name such as America/New_York or "
                    "Asia/Kolkata (SPEC 2.11)."},
    kLimitParam,
    kSkipParam,
};

constexpr ColumnSpec kColumns[] = {
    {"day", ColumnType::kDate},
    {"active_users", ColumnType::kUInt64},
};

// S and E are the dates given or the first and last matching days (+1);
// with no matching event and a date missing, S = E: no rows (WITH FILL
// needs FROM <= TO). Each event's (day, user) is spread over the window_days
// days whose windows hold it, then counted per day; WITH FILL adds the days
// with nobody, before LIMIT. A day is toDate(timestamp, tz): a calendar
// date in the zone (SPEC 2.11).
constexpr std::string_view kSql = R"sql(WITH ifNull({window_days:Nullable(UInt64)}, 1) AS window_days,
     ifNull({tz:Nullable(String)}, 'UTC') AS tz,
     (SELECT (minOrNull(toDate(timestamp, tz)), maxOrNull(toDate(timestamp, tz))) FROM feature_events
      WHERE ({feature_id:Nullable(String)} IS NULL OR feature_id = {feature_id:Nullable(String)})
        AND ({product_version:Nullable(String)} IS NULL OR product_version = {product_version:Nullable(String)})
        AND ({event_type:Nullable(String)} IS NULL OR event_type = {event_type:Nullable(String)})) AS bounds,
     ifNull({start_date:Nullable(Date)}, bounds.1) AS given_start,
     ifNull({end_date:Nullable(Date)}, bounds.2 + 1) AS given_end,
     coalesce(given_start, given_end, toDate(0)) AS first_day,
     greatest(first_day, coalesce(given_end, first_day)) AS end_day
SELECT day, uniqExact(user_id) AS active_users
FROM (SELECT toDate(timestamp, tz) AS d0, user_id FROM feature_events
      WHERE ({feature_id:Nullable(String)} IS NULL OR feature_id = {feature_id:Nullable(String)})
        AND ({product_version:Nullable(String)} IS NULL OR product_version = {product_version:Nullable(String)})
        AND ({event_type:Nullable(String)} IS NULL OR event_type = {event_type:Nullable(String)})
        AND toDate(timestamp, tz) + (window_days - 1) >= first_day AND toDate(timestamp, tz) < end_day
      GROUP BY d0, user_id)
ARRAY JOIN arrayMap(i -> d0 + i, range(window_days)) AS day
WHERE day >= first_day AND day < end_day
GROUP BY day
ORDER BY day ASC WITH FILL FROM first_day TO end_day
LIMIT ifNull({skip:Nullable(UInt64)}, 0), ifNull({limit:Nullable(UInt64)}, 18446744073709551615)
)sql";

}  // namespace

const EndpointSpec kActiveUsersSpec{
    .endpoint = Endpoint::kActiveUsers,
    .name = "active_users",
    .description = "How many users were active each day, or in the window_days days up to it (DAU, WAU, MAU)?",
    .parameters = kParameters,
    .columns = kColumns,
    .clickhouse_sql = kSql,
};

}  // namespace usagedb::api::internal
