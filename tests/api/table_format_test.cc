// The `table` format byte for byte: borders, alignment by display width
// (CJK, emoji, combining marks), escaped control characters, empty results,
// the footer's wording, and the elapsed time.
#include "lib/api/table_format.h"

#include <limits>
#include <string>

#include "gtest/gtest.h"
#include "lib/api/format.h"
#include "tests/testutil/helpers.h"

namespace usagedb::api {
namespace {

using internal::format_elapsed;
using internal::terminal_text;

using ::usagedb::testing::at;

std::string render(const ResultTable& t) {
  std::string out;
  append_result(OutputFormat::kTable, t, &out);
  return out;
}

ResultTable summary_like() {
  ResultTable t;
  t.columns = {{"feature_id", ColumnType::kString}, {"events", ColumnType::kUInt64}, {"first_seen", ColumnType::kDateTime}};
  t.rows = {{std::string("search"), uint64_t{12}, at("2025-01-01 10:00:00")},
            {std::string("x"), uint64_t{7}, at("2025-01-02 00:00:00")},
            {std::string(""), uint64_t{1234567}, at("2025-01-03 00:00:00")}};
  t.rows_before_limit = 3;
  t.statistics.elapsed_seconds = 0.00123;
  return t;
}

TEST(TableFormat, AlignsStringsLeftAndNumbersRight) {
  EXPECT_EQ(render(summary_like()),
            "┌─feature_id─┬──events─┬─first_seen──────────┐\n"
            "│ search     │      12 │ 2025-01-01 10:00:00 │\n"
            "│ x          │       7 │ 2025-01-02 00:00:00 │\n"
            "│            │ 1234567 │ 2025-01-03 00:00:00 │\n"
            "└────────────┴─────────┴─────────────────────┘\n"
            "3 rows, 1.23 ms\n");
}

TEST(TableFormat, WideCharactersTakeTwoColumnsAndMarksNone) {
  ResultTable t;
  t.columns = {{"名前", ColumnType::kString}, {"n", ColumnType::kUInt64}};
  t.rows = {{std::string("機能"), uint64_t{1}},         // 2 wide: 4 columns
            {std::string("🚀👍🏽"), uint64_t{22}},       // emoji, one with a skin tone: 4 columns
            {std::string("e\u0301te\u0301"), uint64_t{3}},  // combining accents: 3 columns
            {std::string("abcde"), uint64_t{4}}};
  t.rows_before_limit = 4;
  EXPECT_EQ(render(t),
            "┌─名前──┬──n─┐\n"
            "│ 機能  │  1 │\n"
            "│ 🚀👍🏽  │ 22 │\n"
            "│ e\u0301te\u0301   │  3 │\n"
            "│ abcde │  4 │\n"
            "└───────┴────┘\n"
            "4 rows, 0.000 ms\n");
}

TEST(TableFormat, EscapesControlCharactersSoEachRowIsOneLine) {
  ResultTable t;
  t.columns = {{"s", ColumnType::kString}};
  t.rows = {{std::string("a\nb\tc\rd")}, {std::string("\x1B[31mred")}, {std::string("bad\xFF")}};
  t.rows_before_limit = 3;
  EXPECT_EQ(render(t),
            "┌─s───────────┐\n"
            "│ a\\nb\\tc\\rd  │\n"
            "│ \\x1B[31mred │\n"
            "│ bad\\xFF     │\n"
            "└─────────────┘\n"
            "3 rows, 0.000 ms\n");
}

TEST(TableFormat, EmptyResultShowsTheColumns) {
  ResultTable t = summary_like();
  t.rows.clear();
  t.rows_before_limit = 0;
  EXPECT_EQ(render(t),
            "┌─feature_id─┬─events─┬─first_seen─┐\n"
            "└────────────┴────────┴────────────┘\n"
            "0 rows, 1.23 ms\n");
}

TEST(TableFormat, NoColumnsIsJustTheFooter) {
  ResultTable t;
  t.statistics.elapsed_seconds = 2;
  EXPECT_EQ(render(t), "0 rows, 2.00 s\n");
}

TEST(TableFormat, FooterSaysHowManyRowsWereBeforeTheLimit) {
  ResultTable t;
  t.columns = {{"n", ColumnType::kUInt64}};
  t.rows = {{uint64_t{1}}};
  t.rows_before_limit = 1;
  t.statistics.elapsed_seconds = 0.5;
  auto footer = [&t] {
    const std::string out = render(t);
    const size_t last_line = out.rfind('\n', out.size() - 2);
    return out.substr(last_line + 1);
  };
  EXPECT_EQ(footer(), "1 row, 500 ms\n");
  t.limit_given = true;
  EXPECT_EQ(footer(), "1 row (1 before limit), 500 ms\n");
  t.rows_before_limit = 12;
  EXPECT_EQ(footer(), "1 row (12 before limit), 500 ms\n");
  t.limit_given = false;  // skip alone dropped rows
  EXPECT_EQ(footer(), "1 row (12 before limit), 500 ms\n");
}

TEST(TerminalText, LeavesPrintableTextAlone) {
  EXPECT_EQ(terminal_text("plain ascii ~"), "plain ascii ~");
  EXPECT_EQ(terminal_text(""), "");
  EXPECT_EQ(terminal_text("機能 🚀 é \\ \" '"), "機能 🚀 é \\ \" '");
}

TEST(TerminalText, EscapesWhatWouldMoveTheCursor) {
  EXPECT_EQ(terminal_text("\n\r\t"), "\\n\\r\\t");
  EXPECT_EQ(terminal_text(std::string("\0\x01\x1F\x7F", 4)), "\\x00\\x01\\x1F\\x7F");
  EXPECT_EQ(terminal_text("\u0085\u009B"), "\\u0085\\u009B");  // C1 controls, e.g. CSI
  EXPECT_EQ(terminal_text("a\u2028b\u2029"), "a\\u2028b\\u2029");
  EXPECT_EQ(terminal_text("\u202Eevil\u202C \u2066x\u2069"), "\\u202Eevil\\u202C \\u2066x\\u2069");
  EXPECT_EQ(terminal_text("\xC3\x28\xF5\x80"), "\\xC3(\\xF5\\x80");  // not UTF-8: byte by byte
}

TEST(FormatElapsed, ThreeSignificantDigits) {
  EXPECT_EQ(format_elapsed(0), "0.000 ms");
  EXPECT_EQ(format_elapsed(0.000042), "0.042 ms");
  EXPECT_EQ(format_elapsed(0.00123), "1.23 ms");
  EXPECT_EQ(format_elapsed(0.0123), "12.3 ms");
  EXPECT_EQ(format_elapsed(0.123), "123 ms");
  EXPECT_EQ(format_elapsed(1.234), "1.23 s");
  EXPECT_EQ(format_elapsed(12.34), "12.3 s");
  EXPECT_EQ(format_elapsed(1234), "1234 s");
  EXPECT_EQ(format_elapsed(-1), "0.000 ms");
  EXPECT_EQ(format_elapsed(std::numeric_limits<double>::quiet_NaN()), "0.000 ms");
}

}  // namespace
}  // namespace usagedb::api
