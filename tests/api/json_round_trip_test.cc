// The json and ndjson formats read back by a real JSON parser (simdjson)
// give the same values: every control character, quote, backslash, U+2028,
// CJK and emoji in strings, the full UInt64 range, DateTimes, the response's
// keys in Tinybird's order, and `elapsed` to the last bit.
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/api/format.h"
#include "lib/util/utf8.h"
#include "simdjson.h"
#include "tests/testutil/helpers.h"

namespace usagedb::api {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;

using ::usagedb::testing::at;

std::vector<std::string> keys_of(simdjson::dom::object o) {
  std::vector<std::string> keys;
  for (auto field : o) keys.emplace_back(field.key);
  return keys;
}

// Checks that `row` (a JSON object) holds `cells` under `t`'s column names, in order.
void expect_row(const ResultTable& t, simdjson::dom::object row, const std::vector<Cell>& cells) {
  std::vector<std::string> names;
  for (const Column& c : t.columns) names.push_back(c.name);
  EXPECT_THAT(keys_of(row), ElementsAreArray(names));
  for (size_t i = 0; i < t.columns.size(); ++i) {
    simdjson::dom::element value;
    ASSERT_EQ(row[t.columns[i].name].get(value), simdjson::SUCCESS) << t.columns[i].name;
    if (const auto* s = std::get_if<std::string>(&cells[i])) {
      std::string_view parsed;
      ASSERT_EQ(value.get_string().get(parsed), simdjson::SUCCESS);
      EXPECT_EQ(parsed, *s);
    } else if (const auto* n = std::get_if<uint64_t>(&cells[i])) {
      uint64_t parsed = 0;
      ASSERT_EQ(value.get_uint64().get(parsed), simdjson::SUCCESS);
      EXPECT_EQ(parsed, *n);
    } else {
      std::string_view parsed;
      ASSERT_EQ(value.get_string().get(parsed), simdjson::SUCCESS);
      EXPECT_EQ(parse_timestamp(parsed).value(), std::get<Timestamp>(cells[i]));
    }
  }
}

void expect_json_round_trip(const ResultTable& t) {
  std::string out;
  append_result(OutputFormat::kJson, t, &out);
  simdjson::dom::parser parser;
  simdjson::dom::object doc;
  ASSERT_EQ(parser.parse(out).get(doc), simdjson::SUCCESS) << out;
  if (t.limit_given) {
    EXPECT_THAT(keys_of(doc), ElementsAre("meta", "data", "rows", "rows_before_limit_at_least", "statistics"));
  } else {
    EXPECT_THAT(keys_of(doc), ElementsAre("meta", "data", "rows", "statistics"));
  }

  simdjson::dom::array meta;
  ASSERT_EQ(doc["meta"].get(meta), simdjson::SUCCESS);
  ASSERT_EQ(meta.size(), t.columns.size());
  size_t i = 0;
  for (simdjson::dom::element column : meta) {
    simdjson::dom::object o;
    ASSERT_EQ(column.get(o), simdjson::SUCCESS);
    EXPECT_THAT(keys_of(o), ElementsAre("name", "type"));
    EXPECT_EQ(std::string_view(o["name"]), t.columns[i].name);
    EXPECT_EQ(std::string_view(o["type"]), column_type_name(t.columns[i].type));
    ++i;
  }

  simdjson::dom::array data;
  ASSERT_EQ(doc["data"].get(data), simdjson::SUCCESS);
  ASSERT_EQ(data.size(), t.rows.size());
  i = 0;
  for (simdjson::dom::element row : data) {
    simdjson::dom::object o;
    ASSERT_EQ(row.get(o), simdjson::SUCCESS);
    expect_row(t, o, t.rows[i++]);
  }

  EXPECT_EQ(uint64_t(doc["rows"]), t.rows.size());
  if (t.limit_given) EXPECT_EQ(uint64_t(doc["rows_before_limit_at_least"]), t.rows_before_limit);
  simdjson::dom::object stats;
  ASSERT_EQ(doc["statistics"].get(stats), simdjson::SUCCESS);
  EXPECT_THAT(keys_of(stats), ElementsAre("elapsed", "rows_read", "bytes_read"));
  EXPECT_EQ(double(stats["elapsed"]), t.statistics.elapsed_seconds);  // exactly: shortest round-trip digits
  EXPECT_EQ(uint64_t(stats["rows_read"]), t.statistics.rows_read);
  EXPECT_EQ(uint64_t(stats["bytes_read"]), t.statistics.bytes_read);
}

void expect_ndjson_round_trip(const ResultTable& t) {
  std::string out;
  append_result(OutputFormat::kNdjson, t, &out);
  simdjson::dom::parser parser;
  size_t line_start = 0;
  size_t row = 0;
  while (line_start < out.size()) {
    const size_t newline = out.find('\n', line_start);
    ASSERT_NE(newline, std::string::npos) << "the last line ends with \\n";
    ASSERT_LT(row, t.rows.size());
    simdjson::dom::object o;
    ASSERT_EQ(parser.parse(out.substr(line_start, newline - line_start)).get(o), simdjson::SUCCESS);
    expect_row(t, o, t.rows[row++]);
    line_start = newline + 1;
  }
  EXPECT_EQ(row, t.rows.size());
}

ResultTable typed_table() {
  ResultTable t;
  t.columns = {{"s", ColumnType::kString}, {"n", ColumnType::kUInt64}, {"t", ColumnType::kDateTime},
               {"weird \"name\"\n/\\", ColumnType::kString}};
  std::string all_ascii;
  for (int c = 0; c < 128; ++c) all_ascii.push_back(static_cast<char>(c));
  t.rows = {
      {all_ascii, uint64_t{0}, at("1970-01-01 00:00:00"), std::string("")},
      {std::string("\u2028\u2029 機能 🚀👍🏽 é e\u0301 \U0010FFFF"), uint64_t{18446744073709551615u},
       at("2105-12-31 23:59:59"), std::string("{\"device\":\"desktop\"}")},
      {std::string(""), uint64_t{9007199254740993u}, at("2025-05-11 10:23:03"), std::string("\\\"")},
  };
  t.rows_before_limit = 17;
  t.statistics = {.elapsed_seconds = 0.0009104200000000001, .rows_read = 123456789, .bytes_read = 1u << 31};
  return t;
}

TEST(JsonRoundTrip, EveryValueReadsBackTheSame) {
  ResultTable t = typed_table();
  t.limit_given = false;
  expect_json_round_trip(t);
  t.limit_given = true;
  expect_json_round_trip(t);
  expect_ndjson_round_trip(t);
}

TEST(JsonRoundTrip, EmptyResult) {
  ResultTable t = typed_table();
  t.rows.clear();
  expect_json_round_trip(t);
  expect_ndjson_round_trip(t);
}

TEST(JsonRoundTrip, ElapsedReadsBackExactly) {
  for (const double seconds : {0.0, 1e-9, 0.1, 0.3, 1.0 / 3, 2.5e-5, 12345.678901234567, 1e6}) {
    ResultTable t;
    t.statistics.elapsed_seconds = seconds;
    expect_json_round_trip(t);
  }
}

// Random strings of code points from every region that escapes differently.
TEST(JsonRoundTrip, RandomStrings) {
  std::mt19937_64 rng(20250511);
  const std::pair<char32_t, char32_t> regions[] = {
      {0x00, 0x1F}, {0x20, 0x7F}, {0x80, 0x7FF}, {0x2020, 0x2030}, {0x3000, 0x9FFF}, {0xE000, 0xFFFD},
      {0x10000, 0x10FFFF}};
  ResultTable t;
  t.columns = {{"a", ColumnType::kString}, {"b", ColumnType::kString}};
  for (int r = 0; r < 300; ++r) {
    std::vector<Cell> row;
    for (int c = 0; c < 2; ++c) {
      std::string s;
      const int length = static_cast<int>(rng() % 12);
      for (int k = 0; k < length; ++k) {
        const auto& [lo, hi] = regions[rng() % std::size(regions)];
        text::append_utf8(static_cast<char32_t>(lo + rng() % (hi - lo + 1)), &s);
      }
      row.emplace_back(std::move(s));
    }
    t.rows.push_back(std::move(row));
  }
  expect_json_round_trip(t);
  expect_ndjson_round_trip(t);
}

// Bytes that are not UTF-8 (possible in quarantined raw lines) still give
// valid JSON: each such byte reads back as U+FFFD.
TEST(JsonRoundTrip, InvalidUtf8BecomesReplacementCharacters) {
  ResultTable t;
  t.columns = {{"raw", ColumnType::kString}};
  t.rows = {{std::string("a\xFF" "b\xC3(\xED\xA0\x80")}};
  std::string out;
  append_result(OutputFormat::kJson, t, &out);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(out).get(doc), simdjson::SUCCESS) << out;
  EXPECT_EQ(std::string_view(doc["data"].at(0)["raw"]), "a\uFFFDb\uFFFD(\uFFFD\uFFFD\uFFFD");
}

}  // namespace
}  // namespace usagedb::api
