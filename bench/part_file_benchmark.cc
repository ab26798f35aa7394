// Encode and decode throughput of part files (lib/storage/part_file.h) on
// parts built from generated events (lib/gen), and where the bytes go.
//
// Parts of 16384 rows (what the store seals) and of 1M rows (a merged month:
// 1M events generated over one month) are built as the store builds them:
// strings interned into Dictionary objects in first-seen order, rows added
// to a PartBuilder. Before the benchmarks run, a table of bytes per row per
// block and of the dictionaries' bytes per event is printed.
//
//   build/bench/usagedb_part_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "lib/gen/generator.h"
#include "lib/query/snapshot.h"
#include "lib/rollup/partition_rollup.h"
#include "lib/storage/part_file.h"
#include "lib/storage/rollup_file.h"
#include "lib/storage/string_codec.h"
#include "lib/table/part_builder.h"
#include "lib/table/part_index.h"
#include "lib/util/civil_time.h"
#include "lib/util/coding.h"

namespace usagedb {
namespace {

constexpr size_t kBigRows = 1'000'000;
constexpr size_t kSealRows = 16384;

struct Fixture {
  Dictionaries dictionaries;
  std::shared_ptr<const Part> big;   // 1M rows
  std::shared_ptr<const Part> seal;  // the first 16384 of them
};

std::shared_ptr<const Part> build(Dictionaries& d, const std::vector<RowCodes>& rows,
                                  const std::vector<std::string>& ids, const std::vector<std::string_view>& meta,
                                  size_t n, uint64_t id) {
  PartBuilder b(n);
  for (size_t i = 0; i < n; ++i) b.add(rows[i], ids[i], meta[i]);
  return std::move(b).finish(id, civil::month_id(rows[0].timestamp), d.feature, d.version);
}

const Fixture& fixture() {
  static const Fixture* f = [] {
    auto* out = new Fixture;
    Dictionaries& d = out->dictionaries;
    d.session.intern("");  // as EventStoreImpl does
    gen::Generator g({.events = kBigRows, .seed = 42, .months = 1});
    std::vector<RowCodes> rows;
    std::vector<std::string> ids;
    std::vector<std::string_view> meta;  // the generator's metadata are static literals
    while (const Event* e = g.next()) {
      rows.push_back(RowCodes{static_cast<uint32_t>(e->timestamp.time_since_epoch().count()),
                              d.feature.intern(e->feature_id), d.version.intern(e->product_version),
                              d.user.intern(e->user_id), d.event_type.intern(e->event_type),
                              d.session.intern(e->session_id)});
      ids.emplace_back(e->event_id);
      meta.push_back(e->metadata);
    }
    out->big = build(d, rows, ids, meta, rows.size(), 1);
    out->seal = build(d, rows, ids, meta, kSealRows, 2);
    return out;
  }();
  return *f;
}

const Part& part_of(int64_t rows) { return rows == kSealRows ? *fixture().seal : *fixture().big; }

// 0: roaring indexes, 1: zstd-compressed roaring indexes (the default), 2: no
// indexes (rebuilt from the columns on load).
storage::PartEncodeOptions options_of(int64_t indexes) {
  storage::PartEncodeOptions o;
  o.index_encoding = indexes == 1 ? storage::IndexEncoding::kRoaringZstd : storage::IndexEncoding::kRoaring;
  o.persist_indexes = indexes != 2;
  return o;
}

void BM_EncodePart(benchmark::State& state) {
  const Part& part = part_of(state.range(0));
  const storage::PartEncodeOptions options = options_of(state.range(1));
  size_t bytes = 0;
  for (auto _ : state) {
    std::string file = storage::encode_part(part, options);
    bytes = file.size();
    benchmark::DoNotOptimize(file.data());
  }
  state.SetItemsProcessed(state.iterations() * part.rows());
  state.counters["bytes_per_row"] = static_cast<double>(bytes) / part.rows();
}
BENCHMARK(BM_EncodePart)->ArgsProduct({{kSealRows, kBigRows}, {0, 1, 2}})->Unit(benchmark::kMillisecond);

void BM_DecodePart(benchmark::State& state) {
  const Part& part = part_of(state.range(0));
  const std::string file = storage::encode_part(part, options_of(state.range(1)));
  for (auto _ : state) {
    auto back = storage::decode_part(file, "bench.part");
    if (!back.ok()) state.SkipWithError(std::string(back.status().message()).c_str());
    // Freeing the part is not part of loading it.
    state.PauseTiming();
    back = nullptr;
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * part.rows());
  state.counters["bytes_per_row"] = static_cast<double>(file.size()) / part.rows();
}
BENCHMARK(BM_DecodePart)->ArgsProduct({{kSealRows, kBigRows}, {0, 1, 2}})->Unit(benchmark::kMillisecond);

// The store's goal: reopen 10M events in <= 1 s on 2 cores. Decodes the 1M
// part file ten times, keeping every part (as an opening store does), on
// state.range(0) threads; dictionaries are not included.
void BM_Reopen10M(benchmark::State& state) {
  const std::string file = storage::encode_part(*fixture().big, options_of(state.range(1)));
  const int threads = static_cast<int>(state.range(0));
  for (auto _ : state) {
    std::vector<std::shared_ptr<const Part>> parts(10);
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        for (int i = t; i < 10; i += threads) parts[i] = storage::decode_part(file, "bench.part").value();
      });
    }
    for (std::thread& w : workers) w.join();
    state.PauseTiming();
    parts.clear();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * 10 * fixture().big->rows());
}
BENCHMARK(BM_Reopen10M)
    ->ArgsProduct({{1, 2}, {0, 2}})
    ->Unit(benchmark::kMillisecond)
    ->MeasureProcessCPUTime()
    ->UseRealTime()
    ->Iterations(3);

