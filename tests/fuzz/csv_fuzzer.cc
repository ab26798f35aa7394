// libFuzzer target for the CSV reader (lib/ingest/csv_reader.h).
//
// The first input byte picks how the rest is cut into chunks; the rest is
// fed to a reader chunk by chunk and every promise of ParsedBatch is
// checked: records == events + rejected; every event passes
// validate_event(); line numbers strictly increase and stay within the
// input; a rejected record's raw text is the input from the start of its
// line; and any cutting gives the same records as the whole input at once.
//
//   build-fuzz/tests/fuzz/csv_fuzzer -max_total_time=120 tests/fuzz/corpus/csv
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lib/ingest/record_reader.h"
#include "lib/ingest/validate.h"
#include "tests/fuzz/fuzz_support.h"
#include "usagedb/event.h"

namespace usagedb::fuzz {
namespace {

struct Outcome {
  uint64_t line = 0;
  bool accepted = false;
  std::vector<std::string> values;  // accepted: the eight columns, timestamp as seconds
  std::string raw, error;           // rejected
  std::vector<std::string> columns;
  bool operator==(const Outcome&) const = default;
};

std::vector<Outcome> run(std::string_view input, const std::vector<size_t>& pieces) {
  std::unique_ptr<RecordReader> reader = make_csv_reader();
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
    size_t e = 0, r = 0;
    while (e < batch.events.size() || r < batch.rejected.size()) {
      Outcome o;
      if (r == batch.rejected.size() || (e < batch.events.size() && batch.event_lines[e] < batch.rejected[r].line)) {
        const Event& ev = batch.events[e];
        CHECK(!validate_event(ev).has_value(), "an accepted event fails validate_event()");
        o.line = batch.event_lines[e++];
        o.accepted = true;
        o.values = {std::string(ev.event_id),   std::string(ev.user_id),
                    std::string(ev.feature_id), std::string(ev.product_version),
                    std::string(ev.event_type), std::to_string(ev.timestamp.time_since_epoch().count()),
                    std::string(ev.session_id), std::string(ev.metadata)};
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

}  // namespace
}  // namespace usagedb::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace usagedb::fuzz;
  if (size == 0) return 0;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::vector<Outcome> chunked = run(input, split_points(data[0], input));
  const std::vector<Outcome> whole = run(input, {});
  CHECK(chunked == whole, "cutting the input changed the records");
  // Where each line starts (after a BOM).
  if (input.substr(0, 3) == "\xEF\xBB\xBF") input.remove_prefix(3);
  std::vector<size_t> starts = {0};
  for (size_t i = 0; i < input.size(); ++i) {
    if (input[i] == '\n' && i + 1 < input.size()) starts.push_back(i + 1);
  }
  for (const Outcome& o : whole) {
    CHECK(o.line >= 1 && o.line <= starts.size(), "a line number beyond the input");
    if (!o.accepted) CHECK(input.substr(starts[o.line - 1], o.raw.size()) == o.raw, "raw is not the record's text");
  }
  return 0;
}
