// One engine's part of a usagedb_compare run, in a process of its own: open the engine, load
// the NDJSON file with the engine's own loader, compact where the engine has such a step,
// measure peak RSS and bytes on disk, then run every query of the plan (warm-up, then timed
// repetitions) and write an EngineReport (bench/compare/plan.h).
//
// What the timings include:
//  - usagedb: EventStore::open on a new directory; ingest_file (parse on a second thread,
//    validate, dedup, store; returns once durable: a file over Options::checkpoint_log_bytes
//    bypasses the write-ahead log and goes straight into part files); compact() (one part per
//    month). A query is the typed endpoint call (request already parsed); rendering its rows as
//    text for the comparison happens outside the timing. Every query runs twice over: right
//    after ingest_file (the parts and rollups the load left) and after compact().
//  - DuckDB: load = open the database file, CREATE TABLE, INSERT ... SELECT FROM read_json
//    ORDER BY the sorting key, CHECKPOINT. No compaction step.
//  - chDB: load = boot the engine on the directory, CREATE TABLE (MergeTree), INSERT ... SELECT
//    FROM file(JSONEachRow); compaction = OPTIMIZE TABLE ... FINAL (the analogue of compact()).
//  - peers' queries: Peer::query() of the endpoint's SQL text (parse, plan, execute, and the
//    rendering of the result as text that their C APIs require).
//
// Thread-safety: run_engine is meant to be the only thing a child process does.
#ifndef USAGEDB_BENCH_COMPARE_ENGINE_RUN_H_
#define USAGEDB_BENCH_COMPARE_ENGINE_RUN_H_

#include <string>

namespace usagedb::compare {

struct EngineRunOptions {
  std::string engine;       // "usagedb", "duckdb" or "chdb"
  std::string ndjson_path;  // the events
  std::string dir;          // the engine's database directory; must not exist or be empty
  std::string plan_path;    // written by the parent (write_plan)
  std::string report_path;  // where the EngineReport goes
  std::string duckdb_lib;   // libduckdb.so (duckdb only)
  std::string chdb_lib;     // libchdb.so (chdb only)
  // bench/scale runs each engine as two processes, so the second opens the stored data as a
  // user's next process does: "load" loads the NDJSON into `dir` (usagedb: ingest_file, no
  // compact()) and keeps it; "open" opens what the load left and runs the queries. "" (the
  // comparison): load, compact and query in one process.
  std::string phase;
  // usagedb: Options::cache_bytes, when the Options of this build has it (0: the default).
  uint64_t cache_bytes = 0;
};

// Runs one engine and writes its report; returns the process exit status: 0 when the report
// was written (even if a query failed: the report says so), 1 otherwise. Errors go to stderr.
int run_engine(const EngineRunOptions& options);

}  // namespace usagedb::compare

#endif  // USAGEDB_BENCH_COMPARE_ENGINE_RUN_H_
