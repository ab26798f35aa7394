// libFuzzer target for the NDJSON reader (lib/ingest/ndjson_reader.h).
//
// The first input byte picks how the rest is cut into chunks; the rest is
// fed to a reader chunk by chunk, as a caller does (the unconsumed rest is
// passed again with more input), and every promise of ParsedBatch is checked:
//   - records == events + rejected, one line number per event;
//   - every event passes validate_event();
//   - line numbers strictly increase and stay within the input's lines;
//   - a rejected row's raw text is exactly its line of the input;
//   - the same input fed one line at a time (iterate() per line, never an
//     iterate_many window) gives exactly the same events and rejections;
//   - so does a reader without the plain-line reader (simdjson only);
//   - simdjson's DOM parser, which validates everything, agrees: a line that
//     is not JSON is rejected as a whole, a JSON object is never called "not
//     JSON", and an accepted line's strings and timestamp are the DOM's.
//
//   build-fuzz/tests/fuzz/ndjson_fuzzer -max_total_time=300 tests/fuzz/corpus/ndjson
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "lib/ingest/ndjson_reader.h"
#include "lib/ingest/record_reader.h"
#include "lib/ingest/validate.h"
#include "simdjson.h"
#include "tests/fuzz/fuzz_support.h"
#include "usagedb/event.h"

namespace usagedb::fuzz {
namespace {

// What a reader made of one record, owning its bytes.
struct Outcome {
  uint64_t line = 0;
  bool accepted = false;
  std::vector<std::string> values;  // accepted: the eight columns, timestamp as seconds
  std::string raw, error;           // rejected
  std::vector<std::string> columns;
  bool operator==(const Outcome&) const = default;
};

// Feeds `input` in `pieces` (to a reader with or without its plain-line
// reader) and returns every record in input order.
std::vector<Outcome> run(std::string_view input, const std::vector<size_t>& pieces, bool plain_lines = true) {
  std::unique_ptr<RecordReader> reader = std::make_unique<NdjsonReader>(plain_lines);
  ParsedBatch batch;
  std::string pending;
  std::vector<Outcome> outcomes;
  size_t fed = 0;
  for (size_t i = 0; i <= pieces.size(); ++i) {
    const bool final = i == pieces.size();
    const size_t n = final ? input.size() - fed : std::min(pieces[i], input.size() - fed);
    pending.append(input.substr(fed, n));
    fed += n;
    const size_t used = reader->parse(pending, final, &batch);
    CHECK(used <= pending.size(), "consumed more than it was given");
    if (final) CHECK(used == pending.size(), "a final parse() left bytes unconsumed");
    CHECK(batch.records == batch.events.size() + batch.rejected.size(), "records != events + rejected");
    CHECK(batch.event_lines.size() == batch.events.size(), "one line number per event");
    // Merge events and rejections back into input order.
    size_t e = 0, r = 0;
    while (e < batch.events.size() || r < batch.rejected.size()) {
      Outcome o;
      if (r == batch.rejected.size() || (e < batch.events.size() && batch.event_lines[e] < batch.rejected[r].line)) {
        const Event& ev = batch.events[e];
        CHECK(!validate_event(ev).has_value(), "an accepted event fails validate_event()");
        o.line = batch.event_lines[e++];
        o.accepted = true;
        o.values = {std::string(ev.event_id),
                    std::string(ev.user_id),
                    std::string(ev.feature_id),
                    std::string(ev.product_version),
                    std::string(ev.event_type),
                    std::to_string(ev.timestamp.time_since_epoch().count()),
                    std::string(ev.session_id),
                    std::string(ev.metadata)};
      } else {
        const RejectedRow& row = batch.rejected[r++];
        o.line = row.line;
        o.raw = row.raw;
        o.error = row.error;
        o.columns = row.columns;
        CHECK(!o.error.empty(), "a rejected row without an error");
      }
      CHECK(outcomes.empty() || o.line > outcomes.back().line, "line numbers must strictly increase");
      outcomes.push_back(std::move(o));
    }
    pending.erase(0, used);
  }
  return outcomes;
}

// The DOM parser's view of a line: parse error, or the object.
void check_against_dom(std::string_view line, const Outcome& o) {
  static simdjson::dom::parser* parser = new simdjson::dom::parser;
  const simdjson::padded_string padded(line);
  simdjson::dom::element root;
  const simdjson::error_code err = parser->parse(padded).get(root);
  // simdjson 3.0.1 cannot represent huge numbers, and counts depth its own
  // way: no verdict on those lines.
  if (err == simdjson::NUMBER_ERROR || err == simdjson::DEPTH_ERROR) return;
  if (err != simdjson::SUCCESS || !root.is_object()) {
    CHECK(!o.accepted && o.columns.empty(), "a line that is not a JSON object must be rejected as a whole");
    return;
  }
  CHECK(o.accepted || !o.columns.empty() || o.error.find("nested deeper") != std::string::npos,
        "a JSON object must not be called not JSON");
  if (!o.accepted) return;
  static constexpr const char* kColumns[] = {"event_id", "user_id", "feature_id", "product_version",
                                             "event_type", "timestamp", "session_id", "metadata"};
  const simdjson::dom::object object = root.get_object().value_unsafe();
  for (int c = 0; c < 8; ++c) {
    simdjson::dom::element value;
    if (object[kColumns[c]].get(value) != simdjson::SUCCESS || value.is_null()) {
      CHECK(o.values[c].empty(), "an absent or null column must be empty");
      continue;
    }
    std::string_view s;
    if (value.get_string().get(s) == simdjson::SUCCESS) {
      if (c == 5) {
        const auto t = parse_timestamp(s);
        CHECK(t.ok() && std::to_string(t->time_since_epoch().count()) == o.values[c], "timestamp string differs");
      } else {
        CHECK(s == o.values[c], "a string column differs from the DOM's");
      }
    } else if (c == 5) {
      int64_t seconds;
      CHECK(value.get_int64().get(seconds) == simdjson::SUCCESS && std::to_string(seconds) == o.values[c],
            "timestamp number differs");
    } else {
      CHECK(c == 7 && (value.is_object() || value.is_array()), "only metadata may be an object or array");
    }
  }
}

}  // namespace
}  // namespace usagedb::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace usagedb::fuzz;
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::vector<Outcome> chunked = run(input, split_points(data[0], input));
  const std::vector<std::string_view> lines = input_lines(input);
  const std::vector<Outcome> one_by_one = run(input, line_pieces(input));
  CHECK(chunked == one_by_one, "windows and single lines disagree");
  CHECK(chunked == run(input, split_points(data[0], input), /*plain_lines=*/false),
        "the plain-line reader and simdjson disagree");
  for (const Outcome& o : chunked) {
    CHECK(o.line >= 1 && o.line <= lines.size(), "a line number beyond the input");
    const std::string_view line = lines[o.line - 1];
    if (!o.accepted) CHECK(o.raw == line, "raw is not the line's text");
    check_against_dom(line, o);
  }
  // Every non-blank line is a record.
  size_t records = 0;
  for (const std::string_view line : lines) records += line.find_first_not_of(" \t\r") != std::string_view::npos;
  CHECK(records == chunked.size(), "a non-blank line was skipped, or a blank one counted");
  return 0;
}
