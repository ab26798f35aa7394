// The output formats of SPEC section 3: json (Tinybird's endpoint response),
// csv, ndjson, and table (aligned columns for people). docs/OUTPUT.md shows
// each with an example and the reasons for its details.
//
// Writers append to a std::string, so a caller can send or flush the buffer
// whenever it likes. The simple way writes a whole result:
//
//   std::string out;
//   usagedb::api::append_result(OutputFormat::kCsv, table, &out);
//   fwrite(out.data(), 1, out.size(), stdout);
//
// A server that streams writes the header, the rows in chunks and the footer,
// sending `out` between the steps:
//
//   usagedb::api::ResultWriter writer(OutputFormat::kJson, table);
//   writer.append_header(&out);
//   for (size_t i = 0; i < table.rows.size(); i += 1000) {
//     writer.append_rows(i, std::min(i + 1000, table.rows.size()), &out);
//     send(out); out.clear();
//   }
//   writer.append_footer(&out);
//
// Thread-safety: the functions are pure; a ResultWriter is immutable after
// construction and may be used from several threads.
#ifndef USAGEDB_API_FORMAT_H_
#define USAGEDB_API_FORMAT_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/api/result_table.h"

namespace usagedb::api {

enum class OutputFormat { kJson, kCsv, kNdjson, kTable };

// "json", "csv", "ndjson" or "table" (exact, case-sensitive).
// InvalidArgumentError listing the formats otherwise.
absl::StatusOr<OutputFormat> parse_output_format(std::string_view name);

// The name parse_output_format accepts for `f`.
std::string_view output_format_name(OutputFormat f);

// The HTTP Content-Type of `f`: application/json, text/csv; charset=utf-8,
// application/x-ndjson, text/plain; charset=utf-8.
std::string_view content_type(OutputFormat f);

// Writes one ResultTable in one format, in three steps (see above). The
// concatenation of header, the rows in order and footer is the whole output;
// each row is written independently of the others, so rows can be split into
// any chunks. REQUIRES: `table` outlives the writer and does not change while
// it is in use; every row has one cell per column, of the column's type.
class ResultWriter {
 public:
  ResultWriter(OutputFormat format, const ResultTable& table);

  // json: `{"meta":[...],"data":[`; csv: the header line; table: the top
  // border with the column names; ndjson: nothing.
  void append_header(std::string* out) const;

  // Rows [begin, end). REQUIRES: begin <= end <= table.rows.size().
  void append_rows(size_t begin, size_t end, std::string* out) const;

  // json: `],"rows":N,...,"statistics":{...}}` and a newline; table: the
  // bottom border and "3 rows (12 before limit), 1.23 ms"; csv, ndjson:
  // nothing.
  void append_footer(std::string* out) const;

 private:
  OutputFormat format_;
  const ResultTable& table_;
  std::vector<size_t> widths_;  // table format: each column's width in display columns
};

// Header, every row and footer.
void append_result(OutputFormat format, const ResultTable& table, std::string* out);

// The HTTP API's error body (SPEC 3): `{"error": "<message, JSON-escaped>"}`.
void append_json_error(std::string_view message, std::string* out);

}  // namespace usagedb::api

#endif  // USAGEDB_API_FORMAT_H_
