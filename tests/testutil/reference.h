// Reference: a deliberately plain implementation of the feature_events table
// and the SPEC's endpoints, written to follow the ClickHouse SQL of
// SPEC section 2 literally (filter, GROUP BY with std::map, ORDER BY,
// LIMIT skip, limit), with SPEC 1.3's dedup applied on insert. Differential
// tests compare EventStore against it on random data.
#ifndef USAGEDB_TESTS_TESTUTIL_REFERENCE_H_
#define USAGEDB_TESTS_TESTUTIL_REFERENCE_H_

#include <map>
#include <set>
#include <string>
#include <vector>

#include "usagedb/usagedb.h"

namespace usagedb::testing {

// An Event that owns its strings.
struct OwnedEvent {
  std::string event_id, user_id, feature_id, product_version, event_type;
  Timestamp timestamp;
  std::string session_id, metadata;

  static OwnedEvent from(const Event& e);
  Event view() const;
};

class Reference {
 public:
  explicit Reference(bool deduplicate = true) : deduplicate_(deduplicate) {}

  // Inserts per SPEC 1.3; false when skipped as a duplicate.
  bool record(const Event& e);
  const std::vector<OwnedEvent>& events() const { return events_; }
  // EventStore::delete_user and drop_partitions_before, literally.
  uint64_t delete_user(const std::string& user_id);
  uint64_t drop_partitions_before(int yyyymm);

  QueryResult<UserFeatureUsageRow> user_feature_usage(const UserFeatureUsageQuery& q) const;
  QueryResult<FeatureUsageSummaryRow> feature_usage_summary(const FeatureUsageSummaryQuery& q) const;
  // With q.tz, periods are local (SPEC 2.11), by glibc (local_time.h).
  QueryResult<FeatureUsageTimelineRow> feature_usage_timeline(const FeatureUsageTimelineQuery& q) const;
  QueryResult<FeatureAdoptionRow> feature_adoption(const FeatureAdoptionQuery& q) const;
  // With q.tz, days are local dates and periods local buckets, by glibc
  // (local_time.h). REQUIRES: q.tz, when given, a zone of the tz database.
  QueryResult<ActiveUsersRow> active_users(const ActiveUsersQuery& q) const;
  QueryResult<FeatureRetentionRow> feature_retention(const FeatureRetentionQuery& q) const;
  // windowFunnel from its definition (SPEC 2.8), not ClickHouse's algorithm:
  // a user reaches step k when events e1..ek of steps 1..k exist with
  // t1 <= .. <= tk and tk - t1 <= window, searched from every e1.
  QueryResult<FeatureFunnelRow> feature_funnel(const FeatureFunnelQuery& q) const;
  // Values by the tests' own JSON reader (plain_json.h). REQUIRES: a valid
  // property (1 to 256 bytes).
  QueryResult<PropertyBreakdownRow> property_breakdown(const PropertyBreakdownQuery& q) const;
  // REQUIRES: q.tz, when given, a zone of the system's tz database.
  QueryResult<VersionAdoptionRow> version_adoption(const VersionAdoptionQuery& q) const;

 private:
  bool deduplicate_;
  std::vector<OwnedEvent> events_;
  std::set<std::pair<int, std::string>> seen_;  // (yyyymm, event_id)
};

}  // namespace usagedb::testing

#endif  // USAGEDB_TESTS_TESTUTIL_REFERENCE_H_
