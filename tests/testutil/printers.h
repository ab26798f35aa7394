// gtest printers for the public row types, so a failed comparison shows the
// rows rather than bytes.
#ifndef USAGEDB_TESTS_TESTUTIL_PRINTERS_H_
#define USAGEDB_TESTS_TESTUTIL_PRINTERS_H_

#include <ostream>

#include "usagedb/usagedb.h"

namespace usagedb {

inline void PrintTo(const UserFeatureUsageRow& r, std::ostream* os) {
  *os << "{" << r.user_id << ", " << r.feature_id << ", " << r.product_version << ", " << r.usage_count << ", "
      << format_timestamp(r.first_usage) << ", " << format_timestamp(r.last_usage) << "}";
}
inline void PrintTo(const FeatureUsageSummaryRow& r, std::ostream* os) {
  *os << "{" << r.feature_id << ", " << r.product_version << ", " << r.total_events << ", " << r.unique_users
      << ", " << r.unique_sessions << ", " << format_timestamp(r.first_seen) << ", " << format_timestamp(r.last_seen)
      << "}";
}
inline void PrintTo(const FeatureUsageTimelineRow& r, std::ostream* os) {
  *os << "{" << format_timestamp(r.period) << ", " << r.feature_id << ", " << r.events << ", " << r.unique_users
      << "}";
}
inline void PrintTo(const FeatureAdoptionRow& r, std::ostream* os) {
  *os << "{" << r.feature_id << ", " << r.users << ", " << r.active_users << ", " << r.adoption_rate << ", "
      << r.events << "}";
}
inline void PrintTo(const ActiveUsersRow& r, std::ostream* os) {
  *os << "{" << format_timestamp(Timestamp(r.day)).substr(0, 10) << ", " << r.active_users << "}";
}
inline void PrintTo(const FeatureRetentionRow& r, std::ostream* os) {
  *os << "{" << format_timestamp(r.cohort) << ", " << r.cohort_users << ", " << r.period_offset << ", " << r.users
      << "}";
}
inline void PrintTo(const FeatureFunnelRow& r, std::ostream* os) {
  *os << "{" << r.step << ", " << r.feature_id << ", " << r.users << "}";
}
inline void PrintTo(const PropertyBreakdownRow& r, std::ostream* os) {
  *os << "{'" << r.value << "', " << r.events << ", " << r.users << "}";
}
inline void PrintTo(const VersionAdoptionRow& r, std::ostream* os) {
  *os << "{" << format_timestamp(r.period) << ", " << r.product_version << ", " << r.users << ", " << r.active_users
      << ", " << r.share << ", " << r.events << "}";
}
inline void PrintTo(const IngestReport& r, std::ostream* os) {
  *os << "{successful=" << r.successful_rows << ", quarantined=" << r.quarantined_rows
      << ", duplicate=" << r.duplicate_rows << "}";
}

}  // namespace usagedb

#endif  // USAGEDB_TESTS_TESTUTIL_PRINTERS_H_
