// Encoding of events and quarantined rows as bytes: the payload of a
// write-ahead log record (a batch of recorded events, as given, before
// dedup, so replay makes the same decisions) and of a quarantine log record.
//
// Event batch: varint count, then per event: varint timestamp (Unix
// seconds) and 7 length-prefixed strings in column order (event_id, user_id,
// feature_id, product_version, event_type, session_id, metadata).
// Quarantined row: varint line, varint inserted_at, length-prefixed source,
// raw and error, varint column count and length-prefixed columns.
//
// Thread-safety: pure functions.
#ifndef USAGEDB_STORAGE_EVENT_CODEC_H_
#define USAGEDB_STORAGE_EVENT_CODEC_H_

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "usagedb/event.h"
#include "usagedb/ingest.h"

namespace usagedb::storage {

void encode_events(std::span<const Event> events, std::string* out);
void encode_events(std::span<const Event* const> events, std::string* out);

// The events' strings view into `bytes`. DataLossError (naming `where`) for
// malformed bytes or an event that is not valid (validate_event).
absl::StatusOr<std::vector<Event>> decode_events(std::string_view bytes, std::string_view where);

void encode_quarantined_row(const QuarantinedRow& row, std::string* out);
absl::StatusOr<QuarantinedRow> decode_quarantined_row(std::string_view bytes, std::string_view where);

}  // namespace usagedb::storage

#endif  // USAGEDB_STORAGE_EVENT_CODEC_H_
