// SPEC 2.5: feature_adoption.
#include "lib/api/endpoints/endpoint_specs.h"

namespace usagedb::api::internal {
namespace {

constexpr ParameterSpec kParameters[] = {
    {.name = "feature_id",
     .type = ParameterType::kString,
     .description = "Only the row of this feature_id (the active users still count every feature)."},
    kProductVersionParam,
    kEventTypeParam,
    kStartDateParam,
    kEndDateParam,
    kLimitParam,
    kSkipParam,
};

constexpr ColumnSpec kColumns[] = {
    {"feature_id", ColumnType::kString},     {"users", ColumnType::kUInt64}, {"active_users", ColumnType::kUInt64},
    {"adoption_rate", ColumnType::kFloat64}, {"events", ColumnType::kUInt64},
};

// The scalar subquery counts the active users: every filter but feature_id.
constexpr std::string_view kSql = R"sql(SELECT feature_id, uniqExact(user_id) AS users,
       (SELECT uniqExact(user_id) FROM feature_events
        WHERE ({product_version:Nullable(String)} IS NULL OR product_version = {product_version:Nullable(String)})
          AND ({event_type:Nullable(String)} IS NULL OR event_type = {event_type:Nullable(String)})
          AND ({start_date:Nullable(DateTime('UTC'))} IS NULL OR timestamp >= {start_date:Nullable(DateTime('UTC'))})
          AND ({end_date:Nullable(DateTime('UTC'))} IS NULL OR timestamp < {end_date:Nullable(DateTime('UTC'))})) AS active_users,
       users / active_users AS adoption_rate, count() AS events
FROM feature_events
WHERE ({product_version:Nullable(String)} IS NULL OR product_version = {product_version:Nullable(String)})
  AND ({event_type:Nullable(String)} IS NULL OR event_type = {event_type:Nullable(String)})
  AND ({start_date:Nullable(DateTime('UTC'))} IS NULL OR timestamp >= {start_date:Nullable(DateTime('UTC'))})
  AND ({end_date:Nullable(DateTime('UTC'))} IS NULL OR timestamp < {end_date:Nullable(DateTime('UTC'))})
  AND ({feature_id:Nullable(String)} IS NULL OR feature_id = {feature_id:Nullable(String)})
GROUP BY feature_id
ORDER BY users DESC, feature_id ASC
LIMIT ifNull({skip:Nullable(UInt64)}, 0), ifNull({limit:Nullable(UInt64)}, 18446744073709551615)
)sql";

}  // namespace

const EndpointSpec kFeatureAdoptionSpec{
    .endpoint = Endpoint::kFeatureAdoption,
    .name = "feature_adoption",
    .description = "What share of the active users used each feature?",
    .parameters = kParameters,
    .columns = kColumns,
    .clickhouse_sql = kSql,
};

}  // namespace usagedb::api::internal
