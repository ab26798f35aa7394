// The endpoint catalog's lookups (lib/api/endpoint_catalog.h); the entries
// are in lib/api/endpoints/.
#include "lib/api/endpoint_catalog.h"

#include <array>

#include "lib/api/endpoints/endpoint_specs.h"

namespace usagedb::api {
namespace {

// Indexed by Endpoint, in SPEC order.
const std::array<const EndpointSpec*, 9>& specs() {
  static const std::array<const EndpointSpec*, 9> kSpecs = {
      &internal::kUserFeatureUsageSpec,  &internal::kFeatureUsageSummarySpec, &internal::kFeatureUsageTimelineSpec,
      &internal::kFeatureAdoptionSpec,   &internal::kActiveUsersSpec,         &internal::kFeatureRetentionSpec,
      &internal::kFeatureFunnelSpec,     &internal::kPropertyBreakdownSpec,   &internal::kVersionAdoptionSpec,
  };
  return kSpecs;
}

}  // namespace

std::string_view parameter_type_name(ParameterType t) {
  switch (t) {
    case ParameterType::kString: return "String";
    case ParameterType::kDateTime: return "DateTime";
    case ParameterType::kDate: return "Date";
    case ParameterType::kUInt64: return "UInt64";
    case ParameterType::kEnum: return "String";
    case ParameterType::kStringList: return "Array(String)";
    case ParameterType::kTimeZone: return "String";
  }
  return "String";
}

std::string_view column_type_name(ColumnType t) {
  switch (t) {
    case ColumnType::kString: return "String";
    case ColumnType::kUInt64: return "UInt64";
    case ColumnType::kFloat64: return "Float64";
    case ColumnType::kDate: return "Date";
    case ColumnType::kDateTime: return "DateTime";
  }
  return "String";
}

const ParameterSpec* EndpointSpec::parameter(std::string_view name) const {
  for (const ParameterSpec& p : parameters) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

std::span<const EndpointSpec> endpoint_catalog() {
  // Contiguous copies, so callers can iterate a span.
  static const auto kCatalog = [] {
    std::array<EndpointSpec, std::tuple_size_v<std::decay_t<decltype(specs())>>> all{};
    for (size_t i = 0; i < all.size(); ++i) all[i] = *specs()[i];
    return all;
  }();
  return kCatalog;
}

const EndpointSpec& endpoint_spec(Endpoint e) { return endpoint_catalog()[static_cast<size_t>(e)]; }

const EndpointSpec* find_endpoint(std::string_view name) {
  for (const EndpointSpec& spec : endpoint_catalog()) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

}  // namespace usagedb::api
