// usagedb_funnel_probe: one funnel asked many times of an existing store, in
// one process, with the thread CPU time of each answer: the A/B measure of
// the funnel's own cost on a shared machine (wall times there are noise),
// and a small program to run under callgrind or perf.
//
//   build/release/bench/usagedb_funnel_probe DIR [RUNS] [WINDOW] [STEP ...]
//
// DIR: a store (a copy: the open may write). RUNS (default 50) timed runs
// after 3 warm-ups, WINDOW seconds (default 86400), the steps (default
// feature_1 feature_2 feature_3), over 2025. Prints the rows, then the
// p50 and min of the runs' thread CPU time in ms.
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "usagedb/usagedb.h"

namespace {

double thread_cpu_ms() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argv[1][0] == '-') {
    std::fprintf(stderr, "usage: %s DIR [RUNS] [WINDOW] [STEP ...]\n", argv[0]);
    return 2;
  }
  usagedb::Options options;
  options.directory = argv[1];
  options.create_if_missing = false;  // a store to probe, never a new empty one
  options.background_threads = false;
  const int runs = argc > 2 ? std::atoi(argv[2]) : 50;
  usagedb::FeatureFunnelQuery q;
  q.window = std::chrono::seconds(argc > 3 ? std::atol(argv[3]) : 86400);
  for (int i = 4; i < argc; ++i) q.steps.emplace_back(argv[i]);
  if (q.steps.empty()) q.steps = {"feature_1", "feature_2", "feature_3"};
  q.start_date = usagedb::parse_date_parameter("2025-01-01").value();
  q.end_date = usagedb::parse_date_parameter("2026-01-01").value();
  auto store = usagedb::EventStore::open(options);
  if (!store.ok()) {
    std::fprintf(stderr, "open: %s\n", std::string(store.status().message()).c_str());
    return 1;
  }
  std::vector<double> ms;
  for (int i = 0; i < runs + 3; ++i) {
    const double t0 = thread_cpu_ms();
    auto r = (*store)->feature_funnel(q);
    const double t1 = thread_cpu_ms();
    if (!r.ok()) {
      std::fprintf(stderr, "funnel: %s\n", std::string(r.status().message()).c_str());
      return 1;
    }
    if (i == 0) {
      for (const auto& row : r->rows) std::printf("%llu %s %llu\n", static_cast<unsigned long long>(row.step),
                                                  row.feature_id.c_str(), static_cast<unsigned long long>(row.users));
      std::printf("rows_read %llu bytes_read %llu\n", static_cast<unsigned long long>(r->statistics.rows_read),
                  static_cast<unsigned long long>(r->statistics.bytes_read));
    }
    if (i >= 3) ms.push_back(t1 - t0);
  }
  if (ms.empty()) return 0;
  std::sort(ms.begin(), ms.end());
  std::printf("runs %zu cpu p50 %.3f ms min %.3f ms\n", ms.size(), ms[ms.size() / 2], ms.front());
  return 0;
}
