// The json, csv and ndjson formats byte for byte on small tables (unicode,
// quotes, commas, newlines, empty strings, empty results, limit given or
// not), streaming in chunks, and the format names.
#include "lib/api/format.h"

#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testutil/helpers.h"

namespace usagedb::api {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

using ::usagedb::testing::at;

std::string render(OutputFormat f, const ResultTable& t) {
  std::string out;
  append_result(f, t, &out);
  return out;
}

// Three columns, one of each type, and rows that need escaping or quoting.
ResultTable sample(bool limit_given) {
  ResultTable t;
  t.columns = {{"name", ColumnType::kString}, {"count", ColumnType::kUInt64}, {"at", ColumnType::kDateTime}};
  t.rows = {
      {std::string("plain"), uint64_t{3}, at("2025-05-11 10:23:03")},
      {std::string("a,b \"q\"\nline2"), uint64_t{0}, at("1970-01-01 00:00:00")},
      {std::string(""), uint64_t{18446744073709551615u}, at("2105-12-31 23:59:59")},
      {std::string("機能 ✓ 🚀 é\\/"), uint64_t{42}, at("2025-01-01 00:00:00")},
  };
  t.rows_before_limit = 10;
  t.limit_given = limit_given;
  t.statistics = {.elapsed_seconds = 0.00091042, .rows_read = 4, .bytes_read = 296};
  return t;
}

ResultTable empty_result(bool limit_given) {
  ResultTable t = sample(limit_given);
  t.rows.clear();
  t.rows_before_limit = 0;
  return t;
}

TEST(JsonFormat, IsTinybirdsResponseWithLimit) {
  EXPECT_EQ(render(OutputFormat::kJson, sample(true)),
            R"({"meta":[{"name":"name","type":"String"},{"name":"count","type":"UInt64"},)"
            R"({"name":"at","type":"DateTime"}],)"
            R"("data":[{"name":"plain","count":3,"at":"2025-05-11 10:23:03"},)"
            R"({"name":"a,b \"q\"\nline2","count":0,"at":"1970-01-01 00:00:00"},)"
            R"({"name":"","count":18446744073709551615,"at":"2105-12-31 23:59:59"},)"
            R"({"name":"機能 ✓ 🚀 é\\/","count":42,"at":"2025-01-01 00:00:00"}],)"
            R"("rows":4,"rows_before_limit_at_least":10,)"
            R"("statistics":{"elapsed":0.00091042,"rows_read":4,"bytes_read":296}})"
            "\n");
}

TEST(JsonFormat, OmitsRowsBeforeLimitWithoutALimit) {
  const std::string out = render(OutputFormat::kJson, sample(false));
  EXPECT_THAT(out, Not(HasSubstr("rows_before_limit_at_least")));
  EXPECT_THAT(out, HasSubstr(R"("rows":4,"statistics":{"elapsed":0.00091042,"rows_read":4,"bytes_read":296}})"));
}

TEST(JsonFormat, EmptyResult) {
  const std::string meta = R"({"meta":[{"name":"name","type":"String"},{"name":"count","type":"UInt64"},)"
                           R"({"name":"at","type":"DateTime"}],)";
  EXPECT_EQ(render(OutputFormat::kJson, empty_result(false)),
            meta + R"("data":[],"rows":0,"statistics":{"elapsed":0.00091042,"rows_read":4,"bytes_read":296}})" + "\n");
  EXPECT_EQ(render(OutputFormat::kJson, empty_result(true)),
            meta + R"("data":[],"rows":0,"rows_before_limit_at_least":0,)" +
                R"("statistics":{"elapsed":0.00091042,"rows_read":4,"bytes_read":296}})" + "\n");
}

TEST(JsonFormat, ElapsedIsAPlainDecimalNumberOfSeconds) {
  const std::pair<double, const char*> cases[] = {
      {0, "0"},        {1.5, "1.5"},       {0.1, "0.1"},     {1e-7, "0.0000001"},
      {12.25, "12.25"}, {0.000123, "0.000123"}, {-1, "0"}, {std::numeric_limits<double>::quiet_NaN(), "0"},
      {std::numeric_limits<double>::infinity(), "0"}};
  for (const auto& [seconds, text] : cases) {
    ResultTable t;
    t.statistics.elapsed_seconds = seconds;
    EXPECT_THAT(render(OutputFormat::kJson, t), HasSubstr(absl::StrCat("\"elapsed\":", text, ",")))
        << seconds;
  }
}

