// interpolated_lower_bound against std::lower_bound for every probe (each
// code, its neighbours, and codes outside the range) over the shapes a
// rollup's user codes take: dense, dense with a few gaps, sparse, clustered
// at one end, one huge gap, tiny and empty vectors, codes near UINT32_MAX.
#include "lib/util/sorted_search.h"

#include <algorithm>
#include <cstdint>
#include <set>
#include <vector>

#include "gtest/gtest.h"
#include "lib/gen/random.h"

namespace usagedb {
namespace {

void check_interpolated_probes(const std::vector<uint32_t>& codes) {
  std::set<uint32_t> probes = {0, 1, UINT32_MAX, UINT32_MAX - 1};
  for (const uint32_t c : codes) {
    probes.insert(c);
    if (c > 0) probes.insert(c - 1);
    if (c < UINT32_MAX) probes.insert(c + 1);
  }
  for (const uint32_t p : probes) {
    const size_t expected = static_cast<size_t>(std::lower_bound(codes.begin(), codes.end(), p) - codes.begin());
    ASSERT_EQ(interpolated_lower_bound(codes, p), expected) << "probe " << p << " of " << codes.size() << " codes";
    if (!codes.empty()) {
      // The first and last codes kept by the caller (PartitionRollup::user).
      ASSERT_EQ(interpolated_lower_bound(codes, p, codes.front(), codes.back()), expected) << "probe " << p;
    }
  }
}

std::vector<uint32_t> sorted_distinct_codes(std::vector<uint32_t> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

TEST(InterpolatedLowerBound, EmptyAndTiny) {
  check_interpolated_probes({});
  check_interpolated_probes({0});
  check_interpolated_probes({7});
  check_interpolated_probes({UINT32_MAX});
  check_interpolated_probes({3, 4});
  check_interpolated_probes({0, UINT32_MAX});
  check_interpolated_probes({1, 2, 3});
}

TEST(InterpolatedLowerBound, DenseAndDenseWithGaps) {
  gen::Random random(11);
  for (const uint32_t keep_per_mille : {1000u, 990u, 950u, 700u, 300u, 20u}) {
    for (const uint32_t n : {2u, 10u, 1000u, 20000u}) {
      std::vector<uint32_t> codes;
      for (uint32_t c = 5; c < 5 + n; ++c) {
        if (random.next() % 1000 < keep_per_mille) codes.push_back(c);
      }
      check_interpolated_probes(codes);
    }
  }
}

TEST(InterpolatedLowerBound, SkewedClusteredAndHugeGaps) {
  gen::Random random(12);
  // Clustered at the low end with a few far codes (the guess lands far
  // from the answer and the doubling steps must reach it).
  std::vector<uint32_t> low;
  for (uint32_t c = 0; c < 5000; ++c) low.push_back(c);
  for (uint32_t c : {1000000u, 2000000u, 4000000000u}) low.push_back(c);
  check_interpolated_probes(low);
  // Clustered at the high end.
  std::vector<uint32_t> high = {0, 1};
  for (uint32_t c = UINT32_MAX - 5000; c != 0 && c <= UINT32_MAX - 1; ++c) high.push_back(c);
  check_interpolated_probes(high);
  // Random codes over the whole range, and squares (gaps growing).
  std::vector<uint32_t> spread, squares;
  for (int i = 0; i < 3000; ++i) spread.push_back(static_cast<uint32_t>(random.next()));
  for (uint32_t i = 0; i < 3000; ++i) squares.push_back(i * i);
  check_interpolated_probes(sorted_distinct_codes(spread));
  check_interpolated_probes(squares);
  // Two dense runs with a huge gap between them.
  std::vector<uint32_t> runs;
  for (uint32_t c = 100; c < 1100; ++c) runs.push_back(c);
  for (uint32_t c = 3000000000u; c < 3000001000u; ++c) runs.push_back(c);
  check_interpolated_probes(runs);
}

// The contract asks for distinct ascending codes; a damaged rollup file's
// may not be (ascending with repeats, or any order), nor the first and last
// given be theirs: the answer is then unspecified, but within
// [0, codes.size()] and read within bounds (the ASan build checks the
// reads).
TEST(InterpolatedLowerBound, CodesNotDistinctStayWithinBounds) {
  gen::Random random(13);
  for (int t = 0; t < 4000; ++t) {
    std::vector<uint32_t> codes(random.next() % 24);
    for (uint32_t& c : codes) c = static_cast<uint32_t>(random.next() % 12);
    if (t % 2 == 0) std::sort(codes.begin(), codes.end());
    for (uint32_t p = 0; p < 14; ++p) {
      ASSERT_LE(interpolated_lower_bound(codes, p), codes.size());
      const auto first = static_cast<uint32_t>(random.next()), last = static_cast<uint32_t>(random.next());
      ASSERT_LE(interpolated_lower_bound(codes, p, first, last), codes.size());
    }
  }
}

}  // namespace
}  // namespace usagedb
