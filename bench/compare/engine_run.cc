#include "bench/compare/engine_run.h"

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <variant>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "bench/compare/plan.h"
#include "lib/api/clickhouse_sql.h"
#include "lib/api/endpoint_request.h"
#include "lib/api/result_table.h"
#include "peer.h"
#include "peer_sql.h"
#include "usagedb/usagedb.h"

#ifndef USAGEDB_COMPARE_VERSION
#define USAGEDB_COMPARE_VERSION "dev"
#endif

namespace usagedb::compare {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Peak resident set size of this process so far (KiB on Linux).
uint64_t max_rss_kib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<uint64_t>(ru.ru_maxrss);
}

// A field of /proc/self/status in KiB: "VmHWM" (the peak RSS of this address space, not
// inherited across exec as ru_maxrss is), "VmRSS" (the RSS now).
uint64_t proc_status_kib(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stoull(line.substr(field.size() + 1));
  }
  return 0;
}
uint64_t vm_hwm_kib() { return proc_status_kib("VmHWM"); }

// Runs the query once; returns its latency in milliseconds, and its rows into `*rows` when
// `rows` is not null (rendering is not part of the latency where the engine allows it).
using RunOnce = std::function<absl::StatusOr<double>(Rows* rows)>;

QueryReport measure(const QuerySpec& q, const RepetitionPolicy& policy, const RunOnce& run) {
  QueryReport report{q.name, "", -1, {}, {}};
  for (int i = 0; i < std::max(policy.warmup, 1); ++i) {
    absl::StatusOr<double> ms = run(i == 0 ? &report.rows : nullptr);
    if (!ms.ok()) {
      report.error = std::string(ms.status().message());
      return report;
    }
    if (i == 0) report.first_ms = *ms;
  }
  double total_ms = 0;
  while (static_cast<int>(report.latencies_ms.size()) < policy.max_reps &&
         (static_cast<int>(report.latencies_ms.size()) < policy.min_reps ||
          total_ms < policy.budget_seconds * 1e3)) {
    absl::StatusOr<double> ms = run(nullptr);
    if (!ms.ok()) {
      report.error = std::string(ms.status().message());
      return report;
    }
    report.latencies_ms.push_back(*ms);
    total_ms += *ms;
  }
  return report;
}

// ---- usagedb --------------------------------------------------------------------------------

// A result's rows as text, each value as the output formats print it
// (api::cell_text: DateTime in the request's tz, Float64 as ClickHouse
// prints it), which is how chDB's TabSeparated output prints them.
template <typename Query, typename Result>
void append_rows(const Query& q, Result result, Rows* rows) {
  api::ResultTable table;
  if constexpr (requires { q.tz; }) {
    table = api::to_result_table(std::move(result), false, q.tz.value_or(""));
  } else {
    table = api::to_result_table(std::move(result), false);
  }
  for (const std::vector<api::Cell>& row : table.rows) {
    std::vector<std::string>& text = rows->emplace_back();
    for (size_t i = 0; i < row.size(); ++i) text.push_back(api::cell_text(row[i], table.columns[i].time_zone));
  }
}

absl::StatusOr<RunOnce> usagedb_query(const EventStore& store, const QuerySpec& q) {
  absl::StatusOr<api::Endpoint> endpoint = api::parse_endpoint(q.endpoint);
  if (!endpoint.ok()) return endpoint.status();
  absl::StatusOr<api::EndpointRequest> request =
      api::parse_request(*endpoint, q.params, api::UnknownParameters::kReject);
  if (!request.ok()) return request.status();
  return std::visit(
      [&store](const auto& query) -> RunOnce {
        return [&store, query](Rows* rows) -> absl::StatusOr<double> {
          const Clock::time_point t0 = Clock::now();
          auto result = api::call_endpoint(store, query);
          const double ms = seconds_since(t0) * 1e3;
          if (!result.ok()) return result.status();
          if (rows != nullptr) append_rows(query, std::move(result).value(), rows);
          return ms;
        };
      },
      request->query);
}