TEST(NdjsonFormat, OneObjectPerLine) {
  EXPECT_EQ(render(OutputFormat::kNdjson, sample(true)),
            R"({"name":"plain","count":3,"at":"2025-05-11 10:23:03"})"
            "\n"
            R"({"name":"a,b \"q\"\nline2","count":0,"at":"1970-01-01 00:00:00"})"
            "\n"
            R"({"name":"","count":18446744073709551615,"at":"2105-12-31 23:59:59"})"
            "\n"
            R"({"name":"機能 ✓ 🚀 é\\/","count":42,"at":"2025-01-01 00:00:00"})"
            "\n");
}

TEST(NdjsonFormat, EmptyResultIsEmpty) { EXPECT_EQ(render(OutputFormat::kNdjson, empty_result(true)), ""); }

TEST(CsvFormat, HeaderThenQuotedStringsAndBareNumbers) {
  EXPECT_EQ(render(OutputFormat::kCsv, sample(true)),
            "\"name\",\"count\",\"at\"\n"
            "\"plain\",3,\"2025-05-11 10:23:03\"\n"
            "\"a,b \"\"q\"\"\nline2\",0,\"1970-01-01 00:00:00\"\n"
            "\"\",18446744073709551615,\"2105-12-31 23:59:59\"\n"
            "\"機能 ✓ 🚀 é\\/\",42,\"2025-01-01 00:00:00\"\n");
}

TEST(CsvFormat, KeepsCarriageReturnsAndOtherBytesInsideQuotes) {
  ResultTable t;
  t.columns = {{"s", ColumnType::kString}};
  t.rows = {{std::string("x\r\ny")}, {std::string("\"")}, {std::string("tab\there")}, {std::string("\xFF")}};
  EXPECT_EQ(render(OutputFormat::kCsv, t), "\"s\"\n\"x\r\ny\"\n\"\"\"\"\n\"tab\there\"\n\"\xFF\"\n");
}

TEST(CsvFormat, EmptyResultIsTheHeaderOnly) {
  EXPECT_EQ(render(OutputFormat::kCsv, empty_result(true)), "\"name\",\"count\",\"at\"\n");
}

TEST(ResultWriter, ChunksConcatenateToTheWholeOutput) {
  const ResultTable t = sample(true);
  for (const OutputFormat f : {OutputFormat::kJson, OutputFormat::kCsv, OutputFormat::kNdjson, OutputFormat::kTable}) {
    for (size_t chunk = 1; chunk <= t.rows.size(); ++chunk) {
      const ResultWriter writer(f, t);
      std::string out;
      writer.append_header(&out);
      for (size_t i = 0; i < t.rows.size(); i += chunk) writer.append_rows(i, std::min(i + chunk, t.rows.size()), &out);
      writer.append_rows(t.rows.size(), t.rows.size(), &out);  // an empty chunk adds nothing
      writer.append_footer(&out);
      EXPECT_EQ(out, render(f, t)) << output_format_name(f) << " in chunks of " << chunk;
    }
  }
}

TEST(ResultWriter, AppendsWithoutTouchingWhatIsAlreadyThere) {
  std::string out = "prefix:";
  append_result(OutputFormat::kNdjson, sample(false), &out);
  EXPECT_EQ(out.rfind("prefix:{\"name\":\"plain\"", 0), 0u);
}

TEST(OutputFormatName, ParsesEachNameAndRoundTrips) {
  for (const OutputFormat f : {OutputFormat::kJson, OutputFormat::kCsv, OutputFormat::kNdjson, OutputFormat::kTable}) {
    absl::StatusOr<OutputFormat> parsed = parse_output_format(output_format_name(f));
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, f);
  }
  EXPECT_EQ(output_format_name(OutputFormat::kJson), "json");
  EXPECT_EQ(output_format_name(OutputFormat::kCsv), "csv");
  EXPECT_EQ(output_format_name(OutputFormat::kNdjson), "ndjson");
  EXPECT_EQ(output_format_name(OutputFormat::kTable), "table");
}

