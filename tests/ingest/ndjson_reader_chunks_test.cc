// The NDJSON reader fed in chunks (the consumed-bytes protocol), and its
// iterate_many windows: a line's verdict never depends on its neighbours.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/gen/generator.h"
#include "lib/ingest/record_reader.h"
#include "tests/ingest/ndjson_testing.h"
#include "tests/ingest/reader_testing.h"

namespace usagedb {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using reader_testing::cat;
using reader_testing::event_line;
using reader_testing::expected_event;
using reader_testing::OwnedEvent;
using reader_testing::parse_ndjson;
using reader_testing::Parsed;

TEST(NdjsonReader, ConsumesOnlyWholeLinesUntilFinal) {
  auto reader = make_ndjson_reader();
  ParsedBatch batch;
  const std::string line = event_line();
  EXPECT_EQ(reader->parse(line, false, &batch), 0u);  // no '\n' yet
  EXPECT_EQ(batch.records, 0u);
  const std::string two = cat(line, "\n", line.substr(0, 10));
  EXPECT_EQ(reader->parse(two, false, &batch), line.size() + 1);
  EXPECT_EQ(batch.events.size(), 1u);
  const std::string rest = line;  // the caller passes the unconsumed rest again, with more
  EXPECT_EQ(reader->parse(rest, true, &batch), rest.size());
  ASSERT_EQ(batch.events.size(), 1u);
  EXPECT_EQ(batch.event_lines[0], 2u);
}

TEST(NdjsonReader, ClearsTheBatchOnEveryCall) {
  auto reader = make_ndjson_reader();
  ParsedBatch batch;
  const std::string text = event_line() + "\n[\n";
  reader->parse(text, false, &batch);
  EXPECT_EQ(batch.records, 2u);
  EXPECT_EQ(reader->parse("", true, &batch), 0u);
  EXPECT_EQ(batch.records, 0u);
  EXPECT_THAT(batch.events, IsEmpty());
  EXPECT_THAT(batch.rejected, IsEmpty());
}

TEST(NdjsonReader, AnySplitGivesTheSameResult) {
  const std::string text = cat("\xEF\xBB\xBF", event_line(), "\r\n\n", "[1]\n", event_line({{"user_id", "7"}}),
                                        "\n  \n", event_line({{"feature_id", R"("f\u00e9")"}}), "\r\n", event_line());
  const Parsed whole = parse_ndjson(text);
  ASSERT_EQ(whole.records, 5u);
  ASSERT_EQ(whole.events.size(), 3u);
  for (size_t cut = 0; cut <= text.size(); ++cut) {
    for (size_t cut2 : {cut, cut + 1, cut + 7, cut + 50}) {
      auto reader = make_ndjson_reader();
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

// Generated lines go through the iterate_many window; a bad line in a
// window must not change how its neighbours are read.
TEST(NdjsonReader, GeneratedLinesWithBadLinesAmongThem) {
  std::string clean, mixed;
  std::vector<OwnedEvent> expected;
  gen::Generator g({.events = 3000, .seed = 5});
  uint64_t line = 0;
  while (const Event* e = g.next()) {
    std::string one;
    gen::Generator::append_ndjson(*e, &one);
    clean += one;
    ++line;
    if (line % 97 == 0) {
      mixed += one.substr(0, one.size() / 2) + "\n";  // an object broken off
      mixed += one.substr(one.size() / 2);          // and its tail on the next line
      line += 1;
      continue;
    }
    if (line % 101 == 0) mixed += "   \n", line += 1;
    mixed += one;
    expected.push_back(OwnedEvent{std::string(e->event_id), std::string(e->user_id), std::string(e->feature_id),
                                  std::string(e->product_version), std::string(e->event_type),
                                  e->timestamp.time_since_epoch().count(), std::string(e->session_id),
                                  std::string(e->metadata), line});
  }
  const Parsed all = parse_ndjson(clean);
  EXPECT_EQ(all.events.size(), 3000u);
  EXPECT_THAT(all.rejected, IsEmpty());
  for (const std::vector<size_t>& cuts : std::vector<std::vector<size_t>>{{}, {4096, 70000, 300000}, {100000}}) {
    auto reader = make_ndjson_reader();
    const Parsed p = reader_testing::parse_in_pieces(*reader, mixed, cuts);
    EXPECT_EQ(p.events, expected);
    for (const RejectedRow& r : p.rejected) EXPECT_THAT(r.columns, IsEmpty()) << r.raw;
    EXPECT_EQ(p.records, p.events.size() + p.rejected.size());
  }
}

// A window walks a document before it knows the document is one line: a
// string of it may lie on the next line (found by the fuzzer: the search
// for escapes ran past the end of the input).
TEST(NdjsonReader, WindowDocumentWithAStringOnTheNextLine) {
  const std::string good = event_line();
  const Parsed p = parse_ndjson(cat(good, "\n{\"user_id\":\n\"u\\n\"}\n", good, "\n", std::string(70, ' '), "\n"));
  EXPECT_THAT(p.events, ElementsAre(expected_event(1), expected_event(4)));
  ASSERT_EQ(p.rejected.size(), 2u);
  EXPECT_EQ(p.rejected[0].raw, "{\"user_id\":");
  EXPECT_EQ(p.rejected[1].raw, "\"u\\n\"}");
}

// Lines that iterate_many reads as well-formed documents but that are not
// one object per line: each must be judged exactly as when it is alone.
TEST(NdjsonReader, WindowJudgesEveryLineAsIfItWereAlone) {
  const std::string good = event_line();
  const std::vector<std::string> tricky = {
      R"({"a":)",
      R"(1})",
      R"({"event_id":"e1",)",
      good.substr(good.find("\"user_id\"")),
      good + good,
      good + " " + good,
      good + "}",
      good + " x",
      good + " 1",
      good + " []",
      "[" + good + "]",
      "{\"user_id\":[",
      "]}",
      "  " + good + "  ",
      "\t" + event_line({{"metadata", R"({"k":[1,{"b":null}]})"}}),
      event_line({{"user_id", "7"}}),
      event_line({{"metadata", "{"}}),
      "}",
      "1",
      "\"s\"",
      "null",
      good.substr(0, good.size() - 1),
      "{}",
      // iterate_many drops an incomplete document at the end of its input
      // (found by the fuzzer as the last line of a window).
      "{}{",
      good + "{",
      good + " {\"a\":",
  };
  // Each tricky line alone, and amid good lines (a window of its own).
  for (const std::string& t : tricky) {
    const Parsed alone = parse_ndjson(t);
    ASSERT_EQ(alone.records, 1u) << t;
    const std::string text = cat(good, "\n", good, "\n\n", t, "\n", good, "\n", std::string(100, ' '), "\n");
    const Parsed together = parse_ndjson(text);
    EXPECT_EQ(together.records, 4u) << t;
    ASSERT_EQ(together.rejected.size(), alone.rejected.size()) << t;
    if (!alone.rejected.empty()) {
      EXPECT_EQ(together.rejected[0].line, 4u);
      EXPECT_EQ(together.rejected[0].raw, alone.rejected[0].raw);
      EXPECT_EQ(together.rejected[0].columns, alone.rejected[0].columns);
      EXPECT_EQ(together.rejected[0].error, alone.rejected[0].error);
    }
    std::vector<OwnedEvent> expected = {expected_event(1), expected_event(2)};
    for (OwnedEvent e : alone.events) {
      e.line = 4;
      expected.push_back(e);
    }
    expected.push_back(expected_event(5));
    EXPECT_EQ(together.events, expected) << t;

    // And as the last line of a window (iterate_many may leave out an
    // incomplete last document).
    const std::string last = cat(good, "\n", t, "\n", std::string(70, ' '), "\n");
    const Parsed at_end = parse_ndjson(last);
    EXPECT_EQ(at_end.records, 2u) << t;
    EXPECT_EQ(at_end.rejected.size(), alone.rejected.size()) << t;
    EXPECT_EQ(at_end.events.size(), 1 + alone.events.size()) << t;
  }
}

}  // namespace
}  // namespace usagedb
