// SPEC 2.8: feature_funnel.
#include "lib/api/endpoints/endpoint_specs.h"

namespace usagedb::api::internal {
namespace {

constexpr ParameterSpec kParameters[] = {
    {.name = "steps",
     .type = ParameterType::kStringList,
     .required = true,
     .description = "The funnel: 2 to 8 distinct feature_ids, comma-separated, in order (search,filter,export).",
     .min = 2,
     .max = 8},
    {.name = "window",
     .type = ParameterType::kUInt64,
     .default_value = "86400",
     .description = "Seconds allowed from a user's first step to the last (1 to 31536000).",
     .min = 1,
     .max = 31536000},
    kProductVersionParam,
    kEventTypeParam,
    kStartDateParam,
    kEndDateParam,
    kLimitParam,
    kSkipParam,
};

constexpr ColumnSpec kColumns[] = {
    {"step", ColumnType::kUInt64},
    {"feature_id", ColumnType::kString},
    {"users", ColumnType::kUInt64},
};

// windowFunnel takes its conditions as arguments: always eight, those past
// the last step comparing with steps[k] = '' (out of range), which no
// feature_id equals (SPEC 1: never empty), so they never match.
constexpr std::string_view kSql = R"sql(WITH {steps:Array(String)} AS steps,
     ifNull({window:Nullable(UInt64)}, 86400) AS funnel_window,
     levels AS (
       SELECT user_id,
              windowFunnel(funnel_window)(timestamp, feature_id = steps[1], feature_id = steps[2],
                                          feature_id = steps[3], feature_id = steps[4], feature_id = steps[5],
                                          feature_id = steps[6], feature_id = steps[7], feature_id = steps[8]) AS level
       FROM feature_events
       WHERE ({product_version:Nullable(String)} IS NULL OR product_version = {product_version:Nullable(String)})
         AND ({event_type:Nullable(String)} IS NULL OR event_type = {event_type:Nullable(String)})
         AND ({start_date:Nullable(DateTime('UTC'))} IS NULL OR timestamp >= {start_date:Nullable(DateTime('UTC'))})
         AND ({end_date:Nullable(DateTime('UTC'))} IS NULL OR timestamp < {end_date:Nullable(DateTime('UTC'))})
       GROUP BY user_id)
SELECT step, steps[step] AS feature_id, countIf(level >= step) AS users
FROM levels ARRAY JOIN range(1, length(steps) + 1) AS step
GROUP BY step
ORDER BY step ASC
LIMIT ifNull({skip:Nullable(UInt64)}, 0), ifNull({limit:Nullable(UInt64)}, 18446744073709551615)
)sql";

}  // namespace

const EndpointSpec kFeatureFunnelSpec{
    .endpoint = Endpoint::kFeatureFunnel,
    .name = "feature_funnel",
    .description = "How many users go through these features in order, within the window?",
    .parameters = kParameters,
    .columns = kColumns,
    .clickhouse_sql = kSql,
};

}  // namespace usagedb::api::internal