TEST(OutputFormatName, RejectsOthersListingTheFormats) {
  for (const char* bad : {"xml", "", "JSON", ".json", "pretty"}) {
    absl::StatusOr<OutputFormat> parsed = parse_output_format(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(std::string(parsed.status().message()),
              absl::StrCat("unknown output format '", bad, "': expected one of json, csv, ndjson, table"));
  }
}

TEST(ContentType, ForEachFormat) {
  EXPECT_EQ(content_type(OutputFormat::kJson), "application/json");
  EXPECT_EQ(content_type(OutputFormat::kCsv), "text/csv; charset=utf-8");
  EXPECT_EQ(content_type(OutputFormat::kNdjson), "application/x-ndjson");
  EXPECT_EQ(content_type(OutputFormat::kTable), "text/plain; charset=utf-8");
}

TEST(JsonError, IsTheHttpErrorBody) {
  std::string out;
  append_json_error("limit: expected a non-negative integer, got '\"-1\"'\n", &out);
  EXPECT_EQ(out, R"({"error": "limit: expected a non-negative integer, got '\"-1\"'\n"})");
}

// Float64, Date and a DateTime shown in a time zone (SPEC 2.5-2.11's types).
ResultTable typed_sample() {
  ResultTable t;
  t.columns = {{"rate", ColumnType::kFloat64},
               {"day", ColumnType::kDate},
               {"period", ColumnType::kDateTime, "America/New_York"},
               {"utc", ColumnType::kDateTime}};
  t.rows = {
      {0.4154002026342452, std::chrono::sys_days{std::chrono::year{2025} / 3 / 9}, at("2025-03-09 07:00:00"),
       at("2025-03-09 07:00:00")},
      {1.0, std::chrono::sys_days{std::chrono::year{1970} / 1 / 1}, at("2025-11-02 06:30:00"),
       at("2025-11-02 06:30:00")},
      {1e-7, std::chrono::sys_days{std::chrono::year{2105} / 12 / 31}, at("2025-07-01 04:00:00"),
       at("2025-07-01 04:00:00")},
  };
  t.rows_before_limit = 3;
  return t;
}

TEST(JsonFormat, WritesFloat64DateAndZonedDateTime) {
  const std::string out = render(OutputFormat::kJson, typed_sample());
  EXPECT_THAT(out, HasSubstr(R"({"name":"rate","type":"Float64"},{"name":"day","type":"Date"},)"
                             R"x({"name":"period","type":"DateTime('America/New_York')"},)x"
                             R"({"name":"utc","type":"DateTime"}])"));
  // 07:00 UTC on the day DST starts is 03:00 EDT; 06:30 UTC on the day it ends is 01:30 EST.
  EXPECT_THAT(out, HasSubstr(R"({"rate":0.4154002026342452,"day":"2025-03-09","period":"2025-03-09 03:00:00",)"
                             R"("utc":"2025-03-09 07:00:00"})"));
  EXPECT_THAT(out, HasSubstr(R"({"rate":1,"day":"1970-01-01","period":"2025-11-02 01:30:00",)"));
  EXPECT_THAT(out, HasSubstr(R"({"rate":1e-7,"day":"2105-12-31","period":"2025-07-01 00:00:00",)"));
}

TEST(CsvFormat, WritesFloat64BareAndDatesQuoted) {
  EXPECT_EQ(render(OutputFormat::kCsv, typed_sample()),
            "\"rate\",\"day\",\"period\",\"utc\"\n"
            "0.4154002026342452,\"2025-03-09\",\"2025-03-09 03:00:00\",\"2025-03-09 07:00:00\"\n"
            "1,\"1970-01-01\",\"2025-11-02 01:30:00\",\"2025-11-02 06:30:00\"\n"
            "1e-7,\"2105-12-31\",\"2025-07-01 00:00:00\",\"2025-07-01 04:00:00\"\n");
}

TEST(JsonFormat, WritesANonFiniteFloat64AsNull) {
  ResultTable t;
  t.columns = {{"rate", ColumnType::kFloat64}};
  t.rows = {{std::numeric_limits<double>::quiet_NaN()}};
  EXPECT_THAT(render(OutputFormat::kNdjson, t), HasSubstr(R"({"rate":null})"));
}

TEST(TableFormat, RightAlignsFloat64AndShowsTheZonesTime) {
  const std::string out = render(OutputFormat::kTable, typed_sample());
  EXPECT_THAT(out, HasSubstr("│ 0.4154002026342452 │ 2025-03-09 │ 2025-03-09 03:00:00 │"));
  EXPECT_THAT(out, HasSubstr("│                  1 │ 1970-01-01 │"));
}

}  // namespace
}  // namespace usagedb::api
