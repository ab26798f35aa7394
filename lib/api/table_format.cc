#include "lib/api/table_format.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/util/display_width.h"
#include "lib/util/utf8.h"

namespace usagedb::api::internal {
namespace {

constexpr char kHex[] = "0123456789ABCDEF";
constexpr std::string_view kHorizontal = "─";

void append_repeated(std::string_view s, size_t n, std::string* out) {
  for (size_t i = 0; i < n; ++i) out->append(s);
}

void append_byte_escape(unsigned char c, std::string* out) {
  *out += "\\x";
  out->push_back(kHex[c >> 4]);
  out->push_back(kHex[c & 15]);
}

// Code points that would move the cursor or reorder the line if printed.
bool needs_code_point_escape(char32_t cp) {
  return (cp >= 0x80 && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 || (cp >= 0x202A && cp <= 0x202E) ||
         (cp >= 0x2066 && cp <= 0x2069);
}

bool is_right_aligned(ColumnType t) { return t == ColumnType::kUInt64 || t == ColumnType::kFloat64; }

}  // namespace

std::string terminal_text(std::string_view s) {
  const bool printable_ascii = std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7F; });
  if (printable_ascii) return std::string(s);
  std::string out;
  out.reserve(s.size() + 8);
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
          if (c < 0x20 || c == 0x7F) {
            append_byte_escape(c, &out);
          } else {
            out.push_back(static_cast<char>(c));
          }
      }
      ++i;
      continue;
    }
    const text::Utf8Char u = text::decode_utf8(s, i);
    if (u.length == 0) {
      append_byte_escape(c, &out);
      ++i;
    } else if (needs_code_point_escape(u.code_point)) {
      out += "\\u";
      for (int shift = 12; shift >= 0; shift -= 4) out.push_back(kHex[(u.code_point >> shift) & 15]);
      i += u.length;
    } else {
      out.append(s.data() + i, u.length);
      i += u.length;
    }
  }
  return out;
}

std::vector<size_t> table_widths(const ResultTable& table) {
  std::vector<size_t> widths;
  widths.reserve(table.columns.size());
  for (const Column& column : table.columns) widths.push_back(text::display_width(terminal_text(column.name)));
  for (const std::vector<Cell>& row : table.rows) {
    for (size_t i = 0; i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], text::display_width(terminal_text(cell_text(row[i], table.columns[i].time_zone))));
    }
  }
  return widths;
}

void append_table_header(const ResultTable& table, std::span<const size_t> widths, std::string* out) {
  if (table.columns.empty()) return;
  for (size_t i = 0; i < table.columns.size(); ++i) {
    *out += i == 0 ? "┌" : "┬";
    const std::string name = terminal_text(table.columns[i].name);
    const size_t fill = widths[i] - text::display_width(name);
    *out += kHorizontal;
    if (is_right_aligned(table.columns[i].type)) append_repeated(kHorizontal, fill, out);
    *out += name;
    if (!is_right_aligned(table.columns[i].type)) append_repeated(kHorizontal, fill, out);
    *out += kHorizontal;
  }
  *out += "┐\n";
}

void append_table_rows(const ResultTable& table, std::span<const size_t> widths, size_t begin, size_t end,
                       std::string* out) {
  if (table.columns.empty()) return;
  for (size_t r = begin; r < end; ++r) {
    const std::vector<Cell>& row = table.rows[r];
    *out += "│";
    for (size_t i = 0; i < table.columns.size(); ++i) {
      const std::string value = terminal_text(cell_text(row[i], table.columns[i].time_zone));
      const size_t fill = widths[i] - text::display_width(value);
      out->push_back(' ');
      if (is_right_aligned(table.columns[i].type)) out->append(fill, ' ');
      *out += value;
      if (!is_right_aligned(table.columns[i].type)) out->append(fill, ' ');
      *out += " │";
    }
    out->push_back('\n');
  }
}

void append_table_footer(const ResultTable& table, std::span<const size_t> widths, std::string* out) {
  if (!table.columns.empty()) {
    for (size_t i = 0; i < widths.size(); ++i) {
      *out += i == 0 ? "└" : "┴";
      append_repeated(kHorizontal, widths[i] + 2, out);
    }
    *out += "┘\n";
  }
  const size_t rows = table.rows.size();
  absl::StrAppend(out, rows, rows == 1 ? " row" : " rows");
  if (table.limit_given || table.rows_before_limit != rows) {
    absl::StrAppend(out, " (", table.rows_before_limit, " before limit)");
  }
  absl::StrAppend(out, ", ", format_elapsed(table.statistics.elapsed_seconds), "\n");
}

std::string format_elapsed(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) seconds = 0;
  const bool whole_seconds = seconds >= 1;
  const double value = whole_seconds ? seconds : seconds * 1000;
  const int decimals = value >= 100 ? 0 : value >= 10 ? 1 : value >= 1 ? 2 : 3;
  return absl::StrFormat("%.*f %s", decimals, value, whole_seconds ? "s" : "ms");
}

}  // namespace usagedb::api::internal
