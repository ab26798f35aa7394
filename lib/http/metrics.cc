#include "lib/http/metrics.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/util/text.h"

namespace usagedb::http {

size_t Metrics::status_index(int status) {
  for (size_t i = 0; i + 1 < kStatuses.size(); ++i) {
    if (kStatuses[i] == status) return i;
  }
  return kStatuses.size() - 1;
}

void Metrics::record_request(Route route, int status, std::chrono::steady_clock::duration elapsed) {
  Series& s = series_[static_cast<size_t>(route)][status_index(status)];
  const uint64_t nanos = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count());
  s.count.fetch_add(1, std::memory_order_relaxed);
  s.nanos.fetch_add(nanos, std::memory_order_relaxed);
  const double seconds = static_cast<double>(nanos) * 1e-9;
  for (size_t b = 0; b < kBuckets.size(); ++b) {
    if (seconds <= kBuckets[b]) {
      s.buckets[b].fetch_add(1, std::memory_order_relaxed);
      break;
    }
  }
}

void Metrics::record_ingest(const IngestReport& report) {
  stored_.fetch_add(report.successful_rows, std::memory_order_relaxed);
  quarantined_.fetch_add(report.quarantined_rows, std::memory_order_relaxed);
  duplicates_.fetch_add(report.duplicate_rows, std::memory_order_relaxed);
}

std::string Metrics::render(const StoreStats& stats, uint64_t flushes) const {
  std::string out;
  auto gauge = [&out](std::string_view name, std::string_view help, uint64_t value) {
    absl::StrAppend(&out, "# HELP ", text::absl_view(name), " ", text::absl_view(help), "\n# TYPE ",
                    text::absl_view(name), " gauge\n", text::absl_view(name), " ", value, "\n");
  };
  gauge("usagedb_events", "Events stored in the feature_events table.", stats.rows);
  gauge("usagedb_quarantined_rows", "Rows in the quarantine.", stats.quarantined_rows);
  gauge("usagedb_parts", "Immutable parts of the table.", stats.parts);
  gauge("usagedb_bytes_on_disk", "Bytes of every file of the store.", stats.bytes_on_disk);
  gauge("usagedb_memory_bytes", "Approximate bytes the store holds in memory.", stats.memory_bytes);

  out +=
      "# HELP usagedb_ingested_rows_total Rows received by POST /v0/events and /v0/datasources, by outcome.\n"
      "# TYPE usagedb_ingested_rows_total counter\n";
  absl::StrAppend(&out, "usagedb_ingested_rows_total{outcome=\"stored\"} ", stored_.load(), "\n");
  absl::StrAppend(&out, "usagedb_ingested_rows_total{outcome=\"quarantined\"} ", quarantined_.load(), "\n");
  absl::StrAppend(&out, "usagedb_ingested_rows_total{outcome=\"duplicate\"} ", duplicates_.load(), "\n");

  absl::StrAppend(&out,
                  "# HELP usagedb_flushes_total Flushes (fsyncs of the write-ahead log) run by the server.\n"
                  "# TYPE usagedb_flushes_total counter\nusagedb_flushes_total ",
                  flushes, "\n");

  out +=
      "# HELP usagedb_http_requests_total HTTP requests answered, by route and status.\n"
      "# TYPE usagedb_http_requests_total counter\n";
  std::string histogram =
      "# HELP usagedb_http_request_duration_seconds Time from a request's headers to its answer, by route and "
      "status.\n# TYPE usagedb_http_request_duration_seconds histogram\n";
  for (size_t r = 0; r < kRoutes; ++r) {
    for (size_t i = 0; i < kStatuses.size(); ++i) {
      const Series& s = series_[r][i];
      const uint64_t count = s.count.load(std::memory_order_relaxed);
      if (count == 0) continue;
      const std::string labels =
          absl::StrCat("route=\"", text::absl_view(route_name(static_cast<Route>(r))), "\",status=\"",
                       kStatuses[i] == 0 ? std::string("other") : absl::StrCat(kStatuses[i]), "\"");
      absl::StrAppend(&out, "usagedb_http_requests_total{", labels, "} ", count, "\n");
      uint64_t cumulative = 0;
      for (size_t b = 0; b < kBuckets.size(); ++b) {
        cumulative += s.buckets[b].load(std::memory_order_relaxed);
        absl::StrAppendFormat(&histogram, "usagedb_http_request_duration_seconds_bucket{%s,le=\"%g\"} %d\n", labels,
                              kBuckets[b], cumulative);
      }
      absl::StrAppendFormat(&histogram, "usagedb_http_request_duration_seconds_bucket{%s,le=\"+Inf\"} %d\n", labels,
                            count);
      absl::StrAppendFormat(&histogram, "usagedb_http_request_duration_seconds_sum{%s} %.9f\n", labels,
                            static_cast<double>(s.nanos.load(std::memory_order_relaxed)) * 1e-9);
      absl::StrAppendFormat(&histogram, "usagedb_http_request_duration_seconds_count{%s} %d\n", labels, count);
    }
  }
  out += histogram;
  return out;
}

}  // namespace usagedb::http
