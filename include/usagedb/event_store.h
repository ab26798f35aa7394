// usagedb/event_store.h: the store of feature-usage events and its endpoints.
//
// An EventStore holds the `feature_events` table of SPEC section 1: one
// partition per UTC month, each a set of immutable parts sorted by
// (timestamp, feature_id, product_version) plus a small unsealed buffer. It
// answers the typed endpoints of SPEC section 2 exactly as the ClickHouse
// SQL there defines them.
//
//   usagedb::Options options;                      // in memory
//   auto store = usagedb::EventStore::open(options).value();
//   store->record_event({.user_id = "user_615", .feature_id = "feature_16",
//                        .product_version = "1.5.5", .event_type = "view",
//                        .timestamp = usagedb::parse_timestamp("2025-05-11 10:23:03").value()});
//   auto usage = store->user_feature_usage({.user_id = "user_615"});
//
// Thread-safety: an EventStore is safe for concurrent use by multiple threads
// without external synchronization; a query sees every event whose
// record_event (or ingest) call returned before the query started.
#ifndef USAGEDB_EVENT_STORE_H_
#define USAGEDB_EVENT_STORE_H_

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "usagedb/event.h"
#include "usagedb/ingest.h"
#include "usagedb/options.h"
#include "usagedb/queries.h"
#include "usagedb/stats.h"

namespace usagedb {

class EventStore {
 public:
  // Opens the store described by `options`. Errors: InvalidArgumentError for
  // unusable options.
  static absl::StatusOr<std::unique_ptr<EventStore>> open(const Options& options);

  EventStore() = default;
  EventStore(const EventStore&) = delete;
  EventStore& operator=(const EventStore&) = delete;
  virtual ~EventStore() = default;

  // ---- Writing -----------------------------------------------------------

  // Stores one event (the store copies its strings). Returns OK, without
  // storing it again, when Options::deduplicate is on and its non-empty
  // event_id is already stored in the same month (SPEC 1.3).
  // InvalidArgumentError naming the field: an empty required field, a
  // timestamp outside the DateTime range, or a string that is not UTF-8.
  virtual absl::Status record_event(const Event& event) = 0;

  // Stores a batch; all or nothing: when one event is invalid the error names
  // its index and field and none of the batch is stored. The report counts
  // stored and duplicate events (quarantined_rows is always 0 here).
  virtual absl::StatusOr<IngestReport> record_events(std::span<const Event> events) = 0;

  // Ingests a whole NDJSON or CSV input (SPEC 1.1): valid rows are stored,
  // duplicates skipped (SPEC 1.3), invalid rows quarantined (SPEC 1.2) - one
  // bad line never fails the call. The report's three counts add up to the
  // number of non-blank records. Errors: only a failure to store (e.g. the
  // disk), in which case nothing of this call is acknowledged.
  virtual absl::StatusOr<IngestReport> ingest(std::string_view text, const IngestOptions& options) = 0;
  absl::StatusOr<IngestReport> ingest_ndjson(std::string_view text) { return ingest(text, IngestOptions{}); }

  // Ingests a file ("-" reads standard input) as ingest() does, streaming it
  // in chunks (read and parsed on other threads), and returns once
  // everything it stored is durable. A file larger than
  // Options::checkpoint_log_bytes bypasses the write-ahead log: a checkpoint
  // writes its events straight into part files before the call returns (a
  // pipe or stdin, whose size is unknown, from the point where it has read
  // that much).
  // NotFoundError / UnavailableError naming the file when it cannot be read.
  virtual absl::StatusOr<IngestReport> ingest_file(const std::string& path, const IngestFileOptions& options) = 0;

  // Ingests an input pulled from `read` exactly as ingest_file ingests a
  // file (chunks read and parsed on other threads, line numbers counted
  // across the whole input, a CSV header read once), and returns once
  // everything it stored is durable. An input larger than
  // Options::checkpoint_log_bytes (by options.size_hint, or from the point
  // where that much was read) bypasses the write-ahead log, as a large file
  // does. Memory stays bounded (a few chunks) whatever the input's size.
  // Errors: `read`'s error, as it returned it, or a failure to store. Either
  // way the call acknowledges nothing, though rows of chunks stored before
  // the error stay stored (retrying with event_ids is idempotent).
  virtual absl::StatusOr<IngestReport> ingest_stream(const InputSource& read, const IngestStreamOptions& options) = 0;

