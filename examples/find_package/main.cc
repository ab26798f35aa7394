// Links against an installed usagedb and checks one round trip.
#include <iostream>

#include "usagedb/usagedb.h"

int main() {
  auto store = usagedb::EventStore::open({});
  if (!store.ok()) return std::cerr << store.status() << "\n", 1;
  absl::Status s = (*store)->record_event({.user_id = "u", .feature_id = "f", .product_version = "1",
                                           .event_type = "view",
                                           .timestamp = usagedb::parse_timestamp("2025-01-01 00:00:00").value()});
  auto usage = (*store)->user_feature_usage({.user_id = "u"});
  if (!s.ok() || !usage.ok() || usage->rows.size() != 1) return std::cerr << "round trip failed\n", 1;
  std::cout << "find_package(usagedb) works: " << usage->rows[0].feature_id << " used "
            << usage->rows[0].usage_count << "x\n";
}
