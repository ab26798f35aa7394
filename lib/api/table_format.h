// The `table` output format's pieces (lib/api/format.h): a ClickHouse
// PrettyCompact-style box of aligned columns for a terminal.
//
//   ┌─feature_id─┬─events─┐
//   │ feature_16 │     12 │
//   └────────────┴────────┘
//   1 row, 0.312 ms
//
// Internal to lib/api; ResultWriter is the interface. Thread-safety: pure
// functions.
#ifndef USAGEDB_API_TABLE_FORMAT_H_
#define USAGEDB_API_TABLE_FORMAT_H_

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lib/api/result_table.h"

namespace usagedb::api::internal {

// `s` made safe to print on a terminal, one line: \n \r \t as those two
// characters, other control bytes (C0, DEL) and bytes that are not
// well-formed UTF-8 as \xNN, and C1 controls, U+2028/U+2029 and the bidi
// embedding/override/isolate controls as \uXXXX.
std::string terminal_text(std::string_view s);

// Each column's width in display columns: the widest of its name and cells,
// as terminal_text shows them.
std::vector<size_t> table_widths(const ResultTable& table);

// The top border, with the column names in it. Nothing for zero columns.
void append_table_header(const ResultTable& table, std::span<const size_t> widths, std::string* out);

// Rows [begin, end): strings and DateTimes left-aligned, numbers right-aligned.
void append_table_rows(const ResultTable& table, std::span<const size_t> widths, size_t begin, size_t end,
                       std::string* out);

// The bottom border and the summary line:
//   "3 rows, 1.23 ms" or "3 rows (12 before limit), 1.23 ms"
// (the part in parentheses when a limit was given or skip dropped rows).
void append_table_footer(const ResultTable& table, std::span<const size_t> widths, std::string* out);

// Elapsed time with three significant digits: "0.042 ms", "1.23 ms",
// "12.3 ms", "123 ms", "1.23 s". Negative or non-finite values print as 0.
std::string format_elapsed(double seconds);

}  // namespace usagedb::api::internal

#endif  // USAGEDB_API_TABLE_FORMAT_H_