// `after`, when given, is called after each query (its report).
void run_usagedb_queries(const EventStore& store, const Plan& plan, std::vector<QueryReport>* out,
                         const std::function<void(const QueryReport&)>& after = nullptr) {
  for (const QuerySpec& q : plan.queries) {
    absl::StatusOr<RunOnce> run = usagedb_query(store, q);
    if (!run.ok()) {
      out->push_back(QueryReport{q.name, std::string(run.status().message()), -1, {}, {}});
      continue;
    }
    out->push_back(measure(q, plan.repetitions, *run));
    if (after) after(out->back());
  }
}

// Options::cache_bytes where the Options of this build has it (the lazy read path's cache);
// elsewhere the flag changes nothing, and the report says so.
template <typename O>
std::string set_cache_bytes(O& options, uint64_t bytes) {
  if (bytes == 0) return "";
  if constexpr (requires { options.cache_bytes; }) {
    options.cache_bytes = bytes;
    return "cache_bytes " + std::to_string(bytes);
  } else {
    return "cache_bytes " + std::to_string(bytes) + " ignored: this build's Options has no cache_bytes";
  }
}

double mib(uint64_t bytes) { return static_cast<double>(bytes) / (1 << 20); }

// What a store's memory is made of now, from stats() (MiB).
std::string memory_breakdown(const StoreStats& s) {
  char text[300];
  std::snprintf(text, sizeof(text),
                "parts %.0f, buffers %.0f, dedup %.0f, dictionaries %.0f, rollups %.0f MiB (cache: parts %.0f, "
                "rollup sections %.0f of %.0f MiB)",
                mib(s.part_memory_bytes), mib(s.buffer_memory_bytes), mib(s.dedup_memory_bytes),
                mib(s.dictionary_memory_bytes), mib(s.rollup_memory_bytes), mib(s.cache_part_bytes),
                mib(s.cache_rollup_bytes), mib(s.cache_budget_bytes));
  return text;
}

// EventStore::open, its time in r->open_seconds and the peak RSS after it in r->rss_open_kib.
absl::StatusOr<std::unique_ptr<EventStore>> open_timed(const Options& options, EngineReport* r) {
  const Clock::time_point t0 = Clock::now();
  absl::StatusOr<std::unique_ptr<EventStore>> opened = EventStore::open(options);
  r->open_seconds = seconds_since(t0);
  if (opened.ok()) r->rss_open_kib = max_rss_kib();
  return opened;
}

// ingest_file of the plan's events, its time in r->ingest_seconds and the peak RSS after it in
// r->rss_ingest_kib; an error unless every event was stored.
absl::Status ingest_timed(EventStore& store, const Plan& plan, const std::string& path,
                          const IngestFileOptions& options, EngineReport* r) {
  const Clock::time_point t0 = Clock::now();
  absl::StatusOr<IngestReport> ingested = store.ingest_file(path, options);
  r->ingest_seconds = seconds_since(t0);
  if (!ingested.ok()) return ingested.status();
  r->rss_ingest_kib = max_rss_kib();
  if (ingested->successful_rows != plan.events || ingested->quarantined_rows != 0 || ingested->duplicate_rows != 0) {
    return absl::InternalError("ingest_file stored " + std::to_string(ingested->successful_rows) + " rows, quarantined " +
                               std::to_string(ingested->quarantined_rows) + ", skipped " +
                               std::to_string(ingested->duplicate_rows) + " duplicates; expected " +
                               std::to_string(plan.events) + " stored");
  }
  return absl::OkStatus();
}

// bench/scale's first process: ingest_file into a new store, no compact() (as `usagedb ingest`
// does). While it runs, stats() every 256 MiB of input: what the store's memory is made of when
// it holds the most (stats().memory_bytes), next to the process's RSS then.
absl::Status load_usagedb(const Plan& plan, const EngineRunOptions& o, EngineReport* r) {
  r->version = USAGEDB_COMPARE_VERSION;
  Options options;
  options.directory = o.dir;
  absl::StatusOr<std::unique_ptr<EventStore>> opened = open_timed(options, r);
  if (!opened.ok()) return opened.status();
  EventStore& store = **opened;
  uint64_t next_sample = 0, most_memory = 0;
  std::string at_most;
  IngestFileOptions ingest_options;
  ingest_options.progress = [&](uint64_t read, uint64_t) {
    if (read < next_sample) return;
    next_sample = read + (uint64_t{256} << 20);
    absl::StatusOr<StoreStats> s = store.stats();
    if (!s.ok() || s->memory_bytes < most_memory) return;
    most_memory = s->memory_bytes;
    at_most = memory_breakdown(*s) + ", RSS " + std::to_string(proc_status_kib("VmRSS") >> 10) + " MiB after " +
              std::to_string(read >> 20) + " MiB of input";
  };
  if (absl::Status s = ingest_timed(store, plan, o.ndjson_path, ingest_options, r); !s.ok()) return s;
  absl::StatusOr<StoreStats> stats = store.stats();
  if (!stats.ok()) return stats.status();
  r->rows = stats->rows;
  r->bytes_after_ingest = r->bytes_on_disk = stats->bytes_on_disk;
  r->bytes_note = std::to_string(stats->parts) + " parts";
  r->memory_note = "during ingest_file, most: " + at_most + "; at its end: " + memory_breakdown(*stats);
  return absl::OkStatus();
}

