// The CSV reader: the rules at the top of lib/ingest/csv_reader.h
// (docs/INGEST.md).
#include <string>
#include <string_view>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/ingest/record_reader.h"
#include "tests/ingest/reader_testing.h"

namespace usagedb {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using reader_testing::OwnedEvent;
using reader_testing::Parsed;
using reader_testing::cat;
using reader_testing::expected_event;
using reader_testing::kSeedTime;

constexpr std::string_view kHeader =
    "event_id,user_id,feature_id,product_version,event_type,timestamp,session_id,metadata\n";
constexpr std::string_view kRow = "e1,u1,f1,1.0.0,view,2025-05-11 10:23:03,s1,m";

Parsed parse_csv(std::string_view text) {
  auto reader = make_csv_reader();
  return reader_testing::parse_whole(*reader, text);
}

// Parses the full header and `rows`; expects one rejected record.
RejectedRow csv_rejected_only(std::string_view rows) {
  Parsed p = parse_csv(cat(kHeader, rows));
  EXPECT_THAT(p.events, IsEmpty()) << rows;
  EXPECT_EQ(p.rejected.size(), 1u) << rows;
  return p.rejected.empty() ? RejectedRow{} : p.rejected[0];
}

OwnedEvent csv_event_only(std::string_view rows) {
  Parsed p = parse_csv(cat(kHeader, rows));
  EXPECT_THAT(p.rejected, IsEmpty()) << rows << (p.rejected.empty() ? "" : " -> " + p.rejected[0].error);
  EXPECT_EQ(p.events.size(), 1u) << rows;
  return p.events.empty() ? OwnedEvent{} : p.events[0];
}

TEST(CsvReader, ReadsEveryColumn) {
  EXPECT_EQ(csv_event_only(kRow), expected_event(2));
}

TEST(CsvReader, HeaderInAnyOrderWithUnknownAndMissingOptionalColumns) {
  Parsed p = parse_csv(
      "extra,timestamp,event_type,product_version,feature_id,user_id\n"
      "zzz,2025-05-11 10:23:03,view,1.0.0,f1,u1\n");
  ASSERT_EQ(p.events.size(), 1u);
  EXPECT_EQ(p.events[0], (OwnedEvent{"", "u1", "f1", "1.0.0", "view", kSeedTime, "", "", 2}));
  EXPECT_EQ(p.records, 1u);  // the header is not a record
}

TEST(CsvReader, HeaderNamesAreTrimmedAndMayBeQuoted) {
  Parsed p = parse_csv(
      " user_id ,\"feature_id\",product_version,\tevent_type,timestamp\r\n"
      "u1,f1,1.0.0,view,1746958983\r\n");
  ASSERT_EQ(p.events.size(), 1u);
  EXPECT_EQ(p.events[0].user_id, "u1");
}

TEST(CsvReader, HeaderNamesAreCaseSensitive) {
  Parsed p = parse_csv("USER_ID,feature_id,product_version,event_type,timestamp\nu1,f1,1.0.0,view,1746958983\n");
  ASSERT_EQ(p.rejected.size(), 1u);
  EXPECT_THAT(p.rejected[0].columns, ElementsAre("user_id"));
}

TEST(CsvReader, HeaderMissingRequiredColumnsRejectsEveryRecord) {
  Parsed p = parse_csv("event_id,feature_id,product_version,event_type\ne1,f1,1.0.0,view\ne2,f1,1.0.0,view\n");
  ASSERT_EQ(p.rejected.size(), 2u);
  EXPECT_EQ(p.records, 2u);
  for (const RejectedRow& r : p.rejected) {
    EXPECT_THAT(r.columns, ElementsAre("user_id", "timestamp"));
    EXPECT_EQ(r.error, "user_id: missing from the CSV header; timestamp: missing from the CSV header (line 1)");
  }
  EXPECT_EQ(p.rejected[1].line, 3u);
  EXPECT_EQ(p.rejected[1].raw, "e2,f1,1.0.0,view");
}

TEST(CsvReader, HeaderNamingAColumnTwiceRejectsEveryRecord) {
  const RejectedRow r = []() {
    Parsed p = parse_csv("user_id,feature_id,product_version,event_type,timestamp,user_id\nu,f,1,v,1746958983,w\n");
    EXPECT_EQ(p.rejected.size(), 1u);
    return p.rejected.empty() ? RejectedRow{} : p.rejected[0];
  }();
  EXPECT_THAT(r.columns, ElementsAre("user_id"));
  EXPECT_EQ(r.error, "user_id: named more than once in the CSV header (line 1)");
}

TEST(CsvReader, MalformedHeaderIsRejectedAndSoIsEveryRecord) {
  Parsed p = parse_csv("\"user_id\"x,feature_id\nu1,f1\n");
  ASSERT_EQ(p.rejected.size(), 2u);
  EXPECT_EQ(p.rejected[0].line, 1u);
  EXPECT_EQ(p.rejected[0].error, "CSV header: field 1: unexpected text after the closing quote");
  EXPECT_EQ(p.rejected[1].line, 2u);
  EXPECT_EQ(p.rejected[1].error, "no usable CSV header (line 1 was rejected)");
}

TEST(CsvReader, HeaderOnlyAndEmptyInputs) {
  for (const std::string_view text : {std::string_view(""), kHeader, std::string_view("\n\n"), std::string_view("\xEF\xBB\xBF")}) {
    Parsed p = parse_csv(text);
    EXPECT_EQ(p.records, 0u);
    EXPECT_THAT(p.rejected, IsEmpty());
  }
}

TEST(CsvReader, BomBlankLinesAndLineEndings) {
  Parsed p = parse_csv(cat("\xEF\xBB\xBF", "\n", kHeader, kRow, "\r\n", "\r\n", " \t \n", kRow, "\n", kRow));
  EXPECT_THAT(p.events, ElementsAre(expected_event(3), expected_event(6), expected_event(7)));
  EXPECT_EQ(p.records, 3u);
}

TEST(CsvReader, QuotedFields) {
  const OwnedEvent e = csv_event_only(
      "\"e,1\",\"say \"\"hi\"\"\",\"f\nwith\r\nnewlines\",1.0.0,\"view\",\"2025-05-11 10:23:03\",\"\",\"{\"\"a\"\":1}\"\n");
  EXPECT_EQ(e.event_id, "e,1");
  EXPECT_EQ(e.user_id, "say \"hi\"");
  EXPECT_EQ(e.feature_id, "f\nwith\r\nnewlines");
  EXPECT_EQ(e.session_id, "");
  EXPECT_EQ(e.metadata, "{\"a\":1}");
}

TEST(CsvReader, MultiLineRecordsKeepTheirFirstLineAndWholeText) {
  const std::string record = "e1,\"u\n1\",f1,1.0.0,view,2025-05-11 10:23:03,s1,\"a\r\nb\"";
  const std::string bad = "e1,\"u\n1\",f1";
  Parsed p = parse_csv(cat(kHeader, record, "\r\n", bad, "\n", kRow, "\n"));
  ASSERT_EQ(p.events.size(), 2u);
  EXPECT_EQ(p.events[0].line, 2u);
  EXPECT_EQ(p.events[0].metadata, "a\r\nb");
  EXPECT_EQ(p.events[1].line, 7u);
  ASSERT_EQ(p.rejected.size(), 1u);
  EXPECT_EQ(p.rejected[0].line, 5u);
  EXPECT_EQ(p.rejected[0].raw, bad);
  EXPECT_EQ(p.rejected[0].error, "expected 8 fields, got 3");
}

TEST(CsvReader, UnquotedValuesAreTrimmedQuotedOnesAreNot) {
  const OwnedEvent e = csv_event_only("  e1 ,\tu1\t,\" f1 \",1.0.0,view, 2025-05-11 10:23:03 ,s1,m");
  EXPECT_EQ(e.event_id, "e1");
  EXPECT_EQ(e.user_id, "u1");
  EXPECT_EQ(e.feature_id, " f1 ");
  EXPECT_EQ(e.timestamp, kSeedTime);
}

TEST(CsvReader, AQuoteInsideAnUnquotedFieldIsAnOrdinaryByte) {
  EXPECT_EQ(csv_event_only("e1,u\"1,f1,1.0.0,view,2025-05-11 10:23:03,s1,m").user_id, "u\"1");
}

TEST(CsvReader, EmptyOptionalValuesAreAbsentEmptyRequiredOnesAreInvalid) {
  const OwnedEvent e = csv_event_only(",u1,f1,1.0.0,view,2025-05-11 10:23:03,,");
  EXPECT_EQ(e.event_id, "");
  EXPECT_EQ(e.session_id, "");
  EXPECT_EQ(e.metadata, "");
  const RejectedRow r = csv_rejected_only("e1,,f1,\"\",view,,s1,m");
  EXPECT_THAT(r.columns, ElementsAre("user_id", "product_version", "timestamp"));
  EXPECT_EQ(r.error, "user_id: must not be empty; product_version: must not be empty; timestamp: must not be empty");
}

TEST(CsvReader, TimestampForms) {
  auto seconds = [](std::string_view value) {
    return csv_event_only(cat("e1,u1,f1,1.0.0,view,", value, ",s1,m")).timestamp;
  };
  EXPECT_EQ(seconds("2025-05-11 10:23:03"), kSeedTime);
  EXPECT_EQ(seconds("2025-05-11T12:23:03+02:00"), kSeedTime);
  EXPECT_EQ(seconds("2025-05-11T10:23:03.5Z"), kSeedTime);
  EXPECT_EQ(seconds("1746958983"), kSeedTime);  // CSV only: Unix seconds as text
  EXPECT_EQ(seconds("\"1746958983\""), kSeedTime);
  EXPECT_EQ(seconds("0001746958983"), kSeedTime);
  EXPECT_EQ(seconds("0"), 0);
  EXPECT_EQ(seconds("4291747199"), 4291747199);
}

TEST(CsvReader, InvalidTimestamps) {
  const std::vector<std::pair<std::string_view, std::string_view>> cases = {
      {"2025-13-01 00:00:00", "timestamp: '2025-13-01 00:00:00' is not a valid DateTime: month must be 01..12"},
      {"4291747200",
       "timestamp: 4291747200 seconds is outside the DateTime range 1970-01-01 00:00:00 to 2105-12-31 23:59:59 UTC"},
      {"99999999999999999999",
       "timestamp: 99999999999999999999 seconds is outside the DateTime range 1970-01-01 00:00:00 to 2105-12-31 "
       "23:59:59 UTC"},
      {"-1",
       "timestamp: '-1' is not a valid DateTime: expected YYYY-MM-DD HH:MM:SS or YYYY-MM-DDTHH:MM:SS[.fff][Z|+HH:MM]"},
      {"1.7e9",
       "timestamp: '1.7e9' is not a valid DateTime: expected YYYY-MM-DD HH:MM:SS or "
       "YYYY-MM-DDTHH:MM:SS[.fff][Z|+HH:MM]"},
      {"+17", "timestamp: '+17' is not a valid DateTime: expected YYYY-MM-DD HH:MM:SS or YYYY-MM-DDTHH:MM:SS[.fff][Z|+HH:MM]"},
  };
  for (const auto& [value, error] : cases) {
    const RejectedRow r = csv_rejected_only(cat("e1,u1,f1,1.0.0,view,", value, ",s1,m"));
    EXPECT_THAT(r.columns, ElementsAre("timestamp")) << value;
    EXPECT_EQ(r.error, error) << value;
  }
}

TEST(CsvReader, FieldCountMustMatchTheHeader) {
  EXPECT_EQ(csv_rejected_only("e1,u1,f1,1.0.0,view,2025-05-11 10:23:03,s1").error, "expected 8 fields, got 7");
  EXPECT_EQ(csv_rejected_only("e1,u1,f1,1.0.0,view,2025-05-11 10:23:03,s1,m,").error, "expected 8 fields, got 9");
  const RejectedRow r = csv_rejected_only("lonely");
  EXPECT_THAT(r.columns, IsEmpty());
  EXPECT_EQ(r.raw, "lonely");
}

TEST(CsvReader, TextAfterAClosingQuoteIsMalformed) {
  const RejectedRow r = csv_rejected_only("e1,\"u1\"x,f1,1.0.0,view,2025-05-11 10:23:03,s1,m");
  EXPECT_THAT(r.columns, IsEmpty());
  EXPECT_EQ(r.error, "malformed CSV: field 2: unexpected text after the closing quote");
  // The record still ends at its ',' and newline: the next one is fine.
  Parsed p = parse_csv(cat(kHeader, "\"a\" ,b\n", kRow, "\n"));
  EXPECT_THAT(p.events, ElementsAre(expected_event(3)));
}

TEST(CsvReader, UnterminatedQuoteAtTheEndRejectsThatRecord) {
  Parsed p = parse_csv(cat(kHeader, kRow, "\n", "e1,\"u1,f1\n", kRow, "\n"));
  EXPECT_THAT(p.events, ElementsAre(expected_event(2)));
  ASSERT_EQ(p.rejected.size(), 1u);
  EXPECT_EQ(p.rejected[0].line, 3u);
  EXPECT_EQ(p.rejected[0].raw, cat("e1,\"u1,f1\n", kRow));
  EXPECT_EQ(p.rejected[0].error, "malformed CSV: field 2: quoted field not closed by the end of the input");
}

TEST(CsvReader, InvalidUtf8RejectsTheRecord) {
  const std::string row = "e1,u\xff,f1,1.0.0,view,2025-05-11 10:23:03,s1,m";
  const RejectedRow r = csv_rejected_only(row);
  EXPECT_EQ(r.raw, row);
  EXPECT_THAT(r.columns, IsEmpty());
  EXPECT_EQ(r.error, "invalid UTF-8");
  // Also in a column the table does not have.
  Parsed p = parse_csv("user_id,feature_id,product_version,event_type,timestamp,x\nu,f,1,v,1746958983,\xC0\xAF\n");
  ASSERT_EQ(p.rejected.size(), 1u);
  EXPECT_EQ(p.rejected[0].error, "invalid UTF-8");
}

TEST(CsvReader, ViewsPointIntoTheInputOrTheBatch) {
  const std::string text = cat(kHeader, "e1,plain,\"esc\"\"aped\",1.0.0,view,1746958983,s1,m\n");
  auto reader = make_csv_reader();
  ParsedBatch batch;
  ASSERT_EQ(reader->parse(text, true, &batch), text.size());
  ASSERT_EQ(batch.events.size(), 1u);
  const Event& e = batch.events[0];
  auto inside = [&](std::string_view v) { return v.data() >= text.data() && v.data() + v.size() <= text.data() + text.size(); };
  EXPECT_TRUE(inside(e.user_id));
  EXPECT_FALSE(inside(e.feature_id));
  EXPECT_EQ(e.feature_id, "esc\"aped");
}

TEST(CsvReader, ConsumesOnlyWholeRecordsUntilFinal) {
  auto reader = make_csv_reader();
  ParsedBatch batch;
  EXPECT_EQ(reader->parse(kHeader.substr(0, 10), false, &batch), 0u);
  const std::string text = cat(kHeader, "e1,\"u\n1");  // a quoted field still open
  EXPECT_EQ(reader->parse(text, false, &batch), kHeader.size());
  EXPECT_EQ(batch.records, 0u);
  const std::string_view last = "e1,\"u\n1\",f1,1.0.0,view,1746958983,s1,m";
  EXPECT_EQ(reader->parse(last, false, &batch), 0u);
  EXPECT_EQ(reader->parse(last, true, &batch), last.size());
  ASSERT_EQ(batch.events.size(), 1u);
  EXPECT_EQ(batch.event_lines[0], 2u);
  EXPECT_EQ(batch.events[0].user_id, "u\n1");
}

TEST(CsvReader, AnySplitGivesTheSameResult) {
  const std::string text =
      cat("\xEF\xBB\xBF", kHeader, kRow, "\r\n\n", "e1,\"u\"\"\n,x\",f1,1.0.0,view,1746958983,s1,m\n",
                   "bad,row\n", "e1,\"u1\"x,f1,1.0.0,view,1746958983,s1,m\n", kRow, "\n", "e1,\"open");
  const Parsed whole = parse_csv(text);
  ASSERT_EQ(whole.records, 6u);
  ASSERT_EQ(whole.events.size(), 3u);
  for (size_t cut = 0; cut <= text.size(); ++cut) {
    for (size_t cut2 : {cut, cut + 1, cut + 9}) {
      auto reader = make_csv_reader();
      const Parsed p = reader_testing::parse_in_pieces(*reader, text, {cut, cut2});
      EXPECT_EQ(p.events, whole.events) << cut << " " << cut2;
      ASSERT_EQ(p.rejected.size(), whole.rejected.size()) << cut << " " << cut2;
      for (size_t i = 0; i < p.rejected.size(); ++i) {
        EXPECT_EQ(p.rejected[i].line, whole.rejected[i].line);
        EXPECT_EQ(p.rejected[i].raw, whole.rejected[i].raw);
        EXPECT_EQ(p.rejected[i].error, whole.rejected[i].error);
      }
    }
  }
}

}  // namespace
}  // namespace usagedb
