// The endpoints of SPEC section 2, run over a Snapshot.
//
// Each validates its request (InvalidArgumentError naming the parameter),
// resolves string filters to dictionary codes once, prunes partitions by
// month and parts by their indexes and sorted timestamps, aggregates on codes,
// and converts only the final groups to strings before sorting and paging.
//
// Thread-safety: pure functions of an immutable Snapshot.
#ifndef USAGEDB_QUERY_ENDPOINTS_H_
#define USAGEDB_QUERY_ENDPOINTS_H_

#include "absl/status/statusor.h"
#include "lib/query/snapshot.h"
#include "usagedb/queries.h"

namespace usagedb {

absl::StatusOr<QueryResult<UserFeatureUsageRow>> run_user_feature_usage(const Snapshot& snapshot,
                                                                        const UserFeatureUsageQuery& query);

absl::StatusOr<QueryResult<FeatureUsageSummaryRow>> run_feature_usage_summary(const Snapshot& snapshot,
                                                                              const FeatureUsageSummaryQuery& query);

absl::StatusOr<QueryResult<FeatureUsageTimelineRow>> run_feature_usage_timeline(
    const Snapshot& snapshot, const FeatureUsageTimelineQuery& query);

absl::StatusOr<QueryResult<FeatureAdoptionRow>> run_feature_adoption(const Snapshot& snapshot,
                                                                    const FeatureAdoptionQuery& query);

absl::StatusOr<QueryResult<ActiveUsersRow>> run_active_users(const Snapshot& snapshot, const ActiveUsersQuery& query);

absl::StatusOr<QueryResult<FeatureRetentionRow>> run_feature_retention(const Snapshot& snapshot,
                                                                      const FeatureRetentionQuery& query);

absl::StatusOr<QueryResult<FeatureFunnelRow>> run_feature_funnel(const Snapshot& snapshot,
                                                                const FeatureFunnelQuery& query);

absl::StatusOr<QueryResult<PropertyBreakdownRow>> run_property_breakdown(const Snapshot& snapshot,
                                                                         const PropertyBreakdownQuery& query);

absl::StatusOr<QueryResult<VersionAdoptionRow>> run_version_adoption(const Snapshot& snapshot,
                                                                     const VersionAdoptionQuery& query);

}  // namespace usagedb

#endif  // USAGEDB_QUERY_ENDPOINTS_H_
