// SPEC 2.7: feature_retention.
#include "lib/api/endpoints/endpoint_specs.h"

namespace usagedb::api::internal {
namespace {

constexpr std::string_view kRetentionGranularities[] = {"day", "week", "month"};

constexpr ParameterSpec kParameters[] = {
    {.name = "feature_id",
     .type = ParameterType::kString,
     .description = "Retention of this feature_id's users (absent: of the product, any feature)."},
    {.name = "granularity",
     .type = ParameterType::kEnum,
     .default_value = "week",
     .description = "The length of a period: day, week (starting on Monday) or month.",
     .choices = kRetentionGranularities},
    kProductVersionParam,
    kEventTypeParam,
    kStartDateParam,
    kEndDateParam,
    kTzParam,
    kLimitParam,
    kSkipParam,
};

constexpr ColumnSpec kColumns[] = {
    {"cohort", ColumnType::kDateTime},
    {"cohort_users", ColumnType::kUInt64},
    {"period_offset", ColumnType::kUInt64},
    {"users", ColumnType::kUInt64},
};

// The periods are SPEC 2.11's {bucket_tz}, DateTime(tz); dateDiff counts
// the local day, week (from Monday) or month boundaries between two of
// them, in that zone.
constexpr std::string_view kSql = R"sql(WITH ifNull({granularity:Nullable(String)}, 'week') AS granularity,
     ifNull({tz:Nullable(String)}, 'UTC') AS tz,
     acts AS (SELECT user_id,
                     multiIf(granularity = 'day', toStartOfDay(timestamp, tz),
                             granularity = 'week', toDateTime(toMonday(timestamp, tz), tz),
                             toDateTime(toStartOfMonth(timestamp, tz), tz)) AS period
              FROM feature_events
              WHERE ({feature_id:Nullable(String)} IS NULL OR feature_id = {feature_id:Nullable(String)})
                AND ({product_version:Nullable(String)} IS NULL OR product_version = {product_version:Nullable(String)})
                AND ({event_type:Nullable(String)} IS NULL OR event_type = {event_type:Nullable(String)})
                AND ({start_date:Nullable(DateTime('UTC'))} IS NULL OR timestamp >= {start_date:Nullable(DateTime('UTC'))})
                AND ({end_date:Nullable(DateTime('UTC'))} IS NULL OR timestamp < {end_date:Nullable(DateTime('UTC'))})
              GROUP BY user_id, period),
     firsts AS (SELECT user_id, min(period) AS cohort FROM acts GROUP BY user_id),
     sizes AS (SELECT cohort, count() AS cohort_users FROM firsts GROUP BY cohort)
SELECT cohort, any(cohort_users) AS cohort_users,
       toUInt64(dateDiff(multiIf(granularity = 'day', 'day', granularity = 'week', 'week', 'month'), cohort, period))
         AS period_offset,
       count() AS users
FROM acts INNER JOIN firsts USING user_id INNER JOIN sizes USING cohort
GROUP BY cohort, period_offset
ORDER BY cohort ASC, period_offset ASC
LIMIT ifNull({skip:Nullable(UInt64)}, 0), ifNull({limit:Nullable(UInt64)}, 18446744073709551615)
)sql";

}  // namespace

const EndpointSpec kFeatureRetentionSpec{
    .endpoint = Endpoint::kFeatureRetention,
    .name = "feature_retention",
    .description = "Of the users who first used the feature (or the product) in a period, how many came back "
                   "each period after?",
    .parameters = kParameters,
    .columns = kColumns,
    .clickhouse_sql = kSql,
};

}  // namespace usagedb::api::internal