// bench/scale's second process: open the store the first one left, then the queries.
absl::Status open_usagedb(const Plan& plan, const EngineRunOptions& o, EngineReport* r) {
  r->version = USAGEDB_COMPARE_VERSION;
  Options options;
  options.directory = o.dir;
  options.create_if_missing = false;
  r->memory_note = set_cache_bytes(options, o.cache_bytes);
  absl::StatusOr<std::unique_ptr<EventStore>> opened = open_timed(options, r);
  if (!opened.ok()) return opened.status();
  EventStore& store = **opened;
  r->rss_after_open_kib = proc_status_kib("VmRSS");
  absl::StatusOr<StoreStats> stats = store.stats();
  if (!stats.ok()) return stats.status();
  r->rows = stats->rows;
  r->bytes_on_disk = stats->bytes_on_disk;
  if (!r->memory_note.empty()) r->memory_note += "; ";
  r->memory_note += "after open: " + memory_breakdown(*stats);
  // Each question's memory on stderr as it ends: what the process holds now, its peak so far,
  // and what the store says it holds (stats()).
  run_usagedb_queries(store, plan, &r->queries, [&](const QueryReport& q) {
    absl::StatusOr<StoreStats> now = store.stats();
    std::fprintf(stderr, "usagedb: %-22s first %.3f ms; RSS %llu MiB, peak %llu MiB; %s\n", q.name.c_str(),
                 q.first_ms, static_cast<unsigned long long>(proc_status_kib("VmRSS") >> 10),
                 static_cast<unsigned long long>(vm_hwm_kib() >> 10),
                 now.ok() ? memory_breakdown(*now).c_str() : std::string(now.status().message()).c_str());
  });
  return absl::OkStatus();
}

absl::Status run_usagedb(const Plan& plan, const EngineRunOptions& o, EngineReport* r) {
  if (o.phase == "load") return load_usagedb(plan, o, r);
  if (o.phase == "open") return open_usagedb(plan, o, r);
  r->version = USAGEDB_COMPARE_VERSION;
  Options options;
  options.directory = o.dir;
  absl::StatusOr<std::unique_ptr<EventStore>> opened = open_timed(options, r);
  if (!opened.ok()) return opened.status();
  EventStore& store = **opened;

  if (absl::Status s = ingest_timed(store, plan, o.ndjson_path, IngestFileOptions{}, r); !s.ok()) return s;
  absl::StatusOr<StoreStats> stats = store.stats();
  if (!stats.ok()) return stats.status();
  r->bytes_after_ingest = stats->bytes_on_disk;
  run_usagedb_queries(store, plan, &r->queries_after_ingest);

  const Clock::time_point t0 = Clock::now();
  if (absl::Status s = store.compact(); !s.ok()) return s;
  r->compact_seconds = seconds_since(t0);
  r->rss_compact_kib = max_rss_kib();
  stats = store.stats();
  if (!stats.ok()) return stats.status();
  r->rows = stats->rows;
  r->bytes_on_disk = stats->bytes_on_disk;
  const uint64_t dir_bytes = bench::internal::directory_bytes(o.dir);
  r->bytes_note = "stats().bytes_on_disk (" + std::to_string(stats->parts) + " parts, log " +
                  std::to_string(stats->log_bytes) + " B); directory sum " + std::to_string(dir_bytes) + " B";

  run_usagedb_queries(store, plan, &r->queries);
  return absl::OkStatus();
}

