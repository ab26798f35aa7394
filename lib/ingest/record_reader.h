// RecordReader: turns NDJSON or CSV input into events and rejected records
// (SPEC 1.1), chunk by chunk, so an input of any size is parsed in bounded
// memory. docs/INGEST.md lists every accepted and rejected form.
//
//   std::unique_ptr<RecordReader> reader = make_ndjson_reader();
//   ParsedBatch batch;
//   std::string pending;                       // unconsumed input
//   while (read_more(&pending, &eof)) {
//     size_t used = reader->parse(pending, eof, &batch);
//     consume(batch);                          // before the next parse() reuses it
//     pending.erase(0, used);
//   }
//
// Thread-safety: a reader is not thread-safe; use one per input (and per
// thread).
#ifndef USAGEDB_INGEST_RECORD_READER_H_
#define USAGEDB_INGEST_RECORD_READER_H_

#include <cstddef>
#include <memory>
#include <string_view>

#include "lib/ingest/parsed_batch.h"

namespace usagedb {

// Parses one input (a stream of NDJSON lines or a CSV file with a header
// row) chunk by chunk. Stateful: it counts lines across chunks, skips a UTF-8
// BOM at the very start of the input, and (CSV) remembers the header.
class RecordReader {
 public:
  virtual ~RecordReader() = default;

  // Parses the complete records at the front of `text` into *out (cleared
  // first) and returns the number of bytes consumed. The caller passes the
  // unconsumed rest again, followed by more input. When `final` is true,
  // `text` is the end of the input and everything is consumed (a last line
  // without '\n' is a record).
  //
  // The events' views point into `text`, into out->storage, or into the
  // reader (values it decoded before and keeps): `text` must stay alive and
  // unmodified, and the reader alive, while they are used. Returns 0 (and an
  // empty batch) when `text` holds no complete record yet.
  virtual size_t parse(std::string_view text, bool final, ParsedBatch* out) = 0;
};

// One JSON object per line (ndjson_reader.h).
std::unique_ptr<RecordReader> make_ndjson_reader();

// RFC 4180 with a header row naming the columns (csv_reader.h).
std::unique_ptr<RecordReader> make_csv_reader();

}  // namespace usagedb

#endif  // USAGEDB_INGEST_RECORD_READER_H_