// The alternative to persisting indexes: rebuilding them from the decoded
// columns (a counting sort by value, then posting lists for users and one
// bitmap per feature and version).
void BM_RebuildIndexes(benchmark::State& state) {
  const Part& part = part_of(state.range(0));
  for (auto _ : state) {
    auto x = std::make_unique<PartIndexes>();
    x->user = PostingIndex::build(part.columns().user);
    x->feature = build_bitmap_index(part.columns().feature);
    x->version = build_bitmap_index(part.columns().version);
    state.PauseTiming();
    x.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * part.rows());
}
BENCHMARK(BM_RebuildIndexes)->Arg(kSealRows)->Arg(kBigRows)->Unit(benchmark::kMillisecond);

// A partition's rollup (lib/rollup/partition_rollup.h) of the 1M-row
// month: built from the part, written to its file's bytes, read back.
void BM_BuildRollup(benchmark::State& state) {
  const std::shared_ptr<const Part> part = fixture().big;
  for (auto _ : state) benchmark::DoNotOptimize(PartitionRollup::build(part->month(), {&part, 1}));
  state.SetItemsProcessed(state.iterations() * part->rows());
  const auto rollup = PartitionRollup::build(part->month(), {&part, 1});
  state.counters["memory_bytes"] = static_cast<double>(rollup->memory_bytes());
  const char* names[] = {"hour_users", "day_users", "week_users", "month_users"};
  for (int g = 0; g < 4; ++g) {
    state.counters[names[g]] = static_cast<double>(rollup->timeline(static_cast<Granularity>(g)).user_codes.size());
  }
  state.counters["versions_bytes"] = static_cast<double>(rollup->versions()->memory_bytes());
  for (int g = 0; g < 4; ++g) {
    state.counters[std::string("v_") + names[g]] =
        static_cast<double>(rollup->versions()->versions[g].user_codes.size());
    state.counters[std::string("a_") + names[g]] = static_cast<double>(rollup->versions()->active[g].user_codes.size());
  }
  state.counters["metadata_bytes"] = rollup->metadata() ? static_cast<double>(rollup->metadata()->memory_bytes()) : 0;
}

// The sections of the rollup, each built alone from the 1M-row month.
void BM_BuildVersionTimeline(benchmark::State& state) {
  const std::shared_ptr<const Part> part = fixture().big;
  for (auto _ : state) benchmark::DoNotOptimize(VersionTimeline::build(part->month(), {&part, 1}));
  state.SetItemsProcessed(state.iterations() * part->rows());
}
BENCHMARK(BM_BuildVersionTimeline)->Unit(benchmark::kMillisecond);

