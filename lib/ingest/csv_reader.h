// CsvReader: the CSV reader behind make_csv_reader() (record_reader.h), for
// batch files like Tinybird's Data Sources API takes. docs/INGEST.md has the
// full list of accepted and rejected forms; the rules in brief:
//
// Records and fields (RFC 4180, with ClickHouse's leniencies):
//   - Records end with "\n" or "\r\n"; a UTF-8 BOM at the start of the input
//     is skipped; blank lines (only spaces, tabs, '\r') are skipped and are not
//     records, but count for line numbers.
//   - Fields are separated by ','. A field that starts with '"' is quoted: it
//     may hold ',', '"' written as '""', and newlines (the record then spans
//     lines; its line number is the line where it starts and `raw` is the
//     whole record text). A '"' inside an unquoted field is an ordinary byte.
//   - Unquoted values are trimmed of spaces and tabs at both ends (ClickHouse's
//     input_format_csv_trim_whitespaces); quoted values are kept as given.
//   - Text after a closing quote other than ',' or the end of the record
//     (`"ab"c`), or a quoted field still open at the end of the input, makes
//     the record malformed: rejected with no columns named.
//   - A record whose field count differs from the header's is rejected
//     ("expected 8 fields, got 7"); so is a record that is not valid UTF-8.
//
// The header:
//   - The first non-blank record names the columns; names are matched
//     exactly (case-sensitive, after trimming spaces and tabs), in any order;
//     unknown columns are ignored. The header is not a record.
//   - A header that lacks a required column (user_id, feature_id,
//     product_version, event_type, timestamp) or names a column twice makes
//     every data record rejected, naming those columns: nothing is dropped
//     silently. A malformed header record is itself rejected, and so is
//     every record after it.
//
// Values (all text):
//   - An empty value of an optional column (event_id, session_id, metadata),
//     or an optional column absent from the header, means absent ("").
//     An empty required value is "must not be empty".
//   - timestamp: any form parse_timestamp() accepts, or (as ClickHouse's CSV
//     reader does) a plain unsigned integer of Unix seconds.
//   - metadata is kept as given (it is not parsed as JSON).
//
//   std::unique_ptr<RecordReader> reader = make_csv_reader();
//   ParsedBatch batch;
//   reader->parse("user_id,feature_id,product_version,event_type,timestamp\n"
//                 "u1,f1,1.0.0,view,2025-05-11 10:23:03\n", /*final=*/true, &batch);
//
// Thread-safety: not thread-safe; one reader per input.
#ifndef USAGEDB_INGEST_CSV_READER_H_
#define USAGEDB_INGEST_CSV_READER_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lib/ingest/record_reader.h"
#include "lib/ingest/row_builder.h"

namespace usagedb {

class CsvReader final : public RecordReader {
 public:
  size_t parse(std::string_view text, bool final, ParsedBatch* out) override;

 private:
  // One field of the record being read, as offsets into the text.
  struct Field {
    size_t begin = 0;             // first byte of the value (after an opening quote)
    size_t end = 0;               // one past its last byte (before a closing quote)
    bool quoted = false;
    bool escaped_quotes = false;  // holds "" pairs to turn into "
  };
  // Where one record lies in the text.
  struct Record {
    size_t end = 0;         // end of the record's text, before its terminator
    size_t next = 0;        // where the next record starts
    uint64_t newlines = 0;  // '\n' bytes in [start, next)
    std::string malformed;  // why the record cannot be read; empty when fine
  };

  // Finds the record starting at text[pos] and fills fields_. False when it
  // is not complete in `text` and more input may follow.
  bool scan_record(std::string_view text, size_t pos, bool final, Record* record);
  // The value of a field: a view into `text`, or decoded into out->storage.
  std::string_view value(std::string_view text, const Field& field, ParsedBatch* out) const;
  void read_header(std::string_view text, uint64_t line, std::string_view raw, const Record& record,
                   ParsedBatch* out);
  void read_data(std::string_view text, uint64_t line, std::string_view raw, const Record& record,
                 ParsedBatch* out);

  enum class HeaderState { kNone, kReady, kBroken };

  std::vector<Field> fields_;
  HeaderState header_state_ = HeaderState::kNone;
  uint64_t header_line_ = 0;
  size_t header_fields_ = 0;
  std::array<int, kTableColumns> column_field_{};  // field index of each table column, -1 = absent
  std::vector<std::string> header_columns_;        // columns the header gets wrong
  std::string header_error_;                       // what is wrong with them; empty when nothing
  uint64_t lines_ = 0;                             // lines consumed so far
  bool at_start_ = true;                           // nothing consumed yet: a BOM may come
  RowBuilder row_;
};

}  // namespace usagedb

#endif  // USAGEDB_INGEST_CSV_READER_H_
