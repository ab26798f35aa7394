// The entries of the endpoint catalog (lib/api/endpoint_catalog.h), one
// file per endpoint, and the parameters several endpoints share.
//
// Thread-safety: immutable static data.
#ifndef USAGEDB_API_ENDPOINTS_ENDPOINT_SPECS_H_
#define USAGEDB_API_ENDPOINTS_ENDPOINT_SPECS_H_

#include <string_view>

#include "lib/api/endpoint_catalog.h"

namespace usagedb::api::internal {

extern const EndpointSpec kUserFeatureUsageSpec;
extern const EndpointSpec kFeatureUsageSummarySpec;
extern const EndpointSpec kFeatureUsageTimelineSpec;
extern const EndpointSpec kFeatureAdoptionSpec;
extern const EndpointSpec kActiveUsersSpec;
extern const EndpointSpec kFeatureRetentionSpec;
extern const EndpointSpec kFeatureFunnelSpec;
extern const EndpointSpec kPropertyBreakdownSpec;
extern const EndpointSpec kVersionAdoptionSpec;

// Parameters named alike mean the same in every endpoint: one definition each.
inline constexpr ParameterSpec kFeatureIdParam{
    .name = "feature_id", .type = ParameterType::kString, .description = "Only events of this feature_id."};
inline constexpr ParameterSpec kProductVersionParam{.name = "product_version",
                                                    .type = ParameterType::kString,
                                                    .description = "Only events of this product_version."};
inline constexpr ParameterSpec kEventTypeParam{
    .name = "event_type", .type = ParameterType::kString, .description = "Only events of this event_type."};
inline constexpr ParameterSpec kStartDateParam{
    .name = "start_date",
    .type = ParameterType::kDateTime,
    .description = "Only events at or after this UTC time (inclusive): YYYY-MM-DD HH:MM:SS or YYYY-MM-DD."};
inline constexpr ParameterSpec kEndDateParam{
    .name = "end_date",
    .type = ParameterType::kDateTime,
    .description = "Only events before this UTC time (exclusive): YYYY-MM-DD HH:MM:SS or YYYY-MM-DD."};
inline constexpr ParameterSpec kLimitParam{
    .name = "limit", .type = ParameterType::kUInt64, .description = "At most this many rows (LIMIT)."};
inline constexpr ParameterSpec kSkipParam{
    .name = "skip", .type = ParameterType::kUInt64, .description = "Skip this many rows first (OFFSET)."};

inline constexpr ParameterSpec kTzParam{
    .name = "tz",
    .type = ParameterType::kTimeZone,
    .default_value = "UTC",
    .description = "The time zone of the periods: an IANA name such as America/New_York or Asia/Kolkata (SPEC 2.11)."};

inline constexpr std::string_view kGranularityChoices[] = {"hour", "day", "week", "month"};

}  // namespace usagedb::api::internal

#endif  // USAGEDB_API_ENDPOINTS_ENDPOINT_SPECS_H_
