// ResultWriter and the json, csv and ndjson formats (lib/api/format.h); the
// table format is in table_format.cc.
#include "lib/api/format.h"

#include <cassert>
#include <charconv>
#include <cmath>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/api/table_format.h"
#include "lib/util/json_escape.h"
#include "lib/util/text.h"

namespace usagedb::api {
namespace {

constexpr std::string_view kFormatNames[] = {"json", "csv", "ndjson", "table"};

// A JSON number of seconds in plain decimal notation, never an exponent (as
// ClickHouse writes `elapsed`): the shortest digits that read back as the
// same double.
void append_seconds(double seconds, std::string* out) {
  if (!std::isfinite(seconds) || seconds < 0) seconds = 0;
  char buf[400];  // fixed notation of a double needs at most ~330 characters
  const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), seconds, std::chars_format::fixed);
  if (ec != std::errc{}) {
    out->push_back('0');
    return;
  }
  out->append(buf, end);
}

// A value as JSON: strings, Dates and DateTimes quoted, numbers bare (a
// Float64 that is not finite as null, as ClickHouse writes it by default).
void append_json_value(const Cell& cell, const Column& column, std::string* out) {
  if (const auto* s = std::get_if<std::string>(&cell)) {
    text::append_json_string(*s, out);
  } else if (const auto* n = std::get_if<uint64_t>(&cell)) {
    absl::StrAppend(out, *n);
  } else if (const auto* d = std::get_if<double>(&cell)) {
    *out += std::isfinite(*d) ? format_float64(*d) : std::string("null");
  } else {
    text::append_json_string(cell_text(cell, column.time_zone), out);
  }
}

// {"name":value,...}: a row of json's `data` and a line of ndjson.
void append_json_object(const ResultTable& table, const std::vector<Cell>& row, std::string* out) {
  out->push_back('{');
  for (size_t i = 0; i < table.columns.size(); ++i) {
    if (i > 0) out->push_back(',');
    text::append_json_string(table.columns[i].name, out);
    out->push_back(':');
    append_json_value(row[i], table.columns[i], out);
  }
  out->push_back('}');
}

// One CSV field, quoted: every String and DateTime is, as in ClickHouse's
// CSVWithNames, with inner quotes doubled (RFC 4180).
void append_csv_quoted(std::string_view s, std::string* out) {
  out->push_back('"');
  for (const char c : s) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

// Numbers bare; strings, Dates and DateTimes quoted.
void append_csv_value(const Cell& cell, const Column& column, std::string* out) {
  if (const auto* n = std::get_if<uint64_t>(&cell)) {
    absl::StrAppend(out, *n);
  } else if (const auto* d = std::get_if<double>(&cell)) {
    *out += format_float64(*d);
  } else {
    append_csv_quoted(cell_text(cell, column.time_zone), out);
  }
}

void append_json_header(const ResultTable& table, std::string* out) {
  *out += "{\"meta\":[";
  for (size_t i = 0; i < table.columns.size(); ++i) {
    if (i > 0) out->push_back(',');
    *out += "{\"name\":";
    text::append_json_string(table.columns[i].name, out);
    const Column& column = table.columns[i];
    *out += ",\"type\":";
    if (column.type == ColumnType::kDateTime && !column.time_zone.empty() && column.time_zone != "UTC") {
      text::append_json_string(absl::StrCat("DateTime('", column.time_zone, "')"), out);
    } else {
      text::append_json_string(column_type_name(column.type), out);
    }
    out->push_back('}');
  }
  *out += "],\"data\":[";
}

void append_json_footer(const ResultTable& table, std::string* out) {
  absl::StrAppend(out, "],\"rows\":", table.rows.size());
  if (table.limit_given) absl::StrAppend(out, ",\"rows_before_limit_at_least\":", table.rows_before_limit);
  *out += ",\"statistics\":{\"elapsed\":";
  append_seconds(table.statistics.elapsed_seconds, out);
  absl::StrAppend(out, ",\"rows_read\":", table.statistics.rows_read,
                  ",\"bytes_read\":", table.statistics.bytes_read, "}}\n");
}

}  // namespace

