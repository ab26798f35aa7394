// ParsedBatch: what a RecordReader (record_reader.h) makes of a chunk of
// NDJSON or CSV input: the valid events, ready for the store, and the
// rejected records, ready for the quarantine (SPEC 1.1, 1.2).
//
//   ParsedBatch batch;
//   size_t used = reader->parse(text, /*final=*/true, &batch);
//   for (size_t i = 0; i < batch.events.size(); ++i)
//     store(batch.events[i], batch.event_lines[i]);
//   for (const RejectedRow& r : batch.rejected) quarantine(r);
//
// Invariants: every event passes validate_event() (validate.h), and
// records == events.size() + rejected.size().
//
// Thread-safety: a plain value; not safe for concurrent mutation.
#ifndef USAGEDB_INGEST_PARSED_BATCH_H_
#define USAGEDB_INGEST_PARSED_BATCH_H_

#include <cstdint>
#include <string>
#include <vector>

#include "lib/ingest/string_arena.h"
#include "usagedb/event.h"

namespace usagedb {

// One input record rejected by SPEC 1.1's rules (the store adds source and
// insertion time).
struct RejectedRow {
  uint64_t line = 0;                 // 1-based line number where the record starts in its input
  std::string raw;                   // the record's text as given (without the line terminator)
  std::vector<std::string> columns;  // the columns at fault, in table column order; empty when the
                                     // line as a whole is unusable (not JSON, not an object, bad UTF-8)
  std::string error;                 // readable, e.g. "timestamp: '2025-13-01 00:00:00' is not a
                                     // valid DateTime: month must be 01..12"
};

// The result of parsing a chunk of input. Move-only: the events' views may
// point into `storage`.
struct ParsedBatch {
  std::vector<Event> events;          // valid events in input order; their string_views point into the
                                      // input text or into `storage`, valid until the batch is
                                      // cleared/reused or destroyed (and the input text lives)
  std::vector<uint64_t> event_lines;  // line number of each event
  std::vector<RejectedRow> rejected;  // in input order
  uint64_t records = 0;               // non-blank records seen = events.size() + rejected.size()

  // Decoded strings (JSON escapes, CSV "" quotes, compacted metadata) that
  // are not a substring of the input. Never moves bytes while views point
  // into it.
  StringArena storage;

  // Empties the batch, keeping its memory for the next chunk.
  void clear();
};

}  // namespace usagedb

#endif  // USAGEDB_INGEST_PARSED_BATCH_H_
