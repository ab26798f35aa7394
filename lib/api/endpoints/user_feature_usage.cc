// SPEC 2.1: user_feature_usage.
#include "lib/api/endpoints/endpoint_specs.h"

namespace usagedb::api::internal {
namespace {

constexpr ParameterSpec kParameters[] = {
    {.name = "user_id",
     .type = ParameterType::kString,
     .description = "The user whose usage to list. Without it the result is empty."},
    kFeatureIdParam,
    kProductVersionParam,
    kLimitParam,
    kSkipParam,
};

constexpr ColumnSpec kColumns[] = {
    {"user_id", ColumnType::kString},        {"feature_id", ColumnType::kString},
    {"product_version", ColumnType::kString}, {"usage_count", ColumnType::kUInt64},
    {"first_usage", ColumnType::kDateTime},   {"last_usage", ColumnType::kDateTime},
};

// `user_id = NULL` is never true: no user_id, no rows (the seed's `AND 0=1`).
constexpr std::string_view kSql = R"sql(SELECT user_id, feature_id, product_version, count() AS usage_count,
       min(timestamp) AS first_usage, max(timestamp) AS last_usage
FROM feature_events
WHERE user_id = {user_id:Nullable(String)}
  AND ({feature_id:Nullable(String)} IS NULL OR feature_id = {feature_id:Nullable(String)})
  AND ({product_version:Nullable(String)} IS NULL OR product_version = {product_version:Nullable(String)})
GROUP BY user_id, feature_id, product_version
ORDER BY usage_count DESC, feature_id ASC, product_version ASC
LIMIT ifNull({skip:Nullable(UInt64)}, 0), ifNull({limit:Nullable(UInt64)}, 18446744073709551615)
)sql";

}  // namespace

const EndpointSpec kUserFeatureUsageSpec{
    .endpoint = Endpoint::kUserFeatureUsage,
    .name = "user_feature_usage",
    .description = "Which features did this user use, in which versions, how often, first and last?",
    .parameters = kParameters,
    .columns = kColumns,
    .clickhouse_sql = kSql,
};

}  // namespace usagedb::api::internal
