// `usagedb export clickhouse|tinybird` (SPEC 8, docs/EXPORT.md): a store
// written out as a ClickHouse schema with its endpoint queries, or as a
// Tinybird project, with its events, so the same table and endpoints run on
// either engine and answer exactly as usagedb does.
//
//   ClickHouse (out/):  schema.sql, NAME.sql per endpoint, events.ndjson, README.md
//   Tinybird (out/):    datasources/feature_events.datasource,
//                       endpoints/NAME.pipe per endpoint,
//                       fixtures/feature_events.ndjson, README.md
//
//   absl::StatusOr<ExportReport> r = exporting::export_store(
//       *store, {.target = ExportTarget::kClickHouse, .out_dir = "ch"});
//
// The endpoints come from the endpoint catalog (lib/api/endpoint_catalog.h)
// and the text from project_files.h. The events are the store's after
// dedup, each column's exact bytes (event_json.h), read with
// EventStore::scan_events month by month and written as they are read: the
// memory used does not grow with the store. `start`/`end` export one range
// of time (one month, say) at a time.
//
// Thread-safety: export_store only reads the store (concurrent writes may
// or may not be seen, as for a query).
#ifndef USAGEDB_EXPORT_EXPORT_H_
#define USAGEDB_EXPORT_EXPORT_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "usagedb/event_store.h"

namespace usagedb::exporting {

enum class ExportTarget { kClickHouse, kTinybird };

struct ExportOptions {
  ExportTarget target = ExportTarget::kClickHouse;
  // Created (with parents) when missing. Files of the same names are
  // replaced; nothing else in it is touched.
  std::string out_dir;
  // Only events whose timestamp is in [start, end).
  std::optional<Timestamp> start;
  std::optional<Timestamp> end;
  // Skip the events (the schema and endpoints only).
  bool events = true;
  // Called after each page of events written, with the count so far.
  std::function<void(uint64_t events)> progress;
};

struct ExportReport {
  uint64_t events = 0;
  uint64_t event_bytes = 0;          // of the NDJSON file
  std::vector<std::string> files;    // every file written, relative to out_dir
};

// Writes the export. Errors: InvalidArgumentError for an empty out_dir or
// end <= start; the file system's, naming the path; scan_events'.
absl::StatusOr<ExportReport> export_store(const EventStore& store, const ExportOptions& options);

}  // namespace usagedb::exporting

#endif  // USAGEDB_EXPORT_EXPORT_H_