void BM_BuildMetadataCounts(benchmark::State& state) {
  const std::shared_ptr<const Part> part = fixture().big;
  for (auto _ : state) benchmark::DoNotOptimize(MetadataCounts::build({&part, 1}));
  state.SetItemsProcessed(state.iterations() * part->rows());
}
BENCHMARK(BM_BuildMetadataCounts)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_BuildRollup)->Unit(benchmark::kMillisecond);

// The rollup's activity section (lib/rollup/activity_rollup.h) made from
// the 1M-row month's day and month cells: part of every BM_BuildRollup and
// BM_DecodeRollup (it is not in the file).
void BM_BuildActivity(benchmark::State& state) {
  const std::shared_ptr<const Part> part = fixture().big;
  const auto rollup = PartitionRollup::build(part->month(), {&part, 1});
  for (auto _ : state) {
    benchmark::DoNotOptimize(ActivityRollup::from_timeline(rollup->timeline(Granularity::kDay),
                                                           rollup->timeline(Granularity::kMonth)));
  }
  state.SetItemsProcessed(state.iterations() * part->rows());
  state.counters["memory_bytes"] = static_cast<double>(rollup->activity().memory_bytes());
  state.counters["days"] = static_cast<double>(rollup->activity().days().size());
}
BENCHMARK(BM_BuildActivity)->Unit(benchmark::kMillisecond);

