#include "lib/gen/generator.h"

#include <map>
#include <set>

#include "gtest/gtest.h"
#include "lib/ingest/validate.h"
#include "tests/testutil/reference.h"

namespace usagedb::gen {
namespace {

std::string ndjson(uint64_t seed, uint64_t n) {
  Generator g({.events = n, .seed = seed});
  std::string out;
  while (const Event* e = g.next()) Generator::append_ndjson(*e, &out);
  return out;
}

TEST(Generator, DeterministicBySeed) {
  EXPECT_EQ(ndjson(7, 2000), ndjson(7, 2000));
  EXPECT_NE(ndjson(7, 2000), ndjson(8, 2000));
}

TEST(Generator, EventsAreValidSeedShapedAndSkewed) {
  Generator g({.events = 50000, .seed = 1, .users = 1000, .features = 40, .versions = 12, .months = 6});
  std::map<std::string, int> per_user, per_feature;
  std::set<std::string> ids, months;
  int64_t min_t = INT64_MAX, max_t = INT64_MIN;
  while (const Event* e = g.next()) {
    ASSERT_FALSE(validate_event(*e).has_value());
    ASSERT_TRUE(ids.insert(std::string(e->event_id)).second) << "event ids are unique";
    ASSERT_EQ(e->user_id.substr(0, 5), "user_");
    ASSERT_EQ(e->feature_id.substr(0, 8), "feature_");
    ++per_user[std::string(e->user_id)];
    ++per_feature[std::string(e->feature_id)];
    months.insert(format_timestamp(e->timestamp).substr(0, 7));
    min_t = std::min<int64_t>(min_t, e->timestamp.time_since_epoch().count());
    max_t = std::max<int64_t>(max_t, e->timestamp.time_since_epoch().count());
  }
  EXPECT_EQ(g.generated(), 50000u);
  EXPECT_EQ(months.size(), 6u);
  EXPECT_GE(min_t, 1735689600);
  EXPECT_LT(max_t, 1735689600 + 181 * 86400);
  // Zipf-like: the heaviest user has far more events than the median user.
  std::vector<int> counts;
  for (const auto& [u, n] : per_user) counts.push_back(n);
  std::sort(counts.begin(), counts.end());
  EXPECT_GT(counts.back(), 20 * counts[counts.size() / 2]);
  EXPECT_LE(per_feature.size(), 40u);
}

TEST(Generator, NdjsonLineShape) {
  Generator g({.events = 1, .seed = 3});
  const Event* e = g.next();
  std::string line;
  Generator::append_ndjson(*e, &line);
  EXPECT_EQ(line.substr(0, 22), "{\"event_id\":\"evt_1\",\"u");
  EXPECT_EQ(line.back(), '\n');
  EXPECT_NE(line.find("\"timestamp\":\"2025-01-01 "), std::string::npos);
}

}  // namespace
}  // namespace usagedb::gen
