// Random events and random endpoint requests full of edge cases, for the
// differential tests: identical timestamps, month/year/week boundaries,
// 1970-01-01..04 and the end of the DateTime range, leap days, DST changes
// and local midnights in several zones, unicode and byte-order corner cases
// in strings, many versions, duplicate and empty event_ids, users with a
// single event, and metadata that tries every rule of SPEC 2.9 (duplicate and
// escaped keys, values of every JSON type, invalid JSON, escaped lone
// surrogates, huge numbers).
#ifndef USAGEDB_TESTS_TESTUTIL_RANDOM_EVENTS_H_
#define USAGEDB_TESTS_TESTUTIL_RANDOM_EVENTS_H_

#include <string>
#include <vector>

#include "lib/gen/random.h"
#include "tests/testutil/reference.h"
#include "usagedb/usagedb.h"

namespace usagedb::testing {

class RandomEvents {
 public:
  explicit RandomEvents(uint64_t seed);

  // A random valid event. Its event_id may repeat an earlier one.
  OwnedEvent event();
  std::vector<OwnedEvent> events(size_t n);

  UserFeatureUsageQuery user_query();
  FeatureUsageSummaryQuery summary_query();
  FeatureUsageTimelineQuery timeline_query();
  FeatureAdoptionQuery adoption_query();
  ActiveUsersQuery active_users_query();
  FeatureRetentionQuery retention_query();
  FeatureFunnelQuery funnel_query();
  PropertyBreakdownQuery property_query();
  VersionAdoptionQuery version_query();

  // Zones whose DST changes and :30/:45 offsets the events surround.
  static const std::vector<std::string>& time_zones();
  // Metadata property names the queries ask for.
  const std::vector<std::string>& properties() const { return properties_; }

  const std::vector<std::string>& users() const { return users_; }
  const std::vector<std::string>& features() const { return features_; }
  const std::vector<std::string>& versions() const { return versions_; }
  const std::vector<std::string>& event_types() const { return event_types_; }
  gen::Random& random() { return random_; }

 private:
  Timestamp timestamp();
  std::optional<std::string> maybe(const std::vector<std::string>& pool, double p_absent);
  std::optional<Timestamp> maybe_date();
  std::optional<std::string> maybe_zone();
  std::string metadata();
  // Start and end (start <= end) from maybe_date().
  void maybe_window(std::optional<Timestamp>* start, std::optional<Timestamp>* end);
  void paging(std::optional<uint64_t>* limit, std::optional<uint64_t>* skip);

  gen::Random random_;
  std::vector<std::string> users_, features_, versions_, event_types_, sessions_, properties_;
  std::vector<Timestamp> anchors_;
  std::vector<std::string> issued_ids_;
  uint64_t next_id_ = 1;
  uint64_t next_solo_user_ = 1;
};

}  // namespace usagedb::testing

#endif  // USAGEDB_TESTS_TESTUTIL_RANDOM_EVENTS_H_
