// The NDJSON reader against every rule of SPEC 1.1 (docs/INGEST.md).
#include "lib/ingest/ndjson_reader.h"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/gen/random.h"
#include "lib/ingest/record_reader.h"
#include "tests/ingest/ndjson_testing.h"
#include "tests/ingest/reader_testing.h"

namespace usagedb {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using reader_testing::cat;
using reader_testing::event_line;
using reader_testing::expected_event;
using reader_testing::kOmit;
using reader_testing::kSeedTime;
using reader_testing::OwnedEvent;
using reader_testing::parse_ndjson;
using reader_testing::Parsed;

RejectedRow rejected_only(std::string_view line) {
  Parsed p = parse_ndjson(line);
  EXPECT_THAT(p.events, IsEmpty()) << line;
  EXPECT_EQ(p.rejected.size(), 1u) << line;
  return p.rejected.empty() ? RejectedRow{} : p.rejected[0];
}

// The one event of a one-line input.
OwnedEvent event_only(std::string_view line) {
  Parsed p = parse_ndjson(line);
  EXPECT_THAT(p.rejected, IsEmpty()) << line << (p.rejected.empty() ? "" : " -> " + p.rejected[0].error);
  EXPECT_EQ(p.events.size(), 1u) << line;
  return p.events.empty() ? OwnedEvent{} : p.events[0];
}

TEST(NdjsonReader, ReadsEveryColumn) {
  const OwnedEvent e = event_only(event_line());
  EXPECT_EQ(e, expected_event(1));
}

TEST(NdjsonReader, LineEndingsBlankLinesAndLineNumbers) {
  const std::string text = cat(event_line(), "\r\n", "\n", "   \t \r\n", event_line(), "\n\n", event_line());
  Parsed p = parse_ndjson(text);
  EXPECT_THAT(p.events, ElementsAre(expected_event(1), expected_event(4), expected_event(6)));
  EXPECT_EQ(p.records, 3u);  // blank lines are not records
}

TEST(NdjsonReader, RawExcludesTheLineTerminator) {
  Parsed p = parse_ndjson("[1]\r\n{\"x\":\n");
  ASSERT_EQ(p.rejected.size(), 2u);
  EXPECT_EQ(p.rejected[0].raw, "[1]");
  EXPECT_EQ(p.rejected[0].line, 1u);
  EXPECT_EQ(p.rejected[1].raw, "{\"x\":");
  EXPECT_EQ(p.rejected[1].line, 2u);
}

TEST(NdjsonReader, EmptyAndBlankInputsHaveNoRecords) {
  for (const char* text : {"", "\n", "\r\n", "  \n\t\n", "\xEF\xBB\xBF", "\xEF\xBB\xBF\n"}) {
    Parsed p = parse_ndjson(text);
    EXPECT_EQ(p.records, 0u) << text;
    EXPECT_THAT(p.rejected, IsEmpty()) << text;
  }
}

TEST(NdjsonReader, SkipsAByteOrderMarkOnlyAtTheStart) {
  const std::string bom = "\xEF\xBB\xBF";
  Parsed p = parse_ndjson(cat(bom, event_line(), "\n", bom, event_line(), "\n"));
  EXPECT_THAT(p.events, ElementsAre(expected_event(1)));
  ASSERT_EQ(p.rejected.size(), 1u);
  EXPECT_EQ(p.rejected[0].line, 2u);
  EXPECT_THAT(p.rejected[0].columns, IsEmpty());
}

TEST(NdjsonReader, IgnoresUnknownKeysOfAnyType) {
  const OwnedEvent e = event_only(event_line({{"extra", R"({"a":[1,2.5,-3e10,true,false,null,"x\u00e9"]})"},
                                              {"n", "99999999999999999999999"},
                                              {"big", "1e400"},
                                              {"s", R"("\ud83d\ude00")"},
                                              {"t", "true"}}));
  EXPECT_EQ(e, expected_event(1));
}

TEST(NdjsonReader, NullOptionalFieldsAreAbsent) {
  const OwnedEvent e = event_only(event_line({{"event_id", "null"}, {"session_id", "null"}, {"metadata", "null"}}));
  EXPECT_EQ(e.event_id, "");
  EXPECT_EQ(e.session_id, "");
  EXPECT_EQ(e.metadata, "");
  const OwnedEvent omitted =
      event_only(event_line({{"event_id", kOmit}, {"session_id", kOmit}, {"metadata", kOmit}}));
  EXPECT_EQ(omitted, e);
}

TEST(NdjsonReader, NullRequiredFieldsAreInvalid) {
  for (const char* column : {"user_id", "feature_id", "product_version", "event_type", "timestamp"}) {
    const RejectedRow r = rejected_only(event_line({{column, "null"}}));
    EXPECT_THAT(r.columns, ElementsAre(column));
    EXPECT_EQ(r.error, cat(column, ": must not be null"));
  }
}

TEST(NdjsonReader, MissingAndEmptyRequiredFields) {
  for (const char* column : {"user_id", "feature_id", "product_version", "event_type", "timestamp"}) {
    const RejectedRow missing = rejected_only(event_line({{column, kOmit}}));
    EXPECT_THAT(missing.columns, ElementsAre(column));
    EXPECT_EQ(missing.error, cat(column, ": missing"));
  }
  for (const char* column : {"user_id", "feature_id", "product_version", "event_type"}) {
    const RejectedRow empty = rejected_only(event_line({{column, R"("")"}}));
    EXPECT_THAT(empty.columns, ElementsAre(column));
    EXPECT_EQ(empty.error, cat(column, ": must not be empty"));
  }
  const OwnedEvent e = event_only(event_line({{"event_id", R"("")"}, {"session_id", R"("")"}, {"metadata", R"("")"}}));
  EXPECT_EQ(e.event_id, "");
}

TEST(NdjsonReader, MetadataStringObjectArray) {
  EXPECT_EQ(event_only(event_line({{"metadata", R"("{\"device\":\"desktop\"}")"}})).metadata,
            R"({"device":"desktop"})");
  // An object or array is kept as compact JSON text, strings as written.
  EXPECT_EQ(event_only(event_line({{"metadata", "{ \"a\" : [ 1 , 2.50 , { \"b c\" : \"d  e\\n\" } ] ,\t\"f\":null }"}}))
                .metadata,
            R"({"a":[1,2.50,{"b c":"d  e\n"}],"f":null})");
  EXPECT_EQ(event_only(event_line({{"metadata", "[ ]"}})).metadata, "[]");
  EXPECT_EQ(event_only(event_line({{"metadata", "{}"}})).metadata, "{}");
  EXPECT_EQ(event_only(event_line({{"metadata", R"({"q":"say \"hi\" \\"})"}})).metadata, R"({"q":"say \"hi\" \\"})");
}

TEST(NdjsonReader, MetadataOfAnotherTypeIsInvalid) {
  for (const auto& [value, type] : std::vector<std::pair<const char*, const char*>>{
           {"42", "a number"}, {"true", "a boolean"}, {"-1.5", "a number"}}) {
    const RejectedRow r = rejected_only(event_line({{"metadata", value}}));
    EXPECT_THAT(r.columns, ElementsAre("metadata"));
    EXPECT_EQ(r.error, cat("metadata: expected a string, object, array or null, got ", type));
  }
}

TEST(NdjsonReader, StringColumnsOfAnotherTypeAreInvalid) {
  const RejectedRow r = rejected_only(event_line({{"user_id", "7"}}));
  EXPECT_THAT(r.columns, ElementsAre("user_id"));
  EXPECT_EQ(r.error, "user_id: expected a string, got a number");
  const RejectedRow obj = rejected_only(event_line({{"feature_id", R"({"a":1})"}}));
  EXPECT_EQ(obj.error, "feature_id: expected a string, got an object");
  const RejectedRow arr = rejected_only(event_line({{"event_type", "[]"}}));
  EXPECT_EQ(arr.error, "event_type: expected a string, got an array");
  const RejectedRow opt = rejected_only(event_line({{"session_id", "false"}}));
  EXPECT_EQ(opt.error, "session_id: expected a string or null, got a boolean");
  const RejectedRow id = rejected_only(event_line({{"event_id", "12"}}));
  EXPECT_EQ(id.error, "event_id: expected a string or null, got a number");
}

TEST(NdjsonReader, TimestampForms) {
  auto seconds = [](std::string_view value) { return event_only(event_line({{"timestamp", value}})).timestamp; };
  EXPECT_EQ(seconds(R"("2025-05-11 10:23:03")"), kSeedTime);
  EXPECT_EQ(seconds(R"("2025-05-11T10:23:03")"), kSeedTime);
  EXPECT_EQ(seconds(R"("2025-05-11T10:23:03.999Z")"), kSeedTime);
  EXPECT_EQ(seconds(R"("2025-05-11T12:23:03+02:00")"), kSeedTime);
  EXPECT_EQ(seconds(R"("2025-05-11T10:23:03\u005a")"), kSeedTime);  // an escaped 'Z'
  EXPECT_EQ(seconds("1746958983"), kSeedTime);
  EXPECT_EQ(seconds("0"), 0);
  EXPECT_EQ(seconds("-0"), 0);
  EXPECT_EQ(seconds("4291747199"), 4291747199);
}

TEST(NdjsonReader, InvalidTimestamps) {
  const std::vector<std::pair<std::string_view, std::string_view>> cases = {
      {R"("2025-13-01 00:00:00")", "timestamp: '2025-13-01 00:00:00' is not a valid DateTime: month must be 01..12"},
      {R"("2025-02-29 00:00:00")",
       "timestamp: '2025-02-29 00:00:00' is not a valid DateTime: day must be 01..28 in that month"},
      {R"("2025-01-01 24:00:00")", "timestamp: '2025-01-01 24:00:00' is not a valid DateTime: hour must be 00..23"},
      {R"("1746958983")",
       "timestamp: '1746958983' is not a valid DateTime: expected YYYY-MM-DD HH:MM:SS or "
       "YYYY-MM-DDTHH:MM:SS[.fff][Z|+HH:MM]"},
      {"1.7e9", "timestamp: 1.7e9 is not a whole number of Unix seconds"},
      {"1746958983.0", "timestamp: 1746958983.0 is not a whole number of Unix seconds"},
      {"1e400", "timestamp: 1e400 is not a whole number of Unix seconds"},
      {"-1",
       "timestamp: -1 seconds is outside the DateTime range 1970-01-01 00:00:00 to 2105-12-31 23:59:59 UTC"},
      {"4291747200",
       "timestamp: 4291747200 seconds is outside the DateTime range 1970-01-01 00:00:00 to 2105-12-31 23:59:59 UTC"},
      {"18446744073709551615",
       "timestamp: 18446744073709551615 seconds is outside the DateTime range 1970-01-01 00:00:00 to 2105-12-31 "
       "23:59:59 UTC"},
      {"-99999999999999999999999",
       "timestamp: -99999999999999999999999 seconds is outside the DateTime range 1970-01-01 00:00:00 to "
       "2105-12-31 23:59:59 UTC"},
      {"true", "timestamp: expected a DateTime string or an integer of Unix seconds, got a boolean"},
      {"{}", "timestamp: expected a DateTime string or an integer of Unix seconds, got an object"},
      {R"("1969-12-31T23:59:59Z")",
       "timestamp: '1969-12-31T23:59:59Z' is outside the DateTime range 1970-01-01 00:00:00 to 2105-12-31 23:59:59 "
       "UTC"},
  };
  for (const auto& [value, error] : cases) {
    const RejectedRow r = rejected_only(event_line({{"timestamp", value}}));
    EXPECT_THAT(r.columns, ElementsAre("timestamp")) << value;
    EXPECT_EQ(r.error, error) << value;
  }
}

TEST(NdjsonReader, DecodesEscapes) {
  const OwnedEvent e = event_only(event_line({{"user_id", R"("a\"b\\c\/d\n\t\u00e9\ud83d\ude00\u0000")"},
                                              {"feature_id", R"("\u4e2d")"}}));
  EXPECT_EQ(e.user_id, std::string("a\"b\\c/d\n\t\xC3\xA9\xF0\x9F\x98\x80\0", 16));
  EXPECT_EQ(e.feature_id, "\xE4\xB8\xAD");
}

TEST(NdjsonReader, ViewsPointIntoTheInputOrTheBatch) {
  const std::string text = event_line({{"user_id", R"("plain")"}, {"feature_id", R"("esc\naped")"}}) + "\n";
  auto reader = make_ndjson_reader();
  ParsedBatch batch;
  ASSERT_EQ(reader->parse(text, true, &batch), text.size());
  ASSERT_EQ(batch.events.size(), 1u);
  const Event& e = batch.events[0];
  auto inside = [&](std::string_view v) { return v.data() >= text.data() && v.data() + v.size() <= text.data() + text.size(); };
  EXPECT_TRUE(inside(e.user_id));
  EXPECT_EQ(e.user_id, "plain");
  EXPECT_FALSE(inside(e.feature_id));  // decoded into batch.storage
  EXPECT_EQ(e.feature_id, "esc\naped");
}

// A string with escapes seen before is not decoded again: its event holds a
// view of the value the reader kept, valid after the input and the batch are
// gone, and equal to what decoding gives. Past the reader's bound, values are
// decoded into the batch as before; a bad escape is rejected every time.
TEST(NdjsonReader, RepeatedEscapedStringsAreDecodedOnce) {
  auto reader = make_ndjson_reader();
  const auto parse_one = [&](const std::string& metadata, ParsedBatch* batch) {
    std::string text = event_line({{"metadata", metadata}, {"feature_id", R"("f\u00e9")"}}) + "\n";
    EXPECT_EQ(reader->parse(text, false, batch), text.size());
    std::fill(text.begin(), text.end(), 'x');  // views into the input would change
  };
  ParsedBatch first, second;
  parse_one(R"("{\"device\":\"desktop\"}")", &first);
  parse_one(R"("{\"device\":\"desktop\"}")", &second);
  ASSERT_EQ(first.events.size(), 1u);
  ASSERT_EQ(second.events.size(), 1u);
  EXPECT_EQ(first.events[0].metadata, R"({"device":"desktop"})");  // decoded into the batch
  const std::string_view kept = second.events[0].metadata;         // the reader's copy
  EXPECT_NE(kept.data(), first.events[0].metadata.data());
  // Batches reuse their storage: new values overwrite what they held.
  parse_one(R"("{\"device\":\"mobile\"}")", &first);
  parse_one(R"("{\"device\":\"tablet\"}")", &second);
  EXPECT_EQ(kept, R"({"device":"desktop"})");

  // Many distinct values (past the bound): each still decoded exactly.
  for (int i = 0; i < 20000; ++i) {
    ParsedBatch batch;
    const std::string value = absl::StrCat("v\\t", i, std::string(60, 'p'));
    parse_one(absl::StrCat("\"", value, "\""), &batch);
    ASSERT_EQ(batch.events.size(), 1u) << i;
    ASSERT_EQ(batch.events[0].metadata, absl::StrCat("v\t", i, std::string(60, 'p'))) << i;
    ASSERT_EQ(batch.events[0].feature_id, "f\xC3\xA9") << i;
  }
  for (int attempt = 0; attempt < 2; ++attempt) {
    ParsedBatch batch;
    parse_one(R"("bad \q escape")", &batch);
    EXPECT_TRUE(batch.events.empty()) << attempt;
    EXPECT_EQ(batch.rejected.size(), 1u) << attempt;
  }
}

TEST(NdjsonReader, UnicodeKeysAndKeysWithEscapes) {
  // "user\u005fid" is the key user_id.
  const OwnedEvent e = event_only(event_line({{"user_id", kOmit}, {"user\\u005fid", R"("u9")"}, {"\u00e9", "1"}}));
  EXPECT_EQ(e.user_id, "u9");
  const RejectedRow dup = rejected_only(event_line({{"user\\u005fid", R"("u9")"}}));
  EXPECT_EQ(dup.error, "user_id: duplicated key");
}

TEST(NdjsonReader, InvalidUtf8RejectsTheLineAndKeepsItsBytes) {
  for (const std::string& bad : {std::string("\"u\xff\""), std::string("\"\xC0\xAF\""), std::string("\"\xED\xA0\x80\""),
                                 std::string("\"\xF4\x90\x80\x80\""), std::string("\"ab\xE2\x82\"")}) {
    for (const char* column : {"user_id", "unknown"}) {
      const std::string line = event_line({{column, bad}});
      const RejectedRow r = rejected_only(line);
      EXPECT_EQ(r.raw, line);
      EXPECT_THAT(r.columns, IsEmpty());
      EXPECT_EQ(r.error, "invalid UTF-8");
    }
  }
}

// The reader does not check strings for UTF-8 again (simdjson validated the
// whole window): a bad line among good ones, where a window holds them all,
// is still rejected alone, wherever it is and whatever column holds it.
TEST(NdjsonReader, InvalidUtf8AmongValidLinesRejectsOnlyItsLine) {
  constexpr int kLines = 200;
  for (const int bad_line : {1, 2, 100, kLines}) {
    for (const char* column : {"user_id", "session_id", "metadata", "unknown"}) {
      std::string text;
      for (int i = 1; i <= kLines; ++i) {
        text += i == bad_line ? event_line({{column, "\"ok\xC3\x28" "bad\""}}) : event_line();
        text += "\n";
      }
      Parsed p = parse_ndjson(text);
      ASSERT_EQ(p.events.size(), kLines - 1u) << bad_line << " " << column;
      ASSERT_EQ(p.rejected.size(), 1u) << bad_line << " " << column;
      EXPECT_EQ(p.rejected[0].line, static_cast<uint64_t>(bad_line));
      EXPECT_EQ(p.rejected[0].error, "invalid UTF-8");
    }
  }
}

TEST(NdjsonReader, LoneSurrogatesRejectTheLine) {
  for (const char* value : {R"("\ud800")", R"("\udc00")", R"("x\ud800x")", R"("\ud800\u0041")",
                            R"("\ud800\ud800")", R"("\uDFFF")"}) {
    for (const char* column : {"user_id", "timestamp", "unknown"}) {
      const RejectedRow r = rejected_only(event_line({{column, value}}));
      EXPECT_THAT(r.columns, IsEmpty()) << column << " " << value;
      EXPECT_THAT(r.error, HasSubstr("lone surrogate")) << column << " " << value;
    }
    const RejectedRow nested = rejected_only(event_line({{"metadata", cat("{\"k\":", value, "}")}}));
    EXPECT_THAT(nested.error, HasSubstr("lone surrogate"));
    const RejectedRow key = rejected_only(cat("{", value, ":1}"));
    EXPECT_THAT(key.error, HasSubstr("lone surrogate"));
  }
}

TEST(NdjsonReader, BadEscapesAndControlCharactersRejectTheLine) {
  EXPECT_THAT(rejected_only(event_line({{"user_id", R"("\x41")"}})).error, HasSubstr("bad escape"));
  EXPECT_THAT(rejected_only(event_line({{"user_id", R"("\u00g1")"}})).error, HasSubstr("bad escape"));
  EXPECT_THAT(rejected_only(event_line({{"unknown", R"("\q")"}})).error, HasSubstr("bad escape"));
  EXPECT_THAT(rejected_only(event_line({{"user_id", "\"a\tb\""}})).error, HasSubstr("control character"));
  EXPECT_THAT(rejected_only(event_line({{"user_id", std::string("\"a\0b\"", 5)}})).error,
              HasSubstr("control character"));
}

TEST(NdjsonReader, DuplicatedKnownKeysAreInvalid) {
  const RejectedRow r = rejected_only(event_line({{"user_id", kOmit}}) .insert(1, R"("user_id":"a","user_id":"b",)"));
  EXPECT_THAT(r.columns, ElementsAre("user_id"));
  EXPECT_EQ(r.error, "user_id: duplicated key");
  // Even when the copies agree, or one is null.
  const RejectedRow same = rejected_only(event_line().insert(1, R"("timestamp":"2025-05-11 10:23:03",)"));
  EXPECT_EQ(same.error, "timestamp: duplicated key");
  const RejectedRow null = rejected_only(event_line().insert(1, R"("metadata":null,)"));
  EXPECT_EQ(null.error, "metadata: duplicated key");
  // Unknown keys may repeat.
  EXPECT_EQ(event_only(event_line({{"x", "1"}}).insert(1, R"("x":2,)")), expected_event(1));
}

TEST(NdjsonReader, LinesThatAreNotObjects) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"[1,2]", "expected a JSON object, got an array"},
      {"42", "expected a JSON object, got a number"},
      {"\"text\"", "expected a JSON object, got a string"},
      {"true", "expected a JSON object, got a boolean"},
      {"null", "expected a JSON object, got null"},
      {"  [ ]  ", "expected a JSON object, got an array"},
      {"not json", "not valid JSON: missing or extra comma, colon, brace, bracket or quote"},
      {"nul", "not valid JSON: missing or extra comma, colon, brace, bracket or quote"},
      {"12ab", "not valid JSON: missing or extra comma, colon, brace, bracket or quote"},
      {"}", "not valid JSON: missing or extra comma, colon, brace, bracket or quote"},
      {"{\"a\":1} {\"b\":2}", "not valid JSON: unexpected text after the object"},
      {event_line() + event_line(), "not valid JSON: unexpected text after the object"},
      {event_line() + " x", "not valid JSON: unclosed object or array, or text after the object"},
      {event_line() + ",", "not valid JSON: unclosed object or array, or text after the object"},
      {"{\"a\":1", "not valid JSON: unclosed object or array, or text after the object"},
      {"{\"a\":\"1}", "not valid JSON: unclosed string"},
      {"{\"a\":1,}", "not valid JSON: missing or extra comma, colon, brace, bracket or quote"},
      {"{\"a\" 1}", "not valid JSON: missing or extra comma, colon, brace, bracket or quote"},
      {"{a:1}", "not valid JSON: missing or extra comma, colon, brace, bracket or quote"},
      {"{\"a\":tru}", "not valid JSON: unknown literal (expected true, false or null)"},
      {"{\"a\":nulls}", "not valid JSON: unknown literal (expected true, false or null)"},
      {"{\"a\":01}", "not valid JSON: malformed number"},
      {"{\"a\":1.}", "not valid JSON: malformed number"},
      {"{\"a\":-}", "not valid JSON: malformed number"},
      {"{\"a\":[1,2}", "not valid JSON: missing or extra comma, colon, brace, bracket or quote"},
      // On Demand skips a string followed by ':' as if it were a key: every
      // value must be read, never left to be skipped (found by the fuzzer).
      {R"({"timestamp":"":[]}})", "not valid JSON: missing or extra comma, colon, brace, bracket or quote"},
      {R"({"user_id":"u":{}}})", "not valid JSON: missing or extra comma, colon, brace, bracket or quote"},
      {R"({"x":"u":{}}})", "not valid JSON: missing or extra comma, colon, brace, bracket or quote"},
      {R"({"metadata":null:1}})", "not valid JSON: missing or extra comma, colon, brace, bracket or quote"},
  };
  for (const auto& [line, error] : cases) {
    const RejectedRow r = rejected_only(line);
    EXPECT_EQ(r.raw, line);
    EXPECT_THAT(r.columns, IsEmpty()) << line;
    EXPECT_EQ(r.error, error) << line;
  }
}

TEST(NdjsonReader, InvalidJsonInAValueRejectsTheWholeLine) {
  // The column errors found before the bad value do not matter: the line is
  // not JSON.
  for (const auto& [column, value] : std::vector<std::pair<const char*, const char*>>{
           {"unknown", "tru"}, {"user_id", "[1,}"}, {"metadata", "{\"a\":nul}"}, {"timestamp", "--1"},
           {"session_id", "{\"a\" 1}"}}) {
    const RejectedRow r = rejected_only(event_line({{"user_id", "7"}, {column, value}}));
    EXPECT_THAT(r.columns, IsEmpty()) << column << " " << value;
    EXPECT_THAT(r.error, HasSubstr("not valid JSON")) << column << " " << value;
  }
}

TEST(NdjsonReader, ObjectBrokenAcrossTwoLinesRejectsBothAndNoNeighbour) {
  const std::string whole = event_line();
  const std::string text =
      cat(event_line(), "\n", whole.substr(0, 40), "\n", whole.substr(40), "\n", event_line(), "\n");
  Parsed p = parse_ndjson(text);
  EXPECT_THAT(p.events, ElementsAre(expected_event(1), expected_event(4)));
  ASSERT_EQ(p.rejected.size(), 2u);
  EXPECT_EQ(p.rejected[0].line, 2u);
  EXPECT_EQ(p.rejected[0].raw, whole.substr(0, 40));
  EXPECT_EQ(p.rejected[1].line, 3u);
  EXPECT_EQ(p.rejected[1].raw, whole.substr(40));
}

TEST(NdjsonReader, ListsEveryBadColumnInColumnOrder) {
  const RejectedRow r = rejected_only(
      R"({"metadata":42,"timestamp":"2025-02-29 00:00:00","event_type":null,"feature_id":"","user_id":7})");
  EXPECT_THAT(r.columns, ElementsAre("user_id", "feature_id", "product_version", "event_type", "timestamp", "metadata"));
  EXPECT_EQ(r.error,
            "user_id: expected a string, got a number; feature_id: must not be empty; product_version: missing; "
            "event_type: must not be null; timestamp: '2025-02-29 00:00:00' is not a valid DateTime: day must be "
            "01..28 in that month; metadata: expected a string, object, array or null, got a number");
  const RejectedRow empty_object = rejected_only("{}");
  EXPECT_EQ(empty_object.error,
            "user_id: missing; feature_id: missing; product_version: missing; event_type: missing; timestamp: missing");
}

TEST(NdjsonReader, NestingLimit) {
  auto nested = [](int depth) { return std::string(depth, '[') + std::string(depth, ']'); };
  EXPECT_EQ(event_only(event_line({{"metadata", nested(1000)}})).metadata, nested(1000));
  const RejectedRow r = rejected_only(event_line({{"x", nested(1030)}}));
  EXPECT_THAT(r.error, HasSubstr("nested deeper than 1024 levels"));
}

// Lines in many forms, the plain ones (flat objects of strings) and every
// near miss: whitespace, escapes (new and repeated), non-ASCII and invalid
// UTF-8, control characters, values of other types, duplicated, unknown
// and escaped keys, and random byte edits.
std::string plain_line_variants(uint64_t seed, int lines) {
  gen::Random rng(seed);
  const auto pick = [&](std::initializer_list<std::string_view> options) {
    return *(options.begin() + rng.uniform(options.size()));
  };
  const auto space = [&]() -> std::string_view { return rng.chance(0.85) ? "" : pick({" ", "\t", "  ", " \t", "\r"}); };
  // Escapes, runs of '\\' and other special bytes at every offset of the
  // 16-byte blocks the reader scans, most of them valid JSON; few enough
  // that each repeats (the plain reader reads a string with escapes once
  // simdjson has decoded it).
  std::vector<std::string> escaped_values;
  for (int i = 0; i < 6; ++i) {
    std::string s = "\"";
    for (int pieces = static_cast<int>(rng.range(1, 24)); pieces > 0; --pieces) {
      s += pick({"a", "bc", "defgh", "0123456789abcdef", R"(\")", R"(\\)", R"(\\\")", R"(\n)", R"(\u00e9)",
                 "\xC3\xA9", R"(\/)", rng.chance(0.1) ? "\x01" : "z", rng.chance(0.1) ? R"(\q)" : "y"});
    }
    escaped_values.push_back(s + "\"");
  }
  const auto string_value = [&]() -> std::string {
    if (rng.chance(0.15)) return escaped_values[rng.uniform(escaped_values.size())];
    if (rng.chance(0.8)) {
      return std::string(
          pick({R"("a")", R"("user_17")", R"("x y")", R"("caf\u00e9")", "\"caf\xC3\xA9\"",
                R"("{\"device\":\"desktop\",\"os\":\"linux\"}")", R"("{\"device\":\"mobile\"}")", R"("tab\there")",
                R"("q\"uote")", R"("back\\slash")", R"("\ud83d\ude00")", "\"del\x7F\"", R"("\/")"}));
    }
    return std::string(pick(
        {R"("")", R"("bad\xescape")", R"("\ud800")", "\"bad\xFFutf8\"", "\"ctl\x01\"", R"("ends\\")", "\"\xE2\x82\""}));
  };
  const auto value_of = [&](std::string_view key) -> std::string {
    if (rng.chance(0.03))
      return std::string(pick({"null", "17", "1746958983", "-1", "1.5", "true", "{}", "[]", R"({"a":"b"})",
                               R"(["x",1])", "nul", "\"unterminated"}));
    if (key == "timestamp") {
      if (rng.chance(0.8)) {
        return std::string(pick({R"("2025-05-11 10:23:03")", R"("2025-01-31 23:59:59")", "1746958983"}));
      }
      if (rng.chance(0.5)) {
        return std::string(pick({"0", "012", "00", "4354819199", "4354819200", "99999999999999999999",
                                 "999999999999999999", "1e9", "1746958983.0", "1746958983E0", "-0", "17x"}));
      }
      return std::string(
          pick({R"("2025-02-30 00:00:00")", R"("2025-05-11T10:23:03Z")", R"("2025-05-11T10:23:03.5+02:00")",
                R"("yesterday")", R"("2025-05-11 10:23:0\u0033")", R"("")"}));
    }
    return string_value();
  };
  std::string text;
  for (int n = 0; n < lines; ++n) {
    std::vector<std::string> keys = {"event_id",   "user_id",   "feature_id", "product_version",
                                     "event_type", "timestamp", "session_id", "metadata"};
    // Shuffle, drop, duplicate, add unknown and escaped keys.
    for (size_t i = keys.size(); i > 1; --i) std::swap(keys[i - 1], keys[rng.uniform(i)]);
    if (rng.chance(0.05)) keys.erase(keys.begin() + static_cast<std::ptrdiff_t>(rng.uniform(keys.size())));
    if (rng.chance(0.03)) keys.push_back(keys[rng.uniform(keys.size())]);
    if (rng.chance(0.1)) keys.push_back(std::string(pick({"extra", "", "caf\xC3\xA9", "user\\u005fid", "x\\\"y"})));
    if (rng.chance(0.02)) keys.push_back(std::string(300, 'k'));  // longer than any scan's 16 bytes
    std::string line(space());
    line += "{";
    for (size_t i = 0; i < keys.size(); ++i) {
      if (i > 0) line += cat(space(), ",", space());
      line += cat(space(), "\"", keys[i], "\"", space(), ":", space(), value_of(keys[i]));
    }
    line += cat(space(), "}", space());
    if (rng.chance(0.02)) line = pick({"", " ", "{}", "[]", "{\"a\":\"b\"}{}", "{\"a\":\"b\"} x", "\"s\"", "17"});
    // Random byte edits.
    for (int edits = rng.chance(0.1) ? static_cast<int>(rng.range(1, 3)) : 0; edits > 0 && !line.empty(); --edits) {
      const size_t at = rng.uniform(line.size());
      switch (rng.uniform(3)) {
        case 0:
          line.erase(at, 1);
          break;
        case 1:
          line.insert(at, pick({"\"", "\\", "{", "}", ":", ",", " ", "\x02", "\xC3", "\xA9", "u", "0", "\r"}));
          break;
        default:
          line.resize(at);
          break;
      }
    }
    text += line;
    text += rng.chance(0.1) ? "\r\n" : "\n";
  }
  return text;
}

TEST(NdjsonReader, PlainLinesReadExactlyAsSimdjsonReadsThem) {
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    const std::string text = plain_line_variants(seed, 400);
    NdjsonReader plain(/*plain_lines=*/true), simdjson_only(/*plain_lines=*/false);
    // Whole, and in pieces of a few hundred bytes: every line sits at a
    // window's edge in some run.
    std::vector<size_t> cuts;
    for (size_t at = 97 * seed; at < text.size(); at += 331 + seed) cuts.push_back(at);
    for (const std::vector<size_t>& pieces : {std::vector<size_t>{}, cuts}) {
      const Parsed a = reader_testing::parse_in_pieces(plain, text, pieces);
      const Parsed b = reader_testing::parse_in_pieces(simdjson_only, text, pieces);
      ASSERT_EQ(a.records, b.records) << "seed " << seed;
      ASSERT_EQ(a.events, b.events) << "seed " << seed;
      ASSERT_EQ(a.rejected.size(), b.rejected.size()) << "seed " << seed;
      for (size_t i = 0; i < a.rejected.size(); ++i) {
        EXPECT_EQ(a.rejected[i].line, b.rejected[i].line) << "seed " << seed;
        EXPECT_EQ(a.rejected[i].raw, b.rejected[i].raw) << "seed " << seed;
        EXPECT_EQ(a.rejected[i].error, b.rejected[i].error) << "seed " << seed << " line " << a.rejected[i].line;
        EXPECT_EQ(a.rejected[i].columns, b.rejected[i].columns) << "seed " << seed;
      }
      // The variants are not all broken: both readers accept many lines.
      EXPECT_GT(a.events.size(), 30u) << "seed " << seed;
    }
  }
}

// A string's special bytes at every offset of the 16-byte blocks the plain
// reader scans, after an escape and across block ends. Each line comes
// twice: the second time it meets the value simdjson decoded the first time
// (the plain reader reads a string with escapes only then), among plain
// lines (a window with many lines it cannot read goes to simdjson whole).
// Both readers give the same events and the same rejections: an escape the
// plain reader missed would hand on the raw text. (A wrong end, control
// character or invalid byte in a string with escapes only sends the line to
// simdjson: the reader takes such a string only as a value simdjson decoded
// before.)
TEST(NdjsonReader, PlainLinesWithSpecialBytesAtEveryOffsetReadAsSimdjsonReadsThem) {
  std::vector<std::string> lines;
  for (size_t k = 0; k < 40; ++k) {
    for (const std::string_view special :
         {R"(\")", R"(\\)", R"(\\\")", R"(\\\\\")", "\xFF", "\x01", "\xC3\xA9", R"(\u00e9)", R"(\n)", R"(\)"}) {
      for (const size_t after : {size_t{0}, size_t{1}, size_t{15}, size_t{16}, size_t{17}, size_t{30}}) {
        for (const std::string_view second : {std::string_view(), std::string_view("\xFF"), std::string_view("\x01")}) {
          lines.push_back(event_line({{"metadata", cat("\"", std::string(k, 'x'), special, std::string(after, 'y'),
                                                         second, R"(\"z)", "\"")}}));
        }
      }
    }
  }
  std::string text;
  for (const std::string& line : lines) text += cat(line, "\n");
  for (const std::string& line : lines) {
    text += cat(line, "\n");
    for (int i = 0; i < 12; ++i) text += cat(event_line(), "\n");
  }
  NdjsonReader plain(/*plain_lines=*/true), simdjson_only(/*plain_lines=*/false);
  const Parsed a = reader_testing::parse_whole(plain, text);
  const Parsed b = reader_testing::parse_whole(simdjson_only, text);
  ASSERT_EQ(a.records, b.records);
  ASSERT_EQ(a.events, b.events);
  ASSERT_EQ(a.rejected.size(), b.rejected.size());
  for (size_t i = 0; i < a.rejected.size(); ++i) {
    EXPECT_EQ(a.rejected[i].line, b.rejected[i].line);
    EXPECT_EQ(a.rejected[i].error, b.rejected[i].error) << "line " << a.rejected[i].line;
  }
  EXPECT_GT(a.events.size(), 12 * lines.size());
}

// An unclosed object followed by a line that starts with `{`: On Demand
// ended the object at the next line's first token without an error, and a
// window trusted it as a complete line with no columns (found by the fuzz
// target once it compared the reader with and without plain lines; the
// input is in the corpus as crash-window-trusted-an-unclosed-object).
TEST(NdjsonReader, AnUnclosedObjectBeforeALineStartingWithABraceIsNotJson) {
  // The fuzzer's input: what follows the first two lines decides how
  // simdjson cuts the window into documents.
  const std::string text(
      "{\"a\":1\n{\"a\":\n}etadata{\"a_ty\" 1}\n{a:1}\n{\"a\":tru}\n1.}\n{\"a\":-\0{\"a\":1,}\n-\"a\" 0}\n{", 77);
  for (const bool plain : {true, false}) {
    NdjsonReader reader(plain);
    const Parsed p = reader_testing::parse_whole(reader, text);
    EXPECT_THAT(p.events, IsEmpty()) << plain;
    ASSERT_EQ(p.rejected.size(), 9u) << plain;
    for (const RejectedRow& row : p.rejected) {
      EXPECT_THAT(row.columns, IsEmpty()) << plain << ", line " << row.line << ": " << row.error;
      EXPECT_THAT(row.error, HasSubstr("not valid JSON")) << plain << ", line " << row.line;
    }
  }
}

TEST(NdjsonReader, LongLines) {
  const std::string big(300'000, 'x');  // longer than a window and the parser's first capacity
  const std::string text = cat(event_line(), "\n", event_line({{"metadata", cat("\"", big, "\"")}}),
                                        "\n", event_line(), "\n", "[", big, "\n", event_line());
  Parsed p = parse_ndjson(text);
  ASSERT_EQ(p.events.size(), 4u);
  EXPECT_EQ(p.events[1].metadata, big);
  EXPECT_EQ(p.events[1].line, 2u);
  EXPECT_EQ(p.events[3].line, 5u);
  ASSERT_EQ(p.rejected.size(), 1u);
  EXPECT_EQ(p.rejected[0].line, 4u);
}

}  // namespace
}  // namespace usagedb
