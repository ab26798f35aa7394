// What usagedb_compare prints: the check that every engine returned the oracle's rows, and the
// side-by-side tables (ingest, memory, disk, query latency) with usagedb's ratio against the
// best peer on each line, as plain text for a terminal or as Markdown for bench/RESULTS.md.
//
//   int mismatches = check_results(plan, reports, "chdb", std::cout);
//   std::cout << render_tables(run, reports, TableStyle::kText);
//
// Thread-safety: pure functions.
#ifndef USAGEDB_BENCH_COMPARE_REPORT_H_
#define USAGEDB_BENCH_COMPARE_REPORT_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "bench/compare/plan.h"

namespace usagedb::compare {

// The machine, read from /proc and uname.
struct MachineInfo {
  int nproc = 0;
  std::string cpu_model;
  uint64_t mem_total_kib = 0;
  std::string kernel;
  std::string load_start;  // /proc/loadavg's three averages when the run started
  std::string load_end;    // ... and when it ended
};
MachineInfo read_machine_info();  // load_end left empty
std::string load_average();       // "1.00 0.80 0.75"

struct RunSummary {
  Plan plan;
  uint64_t seed = 0;
  uint64_t ndjson_bytes = 0;
  double generate_seconds = 0;
  bool smoke = false;
  MachineInfo machine;
};

// Compares every engine's rows for every query with the `oracle` engine's ("chdb": ClickHouse
// defines the SPEC's results): the same rows in the same order, each value byte-equal except
// Float64 columns (by the endpoint catalog's column types), equal to 1e-12 relative. Prints one
// line per query and, for each difference, the first differing rows. An empty result is also a
// failure (every plan query has rows, so an empty answer everywhere would be a vacuous pass), as
// is a query that failed, unless the engine's SQL cannot express it (bench::kNotApplicable: noted,
// not compared). Returns the number of failures. Without the oracle among the reports, nothing
// is compared (returns 0, says so).
int check_results(const Plan& plan, const std::vector<EngineReport>& reports, const std::string& oracle,
                  std::ostream& out);

enum class TableStyle { kText, kMarkdown };

// The machine line, the ingest/storage table and the query latency table.
std::string render_tables(const RunSummary& run, const std::vector<EngineReport>& reports, TableStyle style);

// bench/scale's rows for this run (one size), Markdown, one line per engine, of one of its two
// tables: the scaling table (events, engine, load time and rate, peak RSS of the load, bytes on
// disk and per event, open time, RSS after open, peak RSS of the asking process, load
// averages), or with `queries` the queries' ("first / p50" ms per plan query, in plan order).
// bench/scale.sh writes the headers and collects the rows of every size.
std::string render_scale_rows(const RunSummary& run, const std::vector<EngineReport>& reports, bool queries);

}  // namespace usagedb::compare

#endif  // USAGEDB_BENCH_COMPARE_REPORT_H_
