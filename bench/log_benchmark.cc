// Write-ahead log micro benchmarks: append throughput with and without an
// fsync every N records, read throughput, and the speed of the torn-tail
// scan that recovery runs over a damaged tail. Files go to a fresh directory
// under $TMPDIR (default /tmp), which should be on the disk being measured.
//
//   build/bench/usagedb_log_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>

#include "benchmark/benchmark.h"
#include "lib/gen/random.h"
#include "lib/storage/file.h"
#include "lib/storage/log_reader.h"
#include "lib/storage/log_writer.h"

namespace usagedb::storage {
namespace {

// A log rotates to a fresh file past this size, to bound disk use.
constexpr uint64_t kMaxLogBytes = uint64_t{256} << 20;

class BenchDir {
 public:
  BenchDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "usagedb_log_bench_XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      std::perror("mkdtemp");
      std::abort();
    }
    path_ = tmpl;
  }
  ~BenchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::string payload(size_t n, uint64_t seed) {
  gen::Random random(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(' ' + random.uniform(95));
  return s;
}

std::unique_ptr<LogWriter> must_create(const std::string& path, uint64_t number) {
  auto writer = LogWriter::create(path, number);
  if (!writer.ok()) {
    std::fprintf(stderr, "%s\n", writer.status().ToString().c_str());
    std::abort();
  }
  return *std::move(writer);
}

void must(const absl::Status& s, benchmark::State& state) {
  if (!s.ok()) state.SkipWithError(s.ToString().c_str());
}

// Args: record bytes, fsync every N records (0: never).
void BM_LogAppend(benchmark::State& state) {
  const size_t size = static_cast<size_t>(state.range(0));
  const int64_t sync_every = state.range(1);
  const std::string record = payload(size, 1);
  BenchDir dir;
  uint64_t number = 1;
  std::unique_ptr<LogWriter> writer = must_create(dir.file("000001.log"), number);
  int64_t since_sync = 0;
  for (auto _ : state) {
    must(writer->add_record(record), state);
    if (sync_every > 0 && ++since_sync == sync_every) {
      must(writer->sync(), state);
      since_sync = 0;
    }
    if (writer->size() > kMaxLogBytes) {
      state.PauseTiming();
      must(writer->close(), state);
      must(remove_file(writer->path()), state);
      ++number;
      writer = must_create(dir.file(std::to_string(number) + ".log"), number);
      state.ResumeTiming();
    }
  }
  must(writer->close(), state);
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(size));
}
// Wall-clock time: an fsync waits without using the CPU.
BENCHMARK(BM_LogAppend)
    ->UseRealTime()
    ->ArgNames({"bytes", "sync_every"})
    ->Args({256, 0})
    ->Args({256, 1})
    ->Args({256, 100})
    ->Args({64 << 10, 0})
    ->Args({64 << 10, 1})
    ->Args({64 << 10, 100});

// Reads back a 64 MiB log (from the page cache). Arg: record bytes.
void BM_LogRead(benchmark::State& state) {
  const size_t size = static_cast<size_t>(state.range(0));
  BenchDir dir;
  const std::string path = dir.file("000001.log");
  const std::string record = payload(size, 2);
  int64_t records = 0;
  {
    std::unique_ptr<LogWriter> writer = must_create(path, 1);
    for (; writer->size() < (uint64_t{64} << 20); ++records) must(writer->add_record(record), state);
    must(writer->close(), state);
  }
  for (auto _ : state) {
    auto reader = LogReader::open(path, 1);
    if (!reader.ok()) {
      state.SkipWithError(reader.status().ToString().c_str());
      break;
    }
    std::string_view r;
    int64_t n = 0;
    while (true) {
      absl::StatusOr<bool> more = (*reader)->read_record(&r);
      if (!more.ok() || !*more) break;
      ++n;
    }
    if (n != records) state.SkipWithError("wrong record count");
  }
  state.SetItemsProcessed(state.iterations() * records);
  state.SetBytesProcessed(state.iterations() * records * static_cast<int64_t>(size));
}
BENCHMARK(BM_LogRead)->UseRealTime()->ArgName("bytes")->Arg(256)->Arg(64 << 10)->Unit(benchmark::kMillisecond);

// Recovery of a log whose 16 MiB tail is damaged: the reader scans all of it
// for valid fragments. Arg: 0 zeros, 1 text, 2 random bytes.
void BM_LogTornTailScan(benchmark::State& state) {
  constexpr size_t kTail = size_t{16} << 20;
  std::string tail;
  switch (state.range(0)) {
    case 0:
      tail.assign(kTail, '\0');
      break;
    case 1:
      tail = payload(kTail, 3);
      break;
    default: {
      gen::Random random(4);
      tail.resize(kTail);
      for (char& c : tail) c = static_cast<char>(random.uniform(256));
    }
  }
  const std::string log = encode_log_file_header(1) + tail;
  for (auto _ : state) {
    auto reader = LogReader::open(SequentialFile::from_string(log, "bench.log"), 1);
    std::string_view r;
    absl::StatusOr<bool> more = (*reader)->read_record(&r);
    if (!more.ok() || *more || (*reader)->dropped_bytes() != kTail) state.SkipWithError("expected a torn tail");
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(kTail));
}
BENCHMARK(BM_LogTornTailScan)->UseRealTime()->ArgName("zeros_text_random")->DenseRange(0, 2)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace usagedb::storage

BENCHMARK_MAIN();
