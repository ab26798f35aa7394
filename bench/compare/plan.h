// The plan of a usagedb_compare run and what each engine's child process reports back.
//
// The parent process (bench/compare.cc) generates the events, picks the query parameters and
// writes a Plan file; it then runs each engine in a child process of its own (the same binary,
// `--child ENGINE`), which loads the data, runs every query of the plan and writes an
// EngineReport file. Both files are lines of tab-separated fields, each field escaped
// (\\, \t, \n, \r), so any bytes survive the round trip.
//
//   Plan plan = ...;
//   absl::Status s = write_plan(plan, dir + "/plan.tsv");
//   absl::StatusOr<Plan> back = read_plan(dir + "/plan.tsv");
//
// Thread-safety: plain values and pure functions.
#ifndef USAGEDB_BENCH_COMPARE_PLAN_H_
#define USAGEDB_BENCH_COMPARE_PLAN_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace usagedb::compare {

// Text rows, every value rendered as Peer::query() does (integers in decimal, DateTime as
// "YYYY-MM-DD HH:MM:SS").
using Rows = std::vector<std::vector<std::string>>;

// One benchmark query: an endpoint of SPEC section 2 and its parameters as name=value text,
// exactly what `usagedb query NAME name=value ...` takes.
struct QuerySpec {
  std::string name;      // short id, e.g. "user_typical"
  std::string label;     // what a reader sees, e.g. "user_feature_usage, typical user"
  std::string endpoint;  // "user_feature_usage", "feature_usage_summary", "feature_usage_timeline"
  std::vector<std::pair<std::string, std::string>> params;
};

// How many times each query runs: `warmup` untimed runs, then timed runs until `budget_seconds`
// of timed work, at least `min_reps` and at most `max_reps` runs.
struct RepetitionPolicy {
  int warmup = 3;
  double budget_seconds = 2.0;
  int min_reps = 10;
  int max_reps = 200;
};

struct Plan {
  uint64_t events = 0;
  RepetitionPolicy repetitions;
  std::vector<QuerySpec> queries;
};

// One query's outcome in one engine.
struct QueryReport {
  std::string name;
  std::string error;                  // empty when every run succeeded
  double first_ms = -1;               // the first (untimed, warm-up) run: caches still cold
  std::vector<double> latencies_ms;   // the timed runs, in run order
  Rows rows;                          // the result of the first run
};

// What one engine's child process measured. Times in seconds, sizes in bytes, RSS in KiB
// (getrusage's ru_maxrss of the child process at that point: the peak so far).
struct EngineReport {
  std::string engine;   // "usagedb", "duckdb", "chdb"
  std::string version;
  std::string error;    // a failure before the queries (open, load); empty otherwise
  double open_seconds = 0;
  double ingest_seconds = 0;
  double compact_seconds = -1;  // < 0: the engine has no separate compaction step
  uint64_t rows = 0;            // rows stored, checked after the load
  uint64_t bytes_after_ingest = 0;
  uint64_t bytes_on_disk = 0;   // after compaction, when there is one
  std::string bytes_note;       // how bytes_on_disk was measured, when not the directory sum
  uint64_t rss_open_kib = 0;    // peak RSS after opening the engine, before loading
  uint64_t rss_ingest_kib = 0;  // peak RSS after the load (the peak during ingest)
  uint64_t rss_compact_kib = 0;
  uint64_t rss_final_kib = 0;   // peak RSS after all queries
  uint64_t hwm_final_kib = 0;   // VmHWM of /proc/self/status at the end (cross-check)
  uint64_t rss_after_open_kib = 0;  // bench/scale's open process: VmRSS right after the open
  std::string memory_note;      // usagedb in bench/scale: what its memory is made of (stats())
  std::vector<QueryReport> queries;
  // usagedb only: the same queries right after the load, before compact() (whatever parts and
  // rollups the ingest left).
  std::vector<QueryReport> queries_after_ingest;
};

absl::Status write_plan(const Plan& plan, const std::string& path);
absl::StatusOr<Plan> read_plan(const std::string& path);

absl::Status write_report(const EngineReport& report, const std::string& path);
absl::StatusOr<EngineReport> read_report(const std::string& path);

// Nearest-rank percentile (p in (0, 100]) of `values`; 0 for no values.
double percentile(std::vector<double> values, double p);

}  // namespace usagedb::compare

#endif  // USAGEDB_BENCH_COMPARE_PLAN_H_
