// Parameter sets for every endpoint of the catalog, as the text a caller
// sends (api::Params), for the tests that run the same request on usagedb
// and on an exported copy (ClickHouse SQL, Tinybird pipes): each endpoint
// with every optional parameter absent, each one present alone, all of them
// present, and random mixes. Values come from the random events' pools (the
// parameter's column when its name is one, otherwise by type), and every
// set passes api::parse_request. Driven by the catalog: a new endpoint or
// parameter is covered with no change here.
#ifndef USAGEDB_TESTS_TESTUTIL_ENDPOINT_CASES_H_
#define USAGEDB_TESTS_TESTUTIL_ENDPOINT_CASES_H_

#include <string>
#include <vector>

#include "lib/api/endpoint_catalog.h"
#include "lib/api/endpoint_request.h"
#include "tests/testutil/random_events.h"

namespace usagedb::testing {

struct EndpointCase {
  const api::EndpointSpec* spec;
  api::Params params;
  std::string describe() const;  // "feature_usage_summary?feature_id=f1&limit=3"
};

// `random_mixes` random sets per endpoint besides the fixed ones.
std::vector<EndpointCase> endpoint_cases(RandomEvents& gen, int random_mixes);

}  // namespace usagedb::testing

#endif  // USAGEDB_TESTS_TESTUTIL_ENDPOINT_CASES_H_