  // Makes everything recorded so far durable (a no-op for in-memory stores).
  virtual absl::Status flush() = 0;

  // ---- The quarantine (SPEC 1.2) -----------------------------------------

  // Every row rejected by an ingest call since the last clear, oldest first.
  virtual absl::StatusOr<std::vector<QuarantinedRow>> quarantine() const = 0;
  // Removes every quarantined row; returns how many there were.
  virtual absl::StatusOr<uint64_t> clear_quarantine() = 0;

  // ---- Maintenance --------------------------------------------------------

  // Seals every buffer and merges each partition's parts into one (like
  // ClickHouse's OPTIMIZE TABLE ... FINAL), then brings every partition's
  // rollup up to date, so the endpoints answer whole months, days and hours
  // from pre-aggregated cells. Readers are never blocked; writers only while
  // the merged parts are installed.
  virtual absl::Status compact() = 0;

  // Retention: removes every partition (month) before `yyyymm` (e.g. 202501
  // keeps January 2025 and later). Returns the number of events removed.
  // InvalidArgumentError when `yyyymm` is not a month of the DateTime range.
  virtual absl::StatusOr<uint64_t> drop_partitions_before(uint32_t yyyymm) = 0;

  // GDPR erasure: removes every event of `user_id` from every partition, its
  // event_ids from the dedup index and its string from the user dictionary.
  // Returns the number of events removed (0 for an unknown user).
  virtual absl::StatusOr<uint64_t> delete_user(std::string_view user_id) = 0;

  // Partitions, parts, rows, bytes on disk and in memory.
  virtual absl::StatusOr<StoreStats> stats() const = 0;

  // ---- The endpoints (SPEC section 2) ------------------------------------
  // InvalidArgumentError naming the parameter for a bad request: end_date
  // before start_date, a `tz` that is not a zone of the system's tz
  // database, a `property` that is empty or longer than 256 bytes.

  virtual absl::StatusOr<QueryResult<UserFeatureUsageRow>> user_feature_usage(
      const UserFeatureUsageQuery& query) const = 0;

  virtual absl::StatusOr<QueryResult<FeatureUsageSummaryRow>> feature_usage_summary(
      const FeatureUsageSummaryQuery& query) const = 0;

  virtual absl::StatusOr<QueryResult<FeatureUsageTimelineRow>> feature_usage_timeline(
      const FeatureUsageTimelineQuery& query) const = 0;

  // InvalidArgumentError naming the parameter, as for the endpoints above.
  virtual absl::StatusOr<QueryResult<FeatureAdoptionRow>> feature_adoption(
      const FeatureAdoptionQuery& query) const = 0;

  // Also InvalidArgumentError naming window_days outside 1..365.
  virtual absl::StatusOr<QueryResult<ActiveUsersRow>> active_users(const ActiveUsersQuery& query) const = 0;

  // Also InvalidArgumentError naming granularity when it is kHour.
  virtual absl::StatusOr<QueryResult<FeatureRetentionRow>> feature_retention(
      const FeatureRetentionQuery& query) const = 0;

  // Also InvalidArgumentError naming steps (fewer than 2 or more than 8, an
  // empty or repeated step) or window (outside 1 s to 365 days).
  virtual absl::StatusOr<QueryResult<FeatureFunnelRow>> feature_funnel(const FeatureFunnelQuery& query) const = 0;

  virtual absl::StatusOr<QueryResult<PropertyBreakdownRow>> property_breakdown(
      const PropertyBreakdownQuery& query) const = 0;

  virtual absl::StatusOr<QueryResult<VersionAdoptionRow>> version_adoption(
      const VersionAdoptionQuery& query) const = 0;
};

}  // namespace usagedb

#endif  // USAGEDB_EVENT_STORE_H_
