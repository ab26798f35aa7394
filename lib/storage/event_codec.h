// Encoding of events and quarantined rows as bytes: the payload of a
// write-ahead log record (a batch of recorded events, as given, before
// dedup, so replay makes the same decisions) and of a quarantine log record.
//
// Event batch: a zero byte, fixed64 first_sequence, varint count, then per
// event: varint timestamp (Unix seconds) and 7 length-prefixed strings in
// column order (event_id, user_id, feature_id, product_version, event_type,
// session_id, metadata). Event i of the batch arrived as number
// first_sequence + i (docs/STORAGE.md, "The arrival sequence"). Records
// written before arrival numbers existed start with the count instead (a
// batch is never empty, so never with a zero byte) and carry no number.
// Quarantined row: varint line, varint inserted_at, length-prefixed source,
// raw and error, varint column count and length-prefixed columns.
//
// Thread-safety: pure functions.
#ifndef USAGEDB_STORAGE_EVENT_CODEC_H_
#define USAGEDB_STORAGE_EVENT_CODEC_H_

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "usagedb/event.h"
#include "usagedb/ingest.h"

namespace usagedb::storage {

// REQUIRES: events not empty.
void encode_events(std::span<const Event> events, uint64_t first_sequence, std::string* out);
void encode_events(std::span<const Event* const> events, uint64_t first_sequence, std::string* out);

// Sets the first number of a record encode_events() made (writers encode
// before the store numbers the batch). REQUIRES: `record` is one.
void set_first_sequence(uint64_t first_sequence, std::string* record);

struct DecodedEvents {
  // The batch's first arrival number; nullopt for a record of the format
  // before them.
  std::optional<uint64_t> first_sequence;
  std::vector<Event> events;
};

// The events' strings view into `bytes`. DataLossError (naming `where`) for
// malformed bytes or an event that is not valid (validate_event).
absl::StatusOr<DecodedEvents> decode_events(std::string_view bytes, std::string_view where);

void encode_quarantined_row(const QuarantinedRow& row, std::string* out);
absl::StatusOr<QuarantinedRow> decode_quarantined_row(std::string_view bytes, std::string_view where);

}  // namespace usagedb::storage

#endif  // USAGEDB_STORAGE_EVENT_CODEC_H_