// ---- the peers --------------------------------------------------------------------------------

absl::StatusOr<bench::EndpointParams> peer_params(const QuerySpec& q) {
  bench::EndpointParams p;
  for (const auto& [k, v] : q.params) {
    if (k == "user_id") p.user_id = v;
    else if (k == "feature_id") p.feature_id = v;
    else if (k == "product_version") p.product_version = v;
    else if (k == "event_type") p.event_type = v;
    else if (k == "start_date") p.start_date = v;
    else if (k == "end_date") p.end_date = v;
    else if (k == "granularity") p.granularity = v;
    else if (k == "property") p.property = v;
    else if (k == "tz") p.tz = v;
    else if (k == "window_days") p.window_days = std::stoull(v);
    else if (k == "steps") p.steps = v;
    else if (k == "window") p.window = std::stoull(v);
    else if (k == "limit") p.limit = std::stoull(v);
    else if (k == "skip") p.skip = std::stoull(v);
    else return absl::InvalidArgumentError(q.name + ": unknown parameter " + k);
  }
  return p;
}

// ClickHouse runs the endpoint's own SQL from the catalog (the SQL that
// `usagedb export clickhouse` publishes); DuckDB its translation in
// bench/peers/peer_sql.h.
absl::StatusOr<std::string> peer_sql(bench::Dialect dialect, const QuerySpec& q) {
  if (dialect == bench::Dialect::kClickHouse) {
    const api::EndpointSpec* spec = api::find_endpoint(q.endpoint);
    if (spec == nullptr) return absl::InvalidArgumentError(q.name + ": unknown endpoint " + q.endpoint);
    return api::render_clickhouse_sql(*spec, q.params);
  }
  absl::StatusOr<bench::EndpointParams> params = peer_params(q);
  if (!params.ok()) return params.status();
  return bench::endpoint_sql(dialect, q.endpoint, *params);
}

absl::StatusOr<uint64_t> single_number(bench::Peer& peer, const std::string& sql) {
  absl::StatusOr<Rows> rows = peer.query(sql);
  if (!rows.ok()) return rows.status();
  if (rows->size() != 1 || rows->front().size() != 1) return absl::InternalError("unexpected result of " + sql);
  return std::stoull(rows->front().front());
}

// bench/scale: a peer opens the database a load in another process left.
absl::Status open_peer(bench::Peer& peer, const EngineRunOptions& o, EngineReport* r) {
  Clock::time_point t0 = Clock::now();
  if (absl::Status s = peer.open_existing(o.dir); !s.ok()) return s;
  absl::StatusOr<uint64_t> count = single_number(peer, "SELECT count(*) FROM feature_events");
  if (!count.ok()) return count.status();
  r->rows = *count;
  r->open_seconds += seconds_since(t0);  // the library's load, the database's open, a count(*)
  r->rss_open_kib = max_rss_kib();
  r->rss_after_open_kib = proc_status_kib("VmRSS");
  r->bytes_on_disk = peer.bytes_on_disk();
  return absl::OkStatus();
}

