// Metrics: what `GET /metrics` reports in Prometheus' text format (SPEC 5):
// requests and their latency by route and status, the rows the ingest
// routes stored, quarantined and skipped as duplicates, the flushes, and the
// store's size.
//
//   metrics.record_request(Route::kEvents, 202, elapsed);
//   metrics.record_ingest(report);
//   std::string text = metrics.render(store_stats, flushes);
//
// Thread-safety: recording is lock-free (relaxed atomic counters) and safe
// from any thread; render() reads a consistent-enough snapshot.
#ifndef USAGEDB_HTTP_METRICS_H_
#define USAGEDB_HTTP_METRICS_H_

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "lib/http/router.h"
#include "usagedb/ingest.h"
#include "usagedb/stats.h"

namespace usagedb::http {

class Metrics {
 public:
  void record_request(Route route, int status, std::chrono::steady_clock::duration elapsed);
  void record_ingest(const IngestReport& report);

  // The exposition text. `stats` is the store's (EventStore::stats);
  // `flushes` the group commit's count.
  std::string render(const StoreStats& stats, uint64_t flushes) const;

 private:
  static constexpr size_t kRoutes = static_cast<size_t>(Route::kDashboard) + 1;
  // The statuses the server answers with; the last slot counts any other.
  static constexpr std::array<int, 17> kStatuses = {200, 202, 204, 304, 400, 401, 403, 404, 405,
                                                    408, 411, 413, 429, 431, 500, 503, 0};
  // Upper bounds of the latency buckets, in seconds (+Inf after them).
  static constexpr std::array<double, 14> kBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                      0.025,  0.05,    0.1,    0.25,  0.5,    1,     5};
  struct Series {
    std::atomic<uint64_t> count{0};
    std::atomic<uint64_t> nanos{0};
    std::array<std::atomic<uint64_t>, kBuckets.size()> buckets{};  // non-cumulative
  };
  static size_t status_index(int status);

  std::array<std::array<Series, kStatuses.size()>, kRoutes> series_;
  std::atomic<uint64_t> stored_{0};
  std::atomic<uint64_t> quarantined_{0};
  std::atomic<uint64_t> duplicates_{0};
};

}  // namespace usagedb::http

#endif  // USAGEDB_HTTP_METRICS_H_