absl::StatusOr<OutputFormat> parse_output_format(std::string_view name) {
  for (const OutputFormat f : {OutputFormat::kJson, OutputFormat::kCsv, OutputFormat::kNdjson, OutputFormat::kTable}) {
    if (name == output_format_name(f)) return f;
  }
  std::string known;
  for (const std::string_view n : kFormatNames) absl::StrAppend(&known, known.empty() ? "" : ", ", text::absl_view(n));
  return absl::InvalidArgumentError(
      absl::StrCat("unknown output format '", text::excerpt(name), "': expected one of ", known));
}

std::string_view output_format_name(OutputFormat f) { return kFormatNames[static_cast<size_t>(f)]; }

std::string_view content_type(OutputFormat f) {
  switch (f) {
    case OutputFormat::kJson: return "application/json";
    case OutputFormat::kCsv: return "text/csv; charset=utf-8";
    case OutputFormat::kNdjson: return "application/x-ndjson";
    case OutputFormat::kTable: return "text/plain; charset=utf-8";
  }
  return "application/octet-stream";
}

ResultWriter::ResultWriter(OutputFormat format, const ResultTable& table) : format_(format), table_(table) {
  if (format_ == OutputFormat::kTable) widths_ = internal::table_widths(table_);
}

void ResultWriter::append_header(std::string* out) const {
  switch (format_) {
    case OutputFormat::kJson:
      append_json_header(table_, out);
      break;
    case OutputFormat::kCsv:
      for (size_t i = 0; i < table_.columns.size(); ++i) {
        if (i > 0) out->push_back(',');
        append_csv_quoted(table_.columns[i].name, out);
      }
      out->push_back('\n');
      break;
    case OutputFormat::kNdjson:
      break;
    case OutputFormat::kTable:
      internal::append_table_header(table_, widths_, out);
      break;
  }
}

void ResultWriter::append_rows(size_t begin, size_t end, std::string* out) const {
  assert(begin <= end && end <= table_.rows.size());
  if (format_ == OutputFormat::kTable) {
    internal::append_table_rows(table_, widths_, begin, end, out);
    return;
  }
  for (size_t r = begin; r < end; ++r) {
    const std::vector<Cell>& row = table_.rows[r];
    assert(row.size() == table_.columns.size());
    switch (format_) {
      case OutputFormat::kJson:
        if (r > 0) out->push_back(',');
        append_json_object(table_, row, out);
        break;
      case OutputFormat::kNdjson:
        append_json_object(table_, row, out);
        out->push_back('\n');
        break;
      case OutputFormat::kCsv:
        for (size_t i = 0; i < row.size(); ++i) {
          if (i > 0) out->push_back(',');
          append_csv_value(row[i], table_.columns[i], out);
        }
        out->push_back('\n');
        break;
      case OutputFormat::kTable:
        break;
    }
  }
}

void ResultWriter::append_footer(std::string* out) const {
  switch (format_) {
    case OutputFormat::kJson:
      append_json_footer(table_, out);
      break;
    case OutputFormat::kTable:
      internal::append_table_footer(table_, widths_, out);
      break;
    case OutputFormat::kCsv:
    case OutputFormat::kNdjson:
      break;
  }
}

void append_result(OutputFormat format, const ResultTable& table, std::string* out) {
  const ResultWriter writer(format, table);
  writer.append_header(out);
  writer.append_rows(0, table.rows.size(), out);
  writer.append_footer(out);
}

void append_json_error(std::string_view message, std::string* out) {
  *out += "{\"error\": ";
  text::append_json_string(message, out);
  out->push_back('}');
}

}  // namespace usagedb::api
