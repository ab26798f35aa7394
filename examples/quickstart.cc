// quickstart: open a store, record a few events, ask the three endpoints.
#include <iostream>

#include "usagedb/usagedb.h"

int main() {
  auto store = usagedb::EventStore::open(usagedb::Options{}).value();  // in memory
  const char* times[] = {"2025-05-11 10:23:03", "2025-05-11 10:25:00", "2025-05-12 08:00:00"};
  const char* features[] = {"feature_16", "feature_16", "feature_3"};
  for (int i = 0; i < 3; ++i) {
    absl::Status s = store->record_event({.user_id = "user_615", .feature_id = features[i],
                                          .product_version = "1.5.5", .event_type = "view",
                                          .timestamp = usagedb::parse_timestamp(times[i]).value(),
                                          .session_id = "session_1"});
    if (!s.ok()) return std::cerr << s << "\n", 1;
  }
  auto usage = store->user_feature_usage({.user_id = "user_615"});
  for (const auto& r : usage->rows)
    std::cout << r.feature_id << " " << r.product_version << " used " << r.usage_count << "x, last "
              << usagedb::format_timestamp(r.last_usage) << "\n";
  auto summary = store->feature_usage_summary({.feature_id = "feature_16"});
  for (const auto& r : summary->rows)
    std::cout << r.feature_id << ": " << r.total_events << " events, " << r.unique_users << " users\n";
  auto timeline = store->feature_usage_timeline({.granularity = usagedb::Granularity::kDay});
  for (const auto& r : timeline->rows)
    std::cout << usagedb::format_timestamp(r.period) << " " << r.feature_id << " " << r.events << " events\n";
}
