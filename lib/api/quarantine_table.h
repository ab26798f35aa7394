// The quarantine (SPEC 1.2) as a ResultTable, so `usagedb quarantine` and the
// HTTP API's `GET /v0/pipes/feature_events_quarantine.{json,csv,ndjson}`
// write it with the same formats (lib/api/format.h), byte for byte.
//
//   ResultTable t = quarantine_table(std::move(*store->quarantine()), /*limit=*/100, /*skip=*/{});
//
// Columns: inserted_at DateTime, source String, line UInt64, columns String
// (the columns at fault, comma-separated), error String, raw String; rows
// oldest first.
//
// Thread-safety: pure function.
#ifndef USAGEDB_API_QUARANTINE_TABLE_H_
#define USAGEDB_API_QUARANTINE_TABLE_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "lib/api/result_table.h"
#include "usagedb/ingest.h"

namespace usagedb::api {

// The rows after `skip`, at most `limit` of them (SPEC 2.4's paging);
// rows_before_limit and statistics.rows_read count them all (elapsed is the
// caller's to set).
ResultTable quarantine_table(std::vector<QuarantinedRow> rows, std::optional<uint64_t> limit = std::nullopt,
                             std::optional<uint64_t> skip = std::nullopt);

}  // namespace usagedb::api

#endif  // USAGEDB_API_QUARANTINE_TABLE_H_
