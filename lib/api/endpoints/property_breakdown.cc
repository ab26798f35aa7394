// SPEC 2.9: property_breakdown.
#include "lib/api/endpoints/endpoint_specs.h"

namespace usagedb::api::internal {
namespace {

constexpr ParameterSpec kParameters[] = {
    {.name = "property",
     .type = ParameterType::kString,
     .required = true,
     .description = "The top-level key of the metadata JSON to break usage down by (1 to 256 bytes), e.g. "
                    "device, os, browser, plan."},
    kFeatureIdParam,
    kProductVersionParam,
    kEventTypeParam,
    kStartDateParam,
    kEndDateParam,
    kLimitParam,
    kSkipParam,
};

constexpr ColumnSpec kColumns[] = {
    {"value", ColumnType::kString},
    {"events", ColumnType::kUInt64},
    {"users", ColumnType::kUInt64},
};

constexpr std::string_view kSql = R"sql(WITH ifNull({property:Nullable(String)}, '') AS property
SELECT if(JSONType(metadata, property) = 'String', JSONExtractString(metadata, property), '') AS value,
       count() AS events, uniqExact(user_id) AS users
FROM feature_events
WHERE ({feature_id:Nullable(String)} IS NULL OR feature_id = {feature_id:Nullable(String)})
  AND ({product_version:Nullable(String)} IS NULL OR product_version = {product_version:Nullable(String)})
  AND ({event_type:Nullable(String)} IS NULL OR event_type = {event_type:Nullable(String)})
  AND ({start_date:Nullable(DateTime('UTC'))} IS NULL OR timestamp >= {start_date:Nullable(DateTime('UTC'))})
  AND ({end_date:Nullable(DateTime('UTC'))} IS NULL OR timestamp < {end_date:Nullable(DateTime('UTC'))})
GROUP BY value
ORDER BY events DESC, value ASC
LIMIT ifNull({skip:Nullable(UInt64)}, 0), ifNull({limit:Nullable(UInt64)}, 18446744073709551615)
)sql";

}  // namespace

const EndpointSpec kPropertyBreakdownSpec{
    .endpoint = Endpoint::kPropertyBreakdown,
    .name = "property_breakdown",
    .description = "How is usage split by a metadata property (device, os, plan...): events and users per value?",
    .parameters = kParameters,
    .columns = kColumns,
    .clickhouse_sql = kSql,
};

}  // namespace usagedb::api::internal
