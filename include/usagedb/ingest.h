// usagedb/ingest.h: what an ingest call reports, and the quarantine's rows.
//
// Ingesting NDJSON or CSV never fails because of one bad line: a line that
// breaks SPEC 1.1's rules is quarantined (kept with its text, line number and
// a readable error) and the other lines are stored.
//
//   auto report = store->ingest_ndjson(body);
//   // report->successful_rows + quarantined_rows + duplicate_rows
//   //   == number of non-blank lines
//
// Thread-safety: plain values.
#ifndef USAGEDB_INGEST_H_
#define USAGEDB_INGEST_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "usagedb/event.h"

namespace usagedb {

// Tinybird's names, plus duplicates skipped by SPEC 1.3's dedup.
struct IngestReport {
  uint64_t successful_rows = 0;   // rows stored
  uint64_t quarantined_rows = 0;  // rows rejected into the quarantine
  uint64_t duplicate_rows = 0;    // rows whose event_id was already stored

  IngestReport& operator+=(const IngestReport& other) {
    successful_rows += other.successful_rows;
    quarantined_rows += other.quarantined_rows;
    duplicate_rows += other.duplicate_rows;
    return *this;
  }
  friend bool operator==(const IngestReport&, const IngestReport&) = default;
};

enum class InputFormat {
  kNdjson,  // one JSON object per line (the Events API body)
  kCsv,     // RFC 4180 with a header row; columns matched by name
};

// How to read an input given as text (EventStore::ingest).
struct IngestOptions {
  InputFormat format = InputFormat::kNdjson;
  std::string_view source;  // named in quarantined rows, e.g. "events API"
};

// How to read an input file (EventStore::ingest_file).
struct IngestFileOptions {
  InputFormat format = InputFormat::kNdjson;
  // Called now and then from the ingesting thread with the bytes read so far
  // and the file's size (0 when unknown, e.g. a pipe).
  std::function<void(uint64_t bytes_read, uint64_t bytes_total)> progress;
};

// Where EventStore::ingest_stream reads its input: fills `buffer` with up to
// `size` (> 0) bytes and returns how many, 0 only at the end of the input.
// An error ends the ingest, which returns it. Called from the store's reading
// threads, one call at a time, and never again after it returned 0 or an
// error.
using InputSource = std::function<absl::StatusOr<size_t>(char* buffer, size_t size)>;

// How to read a stream (EventStore::ingest_stream).
struct IngestStreamOptions {
  InputFormat format = InputFormat::kNdjson;
  std::string_view source;  // named in quarantined rows, e.g. "datasources API import <id>"; "" = "input"
  // The input's size when known beforehand (0 = unknown): a large input goes
  // the bulk way (see EventStore::ingest_stream) from its first byte.
  uint64_t size_hint = 0;
  // As IngestFileOptions::progress (bytes_total is size_hint).
  std::function<void(uint64_t bytes_read, uint64_t bytes_total)> progress;
};

// SPEC 1.2: one rejected input row.
struct QuarantinedRow {
  std::string source;                // IngestOptions::source of its input
  uint64_t line = 0;                 // 1-based line number in that input
  std::string raw;                   // the line's text as given
  std::vector<std::string> columns;  // the columns at fault; empty when the
                                     // line as a whole is unusable
  std::string error;                 // e.g. "timestamp: '2025-13-01 00:00:00'
                                     // is not a valid DateTime"
  Timestamp inserted_at;             // when it was quarantined
};

}  // namespace usagedb

#endif  // USAGEDB_INGEST_H_