// A peer loads the NDJSON file and, unless this is bench/scale's load alone, compacts.
absl::Status load_peer(bench::Peer& peer, bool is_duckdb, const EngineRunOptions& o, EngineReport* r) {
  r->rss_open_kib = max_rss_kib();

  Clock::time_point t0 = Clock::now();
  if (absl::Status s = peer.load_ndjson(o.dir, o.ndjson_path); !s.ok()) return s;
  r->ingest_seconds = seconds_since(t0);
  r->rss_ingest_kib = max_rss_kib();
  r->bytes_after_ingest = peer.bytes_on_disk();
  absl::StatusOr<uint64_t> count = single_number(peer, "SELECT count(*) FROM feature_events");
  if (!count.ok()) return count.status();
  r->rows = *count;

  if (o.phase == "load") {  // bench/scale: the load alone; a fresh process opens it
    r->bytes_on_disk = r->bytes_after_ingest;
    return absl::OkStatus();
  }
  if (is_duckdb) {
    r->rss_compact_kib = r->rss_ingest_kib;
    r->bytes_on_disk = r->bytes_after_ingest;
  } else {
    t0 = Clock::now();
    absl::StatusOr<Rows> optimized = peer.query("OPTIMIZE TABLE feature_events FINAL");
    if (!optimized.ok()) return optimized.status();
    r->compact_seconds = seconds_since(t0);
    r->rss_compact_kib = max_rss_kib();
    // Parts replaced by the merge stay on disk until ClickHouse's cleanup removes them
    // (old_parts_lifetime): they are garbage, not data, so they are not counted.
    absl::StatusOr<uint64_t> outdated = single_number(
        peer, "SELECT sum(bytes_on_disk) FROM system.parts WHERE table = 'feature_events' AND NOT active");
    absl::StatusOr<uint64_t> parts =
        single_number(peer, "SELECT count() FROM system.parts WHERE table = 'feature_events' AND active");
    if (!outdated.ok()) return outdated.status();
    if (!parts.ok()) return parts.status();
    const uint64_t dir_bytes = peer.bytes_on_disk();
    r->bytes_on_disk = dir_bytes - std::min(dir_bytes, *outdated);
    r->bytes_note = "directory sum " + std::to_string(dir_bytes) + " B minus " + std::to_string(*outdated) +
                    " B of outdated parts awaiting removal; " + std::to_string(*parts) + " active parts";
  }
  return absl::OkStatus();
}

absl::Status run_peer(const Plan& plan, const EngineRunOptions& o, EngineReport* r) {
  const bool is_duckdb = o.engine == "duckdb";
  Clock::time_point t0 = Clock::now();
  absl::StatusOr<std::unique_ptr<bench::Peer>> opened =
      is_duckdb ? bench::open_duckdb(o.duckdb_lib) : bench::open_chdb(o.chdb_lib);
  r->open_seconds = seconds_since(t0);
  if (!opened.ok()) return opened.status();
  bench::Peer& peer = **opened;
  r->version = bench::peer_library_version(peer.name());
  absl::Status s = o.phase == "open" ? open_peer(peer, o, r) : load_peer(peer, is_duckdb, o, r);
  if (!s.ok() || o.phase == "load") return s;

  absl::StatusOr<bench::Dialect> dialect = bench::dialect_for_peer(peer.name());
  if (!dialect.ok()) return dialect.status();
  for (const QuerySpec& q : plan.queries) {
    absl::StatusOr<std::string> sql = peer_sql(*dialect, q);
    if (!sql.ok()) {
      r->queries.push_back(QueryReport{q.name, std::string(sql.status().message()), -1, {}, {}});
      continue;
    }
    const RunOnce run = [&peer, text = *sql](Rows* rows) -> absl::StatusOr<double> {
      const Clock::time_point start = Clock::now();
      absl::StatusOr<Rows> result = peer.query(text);
      const double ms = seconds_since(start) * 1e3;
      if (!result.ok()) return result.status();
      if (rows != nullptr) *rows = std::move(*result);
      return ms;
    };
    r->queries.push_back(measure(q, plan.repetitions, run));
  }
  return absl::OkStatus();
}

}  // namespace

int run_engine(const EngineRunOptions& o) {
  absl::StatusOr<Plan> plan = read_plan(o.plan_path);
  if (!plan.ok()) {
    std::fprintf(stderr, "usagedb_compare --child %s: %s\n", o.engine.c_str(), plan.status().ToString().c_str());
    return 1;
  }
  EngineReport report;
  report.engine = o.engine;
  absl::Status s;
  if (o.engine == "usagedb") {
    s = run_usagedb(*plan, o, &report);
  } else if (o.engine == "duckdb" || o.engine == "chdb") {
    s = run_peer(*plan, o, &report);
  } else {
    s = absl::InvalidArgumentError("unknown engine '" + o.engine + "' (usagedb, duckdb, chdb)");
  }
  if (!s.ok()) report.error = s.ToString();
  report.rss_final_kib = max_rss_kib();
  report.hwm_final_kib = vm_hwm_kib();
  if (absl::Status w = write_report(report, o.report_path); !w.ok()) {
    std::fprintf(stderr, "usagedb_compare --child %s: %s\n", o.engine.c_str(), w.ToString().c_str());
    return 1;
  }
  return 0;
}

}  // namespace usagedb::compare
