// SPEC 2.2: feature_usage_summary.
#include "lib/api/endpoints/endpoint_specs.h"

namespace usagedb::api::internal {
namespace {

constexpr ParameterSpec kParameters[] = {
    kFeatureIdParam, kProductVersionParam, kEventTypeParam, kStartDateParam, kEndDateParam, kLimitParam, kSkipParam,
};

constexpr ColumnSpec kColumns[] = {
    {"feature_id", ColumnType::kString},      {"product_version", ColumnType::kString},
    {"total_events", ColumnType::kUInt64},    {"unique_users", ColumnType::kUInt64},
    {"unique_sessions", ColumnType::kUInt64}, {"first_seen", ColumnType::kDateTime},
    {"last_seen", ColumnType::kDateTime},
};

constexpr std::string_view kSql = R"sql(SELECT feature_id, product_version, count() AS total_events,
       uniqExact(user_id) AS unique_users, uniqExact(session_id) AS unique_sessions,
       min(timestamp) AS first_seen, max(timestamp) AS last_seen
FROM feature_events
WHERE ({feature_id:Nullable(String)} IS NULL OR feature_id = {feature_id:Nullable(String)})
  AND ({product_version:Nullable(String)} IS NULL OR product_version = {product_version:Nullable(String)})
  AND ({event_type:Nullable(String)} IS NULL OR event_type = {event_type:Nullable(String)})
  AND ({start_date:Nullable(DateTime('UTC'))} IS NULL OR timestamp >= {start_date:Nullable(DateTime('UTC'))})
  AND ({end_date:Nullable(DateTime('UTC'))} IS NULL OR timestamp < {end_date:Nullable(DateTime('UTC'))})
GROUP BY feature_id, product_version
ORDER BY total_events DESC, feature_id ASC, product_version ASC
LIMIT ifNull({skip:Nullable(UInt64)}, 0), ifNull({limit:Nullable(UInt64)}, 18446744073709551615)
)sql";

}  // namespace

const EndpointSpec kFeatureUsageSummarySpec{
    .endpoint = Endpoint::kFeatureUsageSummary,
    .name = "feature_usage_summary",
    .description = "How is each feature used in each product version: events, users, sessions, first and last?",
    .parameters = kParameters,
    .columns = kColumns,
    .clickhouse_sql = kSql,
};

}  // namespace usagedb::api::internal
