// Micro benchmarks of the ingest readers (lib/ingest/record_reader.h): how
// fast NDJSON and CSV text becomes events, before any store work, on 200k
// events from the shared generator (~230-byte NDJSON lines).
//
//   build/bench/usagedb_ingest_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "benchmark/benchmark.h"
#include "lib/db/event_store_impl.h"
#include "lib/gen/generator.h"
#include "lib/ingest/record_reader.h"
#include "usagedb/event.h"

namespace usagedb {
namespace {

constexpr uint64_t kEvents = 200'000;

void append_csv_field(std::string_view value, std::string* out) {
  if (value.find_first_of(",\"\r\n") == std::string_view::npos) {
    out->append(value);
    return;
  }
  out->push_back('"');
  for (const char c : value) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

struct Inputs {
  std::string ndjson;
  std::string ndjson_with_rejects;  // every 100th line broken
  std::string ndjson_unix_seconds;  // timestamps as numbers: no line is in the plain form
  std::string csv;
};

const Inputs& inputs() {
  static const Inputs* in = [] {
    auto* r = new Inputs;
    r->csv = "event_id,user_id,feature_id,product_version,event_type,timestamp,session_id,metadata\n";
    gen::Generator g({.events = kEvents, .seed = 42});
    uint64_t n = 0;
    while (const Event* e = g.next()) {
      const size_t start = r->ndjson.size();
      gen::Generator::append_ndjson(*e, &r->ndjson);
      std::string_view line = std::string_view(r->ndjson).substr(start);
      {
        std::string unix_line(line);
        const size_t at = unix_line.find("\"timestamp\":\"") + 12;
        unix_line.replace(at, 21, std::to_string(e->timestamp.time_since_epoch().count()));
        r->ndjson_unix_seconds += unix_line;
      }
      if (++n % 100 == 0) {
        r->ndjson_with_rejects.append(line.substr(0, line.size() / 2)).push_back('\n');  // cut in half
      } else {
        r->ndjson_with_rejects.append(line);
      }
      for (const std::string_view field : {e->event_id, e->user_id, e->feature_id, e->product_version,
                                           e->event_type}) {
        append_csv_field(field, &r->csv);
        r->csv.push_back(',');
      }
      r->csv += format_timestamp(e->timestamp);
      r->csv.push_back(',');
      append_csv_field(e->session_id, &r->csv);
      r->csv.push_back(',');
      append_csv_field(e->metadata, &r->csv);
      r->csv.push_back('\n');
    }
    return r;
  }();
  return *in;
}

// Feeds `text` to a new reader in chunks of `chunk` bytes, as a caller
// reading a file would (the unconsumed rest is passed again).
void parse_all(benchmark::State& state, std::string_view text, bool csv, size_t chunk) {
  ParsedBatch batch;
  uint64_t events = 0;
  for (auto _ : state) {
    std::unique_ptr<RecordReader> reader = csv ? make_csv_reader() : make_ndjson_reader();
    size_t pos = 0;
    while (pos < text.size()) {
      const size_t n = std::min(chunk, text.size() - pos);
      const bool final = pos + n == text.size();
      const size_t used = reader->parse(text.substr(pos, n), final, &batch);
      events += batch.events.size();
      if (used == 0 && !final) {
        state.SkipWithError("a chunk holds no whole record");
        return;
      }
      pos += used;
    }
  }
  benchmark::DoNotOptimize(events);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kEvents));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}

void BM_NdjsonParse(benchmark::State& state) {
  parse_all(state, inputs().ndjson, /*csv=*/false, static_cast<size_t>(state.range(0)));
}
BENCHMARK(BM_NdjsonParse)->Arg(64 << 10)->Arg(1 << 20)->Arg(16 << 20)->Unit(benchmark::kMillisecond);

// 1% of the lines are cut in half: the cost of falling back to one line at
// a time for the rest of a window.
void BM_NdjsonParse_OnePercentBroken(benchmark::State& state) {
  parse_all(state, inputs().ndjson_with_rejects, /*csv=*/false, static_cast<size_t>(state.range(0)));
}
BENCHMARK(BM_NdjsonParse_OnePercentBroken)->Arg(1 << 20)->Unit(benchmark::kMillisecond);

void BM_NdjsonParse_UnixSeconds(benchmark::State& state) {
  parse_all(state, inputs().ndjson_unix_seconds, /*csv=*/false, static_cast<size_t>(state.range(0)));
}
BENCHMARK(BM_NdjsonParse_UnixSeconds)->Arg(1 << 20)->Unit(benchmark::kMillisecond);

void BM_CsvParse(benchmark::State& state) {
  parse_all(state, inputs().csv, /*csv=*/true, static_cast<size_t>(state.range(0)));
}
BENCHMARK(BM_CsvParse)->Arg(1 << 20)->Unit(benchmark::kMillisecond);

// Dictionary encoding (encode_rows: the five string columns interned in
// blocks of 256 events, as the file ingest's parser threads do) of 1M
// generated events into empty dictionaries: ~20k users, ~290k sessions.
void BM_EncodeRows(benchmark::State& state) {
  struct Owned {
    std::string event_id, user_id, feature_id, product_version, event_type, session_id, metadata;
    Timestamp timestamp;
  };
  static const auto* events = [] {
    auto* owned = new std::vector<Owned>();
    gen::Generator g({.events = 1'000'000, .seed = 42});
    while (const Event* e = g.next()) {
      owned->push_back(Owned{std::string(e->event_id), std::string(e->user_id), std::string(e->feature_id),
                             std::string(e->product_version), std::string(e->event_type), std::string(e->session_id),
                             std::string(e->metadata), e->timestamp});
    }
    auto* views = new std::vector<Event>();
    for (const Owned& o : *owned) {
      views->push_back(Event{o.event_id, o.user_id, o.feature_id, o.product_version, o.event_type, o.timestamp,
                             o.session_id, o.metadata});
    }
    return views;
  }();
  std::vector<const Event*> pointers;
  for (const Event& e : *events) pointers.push_back(&e);
  std::vector<RowCodes> rows(pointers.size());
  for (auto _ : state) {
    Dictionaries dictionaries;
    if (!encode_rows(dictionaries, pointers, rows.data()).ok()) state.SkipWithError("encode_rows failed");
    benchmark::DoNotOptimize(rows.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * pointers.size()));
}
BENCHMARK(BM_EncodeRows)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace usagedb

BENCHMARK_MAIN();
