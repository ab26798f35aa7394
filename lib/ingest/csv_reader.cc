#include "lib/ingest/csv_reader.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>

#include "absl/strings/str_cat.h"
#include "lib/ingest/validate.h"
#include "lib/util/text.h"

namespace usagedb {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

bool is_trimmed_space(char c) { return c == ' ' || c == '\t'; }

bool is_blank(std::string_view s) {
  for (const char c : s) {
    if (c != ' ' && c != '\t' && c != '\r') return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_trimmed_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_trimmed_space(s.back())) s.remove_suffix(1);
  return s;
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (const char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

bool CsvReader::scan_record(std::string_view text, size_t pos, bool final, Record* record) {
  fields_.clear();
  *record = Record{};
  const size_t n = text.size();
  const char* s = text.data();
  size_t i = pos;
  for (;;) {
    Field field;
    if (i < n && s[i] == '"') {
      field.quoted = true;
      field.begin = ++i;
      for (;;) {
        const void* quote = std::memchr(s + i, '"', n - i);
        if (quote == nullptr) {
          if (!final) return false;
          // Open to the end of the input: the rest is this one record.
          field.end = n;
          fields_.push_back(field);
          record->newlines += static_cast<uint64_t>(std::count(s + field.begin, s + n, '\n'));
          record->malformed = absl::StrCat("field ", fields_.size(), ": quoted field not closed by the end of the input");
          record->next = n;
          record->end = n;
          if (record->end > pos && s[record->end - 1] == '\n') --record->end;
          if (record->end > pos && s[record->end - 1] == '\r') --record->end;
          return true;
        }
        i = static_cast<size_t>(static_cast<const char*>(quote) - s);
        if (i + 1 < n && s[i + 1] == '"') {
          field.escaped_quotes = true;
          i += 2;
          continue;
        }
        field.end = i++;
        break;
      }
      record->newlines += static_cast<uint64_t>(std::count(s + field.begin, s + field.end, '\n'));
      const bool at_boundary =
          i >= n || s[i] == ',' || s[i] == '\n' || (s[i] == '\r' && (i + 1 >= n || s[i + 1] == '\n'));
      if (!at_boundary) {
        if (record->malformed.empty()) {
          record->malformed = absl::StrCat("field ", fields_.size() + 1, ": unexpected text after the closing quote");
        }
        while (i < n && s[i] != ',' && s[i] != '\n') ++i;
      }
    } else {
      field.begin = i;
      while (i < n && s[i] != ',' && s[i] != '\n') ++i;
      field.end = i;
      if (i < n && s[i] == '\n' && field.end > field.begin && s[field.end - 1] == '\r') --field.end;
    }
    fields_.push_back(field);
    if (i >= n) {
      if (!final) return false;
      record->end = n;
      if (record->end > pos && s[record->end - 1] == '\r') --record->end;
      record->next = n;
      return true;
    }
    if (s[i] == ',') {
      ++i;
      continue;
    }
    // The end of the record: '\n', or after a closing quote "\r\n" or a
    // '\r' that ends the input.
    if (s[i] == '\r') {
      if (i + 1 >= n) {
        if (!final) return false;
        record->end = i;
        record->next = n;
        return true;
      }
      ++i;
    }
    record->end = i > pos && s[i - 1] == '\r' ? i - 1 : i;
    record->next = i + 1;
    ++record->newlines;
    return true;
  }
}

std::string_view CsvReader::value(std::string_view text, const Field& field, ParsedBatch* out) const {
  std::string_view v = text.substr(field.begin, field.end - field.begin);
  if (!field.quoted) return trim(v);
  if (!field.escaped_quotes) return v;
  char* dst = out->storage.reserve(v.size());
  size_t n = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    dst[n++] = v[i];
    if (v[i] == '"') ++i;  // the second quote of a "" pair
  }
  out->storage.commit(n);
  return {dst, n};
}

size_t CsvReader::parse(std::string_view text, bool final, ParsedBatch* out) {
  out->clear();
  size_t pos = 0;
  if (at_start_ && text.substr(0, kBom.size()) == kBom) pos = kBom.size();
  size_t consumed = 0;
  Record record;
  while (pos < text.size()) {
    if (!scan_record(text, pos, final, &record)) break;
    const uint64_t line = lines_ + 1;
    lines_ += record.newlines;  // short by one only after a last record without '\n'

    const std::string_view raw = text.substr(pos, record.end - pos);
    const bool blank = fields_.size() == 1 && !fields_[0].quoted && is_blank(raw);
    if (!blank) {
      if (header_state_ == HeaderState::kNone) {
        read_header(text, line, raw, record, out);
      } else {
        read_data(text, line, raw, record, out);
      }
    }
    pos = record.next;
    consumed = pos;
  }
  if (final) consumed = text.size();
  if (consumed > 0) at_start_ = false;
  return consumed;
}

void CsvReader::read_header(std::string_view text, uint64_t line, std::string_view raw, const Record& record,
                            ParsedBatch* out) {
  header_line_ = line;
  if (!record.malformed.empty()) {
    header_state_ = HeaderState::kBroken;
    return reject_record(line, raw, absl::StrCat("CSV header: ", record.malformed), out);
  }
  header_state_ = HeaderState::kReady;
  header_fields_ = fields_.size();
  column_field_.fill(-1);
  std::vector<bool> repeated(kTableColumns, false);
  for (size_t i = 0; i < fields_.size(); ++i) {
    // Header names are never kept past this call: decode into the batch.
    const std::string_view name = trim(value(text, fields_[i], out));
    const std::optional<TableColumn> column = column_by_name(name);
    if (!column.has_value()) continue;
    int& at = column_field_[static_cast<int>(*column)];
    if (at >= 0) repeated[static_cast<int>(*column)] = true;
    at = static_cast<int>(i);
  }
  for (int c = 0; c < kTableColumns; ++c) {
    const auto column = static_cast<TableColumn>(c);
    std::string_view why;
    if (repeated[c]) {
      why = "named more than once in the CSV header";
    } else if (is_required(column) && column_field_[c] < 0) {
      why = "missing from the CSV header";
    } else {
      continue;
    }
    header_columns_.emplace_back(column_name(column));
    if (!header_error_.empty()) header_error_ += "; ";
    absl::StrAppend(&header_error_, text::absl_view(column_name(column)), ": ", text::absl_view(why));
  }
  if (!header_error_.empty()) {
    absl::StrAppend(&header_error_, " (line ", line, ")");
  }
}

void CsvReader::read_data(std::string_view text, uint64_t line, std::string_view raw, const Record& record,
                          ParsedBatch* out) {
  if (!record.malformed.empty()) return reject_record(line, raw, absl::StrCat("malformed CSV: ", record.malformed), out);
  if (header_state_ == HeaderState::kBroken) {
    return reject_record(line, raw, absl::StrCat("no usable CSV header (line ", header_line_, " was rejected)"), out);
  }
  if (!text::is_valid_utf8(raw)) return reject_record(line, raw, "invalid UTF-8", out);
  if (!header_error_.empty()) {
    ++out->records;
    RejectedRow& row = out->rejected.emplace_back();
    row.line = line;
    row.raw.assign(raw);
    row.columns = header_columns_;
    row.error = header_error_;
    return;
  }
  if (fields_.size() != header_fields_) {
    return reject_record(line, raw, absl::StrCat("expected ", header_fields_, " fields, got ", fields_.size()), out);
  }
  row_.start();
  for (int c = 0; c < kTableColumns; ++c) {
    const auto column = static_cast<TableColumn>(c);
    const int at = column_field_[c];
    if (at < 0) continue;  // an optional column the file does not have: absent
    const std::string_view v = value(text, fields_[static_cast<size_t>(at)], out);
    if (column != TableColumn::kTimestamp) {
      row_.set_string(column, v);
      continue;
    }
    if (v.empty()) {
      row_.fail(column, "must not be empty");
    } else if (all_digits(v)) {
      // Unix seconds; 19 digits or more cannot be in range (nor fit int64).
      int64_t seconds = 0;
      for (const char d : v.substr(0, 18)) seconds = seconds * 10 + (d - '0');
      const Timestamp t{std::chrono::seconds{seconds}};
      if (v.size() > 18) {
        row_.fail(column, absl::StrCat(text::excerpt(v),
                                       " seconds is outside the DateTime range 1970-01-01 00:00:00 to 2105-12-31 "
                                       "23:59:59 UTC"));
      } else if (std::optional<FieldError> range = validate_timestamp(t)) {
        row_.fail(column, std::move(range->message));
      } else {
        row_.set_timestamp(t);
      }
    } else if (absl::StatusOr<Timestamp> t = parse_timestamp(v); t.ok()) {
      row_.set_timestamp(*t);
    } else {
      row_.fail(column, std::string(t.status().message()));
    }
  }
  row_.finish(line, raw, out);
}

std::unique_ptr<RecordReader> make_csv_reader() { return std::make_unique<CsvReader>(); }

}  // namespace usagedb