void BM_EncodeRollup(benchmark::State& state) {
  const std::shared_ptr<const Part> part = fixture().big;
  const auto rollup = PartitionRollup::build(part->month(), {&part, 1});
  size_t bytes = 0;
  for (auto _ : state) bytes = storage::encode_rollup(*rollup, rollup->part_ids()).size();
  state.counters["file_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_EncodeRollup)->Unit(benchmark::kMillisecond);

void BM_DecodeRollup(benchmark::State& state) {
  const Fixture& f = fixture();
  const auto rollup = PartitionRollup::build(f.big->month(), {&f.big, 1});
  const std::string bytes = storage::encode_rollup(*rollup, rollup->part_ids());
  const storage::RollupExpectation expect{f.big->rows(), f.dictionaries.user.size(), f.dictionaries.feature.size(),
                                          f.dictionaries.version.size(), f.dictionaries.session.size()};
  for (auto _ : state) {
    auto back = storage::decode_rollup(bytes, "rollup", expect);
    if (!back.ok()) state.SkipWithError(std::string(back.status().message()).c_str());
  }
}
BENCHMARK(BM_DecodeRollup)->Unit(benchmark::kMillisecond);

// The decode of each kind of block of the 1M-row part, to see where
// BM_DecodePart's time goes.
void BM_DecodeStage(benchmark::State& state) {
  const Part& part = *fixture().big;
  const PartColumns& c = part.columns();
  std::string ints, strings, index;
  const storage::IntEncoding int_encoding = storage::encode_codes(c.user, &ints);
  const storage::StringEncoding string_encoding = storage::encode_strings(c.event_id, compression::kDefaultLevel, &strings);
  storage::encode_index(part.indexes().user, storage::IndexEncoding::kRoaring, 0, &index);
  for (auto _ : state) {
    switch (state.range(0)) {
      case 0: {
        std::vector<uint32_t> out;
        std::string_view in = ints;
        benchmark::DoNotOptimize(storage::decode_ints(int_encoding, &in, part.rows(), storage::kNoLimit, &out));
        break;
      }
      case 1:
        benchmark::DoNotOptimize(storage::decode_strings(string_encoding, strings));
        break;
      case 2: {
        auto x = std::make_unique<absl::StatusOr<BitmapIndex>>(storage::decode_index(storage::IndexEncoding::kRoaring, index));
        state.PauseTiming();
        x.reset();
        state.ResumeTiming();
        break;
      }
      case 3: {
        auto x = std::make_unique<absl::StatusOr<PostingIndex>>(
            storage::decode_verified_postings(storage::IndexEncoding::kRoaring, index, c.user));
        state.PauseTiming();
        x.reset();
        state.ResumeTiming();
        break;
      }
    }
  }
  state.SetItemsProcessed(state.iterations() * part.rows());
  state.SetLabel(std::vector<const char*>{"user_id column", "event_id column", "user_id index as bitmaps",
                                          "user_id index as a verified PostingIndex"}[state.range(0)]);
}
BENCHMARK(BM_DecodeStage)->DenseRange(0, 3)->Unit(benchmark::kMillisecond);

void BM_RebuildOneIndex(benchmark::State& state) {
  const Part& part = *fixture().big;
  const std::vector<uint32_t>& column =
      state.range(0) == 0 ? part.columns().user : state.range(0) == 1 ? part.columns().feature : part.columns().version;
  for (auto _ : state) {
    if (state.range(0) == 0) {
      auto x = std::make_unique<PostingIndex>(PostingIndex::build(column));
      state.PauseTiming();
      x.reset();
    } else {
      auto x = std::make_unique<BitmapIndex>(build_bitmap_index(column));
      state.PauseTiming();
      x.reset();
    }
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * part.rows());
  state.SetLabel(std::vector<const char*>{"user_id (PostingIndex)", "feature_id", "product_version"}[state.range(0)]);
}
BENCHMARK(BM_RebuildOneIndex)->DenseRange(0, 2)->Unit(benchmark::kMillisecond);

// Bytes of a dictionary persisted as length-prefixed strings.
size_t dictionary_bytes(const Dictionary& d) {
  size_t bytes = 0;
  for (uint32_t code = 0; code < d.size(); ++code) bytes += coding::varint_length(d.lookup(code).size()) + d.lookup(code).size();
  return bytes;
}

void print_bytes(const Part& part, const char* what, const storage::PartEncodeOptions& options) {
  const std::string file = storage::encode_part(part, options);
  auto back = storage::decode_part(file, "bench.part");
  if (!back.ok()) {
    std::fprintf(stderr, "decode failed: %s\n", std::string(back.status().message()).c_str());
    std::exit(1);
  }
  const storage::PartFileInfo info = storage::read_part_file_info(file, "bench.part").value();
  const double rows = part.rows();
  std::printf("\n%s: %u rows, %zu bytes, %.2f bytes/row\n", what, part.rows(), file.size(), file.size() / rows);
  std::printf("  %-24s %4s %12s %10s\n", "block", "enc", "bytes", "bytes/row");
  for (const auto& b : info.blocks) {
    std::printf("  %-24s %4u %12llu %10.3f\n", b.section.c_str(), b.encoding, static_cast<unsigned long long>(b.size),
                b.size / rows);
  }
  std::printf("  %-24s %4s %12llu %10.3f\n", "header+footer", "",
              static_cast<unsigned long long>(info.header_bytes + info.footer_bytes),
              (info.header_bytes + info.footer_bytes) / rows);
}

void print_tables() {
  const Fixture& f = fixture();
  for (const auto& [part, name] : {std::pair{f.seal.get(), "sealed part"}, std::pair{f.big.get(), "1M-row part"}}) {
    print_bytes(*part, absl::StrCat(name, ", roaring indexes").c_str(), options_of(0));
    print_bytes(*part, absl::StrCat(name, ", zstd roaring indexes (the default)").c_str(), options_of(1));
    print_bytes(*part, absl::StrCat(name, ", no indexes (rebuilt on load)").c_str(), options_of(2));
  }
  const Dictionaries& d = f.dictionaries;
  std::printf("\ndictionaries of the 1M events (length-prefixed strings), bytes per event:\n");
  size_t total = 0;
  for (const auto& [name, dict] : {std::pair{"user_id", &d.user}, std::pair{"feature_id", &d.feature},
                                   std::pair{"product_version", &d.version}, std::pair{"event_type", &d.event_type},
                                   std::pair{"session_id", &d.session}}) {
    const size_t bytes = dictionary_bytes(*dict);
    total += bytes;
    std::printf("  %-16s %9u entries %10zu bytes %8.3f bytes/event\n", name, dict->size(), bytes,
                static_cast<double>(bytes) / kBigRows);
  }
  std::printf("  %-16s %30zu bytes %8.3f bytes/event\n\n", "total", total, static_cast<double>(total) / kBigRows);
  std::fflush(stdout);
}

}  // namespace
}  // namespace usagedb

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  usagedb::print_tables();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
