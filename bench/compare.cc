// usagedb_compare: usagedb side by side with DuckDB and ClickHouse (chDB) on the same events,
// the same queries, and a check that all three return the same rows.
//
//   bench/compare.sh                 # 1M events: installs the peers, builds Release, runs this
//   usagedb_compare --events 1000000 --paths-env .peers/paths.env [--markdown results.md]
//   usagedb_compare --smoke          # 100k events, few repetitions; exit 1 on any mismatch
//
// 1. Generates N events with the shared generator (lib/gen, fixed seed) into an NDJSON file in
//    a temporary directory, and picks the query parameters from them (the median and the
//    heaviest user by events, each one's most used feature, the most used feature overall).
// 2. Runs each engine in a process of its own (this binary again, `--child ENGINE`), one after
//    the other, so that getrusage's peak RSS is that engine's alone: load the file with the
//    engine's own loader, compact, then every query with warm-up and timed repetitions.
// 3. Checks every engine's rows against chDB's (ClickHouse's SQL defines the SPEC's results)
//    and prints the tables (bench/compare/report.h). Exit status: 0 when every result matched,
//    1 on a difference or a failure, 2 for bad arguments, 77 with --skip-if-no-peers when the
//    peers are not installed (CTest's skip), unless $USAGEDB_COMPARE_REQUIRE_PEERS is 1 (CI:
//    tools/check.sh installs the peers and must not let the tests skip).
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "bench/compare/engine_run.h"
#include "bench/compare/plan.h"
#include "bench/compare/report.h"
#include "lib/gen/generator.h"
#include "usagedb/event.h"

namespace usagedb::compare {
namespace {

namespace fs = std::filesystem;

constexpr int kExitMismatch = 1;
constexpr int kExitUsage = 2;
constexpr int kExitSkipped = 77;

struct Args {
  uint64_t events = 1'000'000;
  bool events_given = false;
  bool smoke = false;
  uint64_t seed = 42;
  std::vector<std::string> engines = {"usagedb", "duckdb", "chdb"};
  std::string workdir;
  bool keep = false;
  std::string paths_env;
  std::string duckdb_lib, chdb_lib;
  RepetitionPolicy repetitions;
  std::string markdown;
  bool skip_if_no_peers = false;
  std::string tamper;  // engine whose first result gets one wrong value (proves the check fails)
  // bench/scale (bench/scale.sh): each engine loads in one process and a fresh process opens the
  // data and runs the queries; no compaction step.
  bool scale = false;
  std::vector<std::string> queries;  // run only these (by name); empty: all
  std::string scale_rows;            // append the scaling table's Markdown rows to this file
  // --ask DIR: no load; usagedb's "open" phase on the store in DIR (a copy: it may write), with
  // the plan of --events N picked from the generator (no NDJSON file is written).
  std::string ask;
  // --child mode
  EngineRunOptions child;
};

const char kUsage[] =
    "usage: usagedb_compare [--events N] [--smoke] [--seed S] [--engines usagedb,duckdb,chdb]\n"
    "         [--workdir DIR] [--keep] [--paths-env FILE] [--duckdb LIB] [--chdb LIB]\n"
    "         [--warmup N] [--budget SECONDS] [--min-reps N] [--max-reps N] [--markdown FILE]\n"
    "         [--skip-if-no-peers] [--tamper ENGINE] [--scale] [--queries A,B,..] [--cache-bytes N]\n"
    "         [--scale-rows FILE] [--ask DIR] [--help]\n"
    "  --events N        events to generate (default 1000000; --smoke: 100000)\n"
    "  --smoke           100k events, 1 warm-up and 3..20 timed runs per query\n"
    "  --budget SECONDS  timed work per query and engine (default 2; runs stop at --max-reps)\n"
    "  --workdir DIR     where the NDJSON file and the databases go (default: a new temporary\n"
    "                    directory, removed at the end unless --keep)\n"
    "  --markdown FILE   also write the tables as Markdown (for bench/RESULTS.md)\n"
    "  --skip-if-no-peers  exit 77 (skipped) when the peer libraries are not installed, unless\n"
    "                    $USAGEDB_COMPARE_REQUIRE_PEERS=1 (then missing peers fail the run)\n"
    "  --tamper ENGINE   change one value of ENGINE's first result before the check (the test\n"
    "                    that proves a difference fails the run)\n"
    "  --scale           bench/scale's way: each engine loads the file in one process (usagedb:\n"
    "                    ingest_file, no compact()) and a new process opens the data and asks\n"
    "  --queries A,B,..  only these queries of the plan (by name)\n"
    "  --cache-bytes N   usagedb's Options::cache_bytes in the process that asks (builds with it)\n"
    "  --scale-rows FILE append this run's rows of the scaling tables (Markdown) to FILE and\n"
    "                    FILE.queries (bench/scale.sh)\n"
    "  --ask DIR         no load: pick the plan of --events N from the generator (no NDJSON file),\n"
    "                    then one process opens the usagedb store in DIR (a copy of one that\n"
    "                    `usagedb ingest` of the same events wrote: it may write) and asks, as\n"
    "                    --scale's second process does (prints each question's RSS to stderr)\n"
    "Peer libraries: --duckdb/--chdb, else $USAGEDB_DUCKDB_LIB/$USAGEDB_CHDB_LIB, else --paths-env\n"
    "(default: <repo>/.peers/paths.env, written by bench/peers/install_peers.sh).\n";

std::string env_file_value(const std::string& file, const std::string& key) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + "=", 0) == 0) return line.substr(key.size() + 1);
  }
  return "";
}

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

bool parse_args(int argc, char** argv, Args* a) {
#ifdef USAGEDB_PEERS_PATHS_ENV
  a->paths_env = USAGEDB_PEERS_PATHS_ENV;
#endif
  bool budget_given = false, min_given = false, max_given = false, warmup_given = false;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(k + " needs a value");
      return argv[++i];
    };
    try {
      if (k == "-h" || k == "--help") {
        std::cout << kUsage;
        std::exit(0);
      }
      if (k == "--events") a->events = std::stoull(value()), a->events_given = true;
      else if (k == "--smoke") a->smoke = true;
      else if (k == "--seed") a->seed = std::stoull(value());
      else if (k == "--engines") a->engines = split_commas(value());
      else if (k == "--workdir") a->workdir = value();
      else if (k == "--keep") a->keep = true;
      else if (k == "--paths-env") a->paths_env = value();
      else if (k == "--duckdb") a->duckdb_lib = value();
      else if (k == "--chdb") a->chdb_lib = value();
      else if (k == "--warmup") a->repetitions.warmup = std::stoi(value()), warmup_given = true;
      else if (k == "--budget") a->repetitions.budget_seconds = std::stod(value()), budget_given = true;
      else if (k == "--min-reps") a->repetitions.min_reps = std::stoi(value()), min_given = true;
      else if (k == "--max-reps") a->repetitions.max_reps = std::stoi(value()), max_given = true;
      else if (k == "--markdown") a->markdown = value();
      else if (k == "--skip-if-no-peers") a->skip_if_no_peers = true;
      else if (k == "--tamper") a->tamper = value();
      else if (k == "--scale") a->scale = true;
      else if (k == "--queries") a->queries = split_commas(value());
      else if (k == "--cache-bytes") a->child.cache_bytes = std::stoull(value());
      else if (k == "--scale-rows") a->scale_rows = value();
      else if (k == "--ask") a->ask = value();
      else if (k == "--phase") a->child.phase = value();
      else if (k == "--child") a->child.engine = value();
      else if (k == "--ndjson") a->child.ndjson_path = value();
      else if (k == "--dir") a->child.dir = value();
      else if (k == "--plan") a->child.plan_path = value();
      else if (k == "--report") a->child.report_path = value();
      else throw std::invalid_argument("unknown argument " + k);
    } catch (const std::exception& e) {  // std::stoull & co. throw on garbage
      std::cerr << "usagedb_compare: " << k << ": " << e.what() << "\n" << kUsage;
      return false;
    }
  }
  if (a->smoke) {
    if (!a->events_given) a->events = 100'000;
    if (!warmup_given) a->repetitions.warmup = 1;
    if (!budget_given) a->repetitions.budget_seconds = 0.2;
    if (!min_given) a->repetitions.min_reps = 3;
    if (!max_given) a->repetitions.max_reps = 20;
  }
  if (!a->ask.empty() && a->engines != std::vector<std::string>{"usagedb"}) {
    std::cerr << "usagedb_compare: --ask needs --engines usagedb\n";
    return false;
  }
  if (a->events == 0 || a->repetitions.min_reps < 1 || a->repetitions.max_reps < a->repetitions.min_reps) {
    std::cerr << "usagedb_compare: need --events >= 1 and 1 <= --min-reps <= --max-reps\n";
    return false;
  }
  for (const std::string& e : a->engines) {
    if (e != "usagedb" && e != "duckdb" && e != "chdb") {
      std::cerr << "usagedb_compare: --engines: unknown engine '" << e << "' (usagedb, duckdb, chdb)\n";
      return false;
    }
  }
  if (a->duckdb_lib.empty() && std::getenv("USAGEDB_DUCKDB_LIB")) a->duckdb_lib = std::getenv("USAGEDB_DUCKDB_LIB");
  if (a->chdb_lib.empty() && std::getenv("USAGEDB_CHDB_LIB")) a->chdb_lib = std::getenv("USAGEDB_CHDB_LIB");
  if (a->duckdb_lib.empty()) a->duckdb_lib = env_file_value(a->paths_env, "USAGEDB_DUCKDB_LIB");
  if (a->chdb_lib.empty()) a->chdb_lib = env_file_value(a->paths_env, "USAGEDB_CHDB_LIB");
  a->child.duckdb_lib = a->duckdb_lib;
  a->child.chdb_lib = a->chdb_lib;
  return true;
}

uint64_t rss_kib() {  // current VmRSS of this process
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6));
  }
  return 0;
}

// ---- data and plan ------------------------------------------------------------------------------

struct Picked {
  std::string typical_user, heavy_user;
  uint64_t typical_events = 0, heavy_events = 0;
  std::string typical_feature, heavy_feature, top_feature;
  std::vector<std::string> top_features;  // the three most used, most used first
};

std::string most_used(const absl::flat_hash_map<std::string, uint64_t>& counts) {
  std::string best;
  uint64_t best_n = 0;
  for (const auto& [k, n] : counts) {
    if (n > best_n || (n == best_n && k < best)) best = k, best_n = n;
  }
  return best;
}

// Writes the NDJSON file (unless `path` is empty) and picks the users and features the queries
// ask about. Two passes over the deterministic generator keep this process small (its RSS is
// the floor of each child's ru_maxrss, which Linux carries across exec).
bool generate(const Args& a, const std::string& path, Picked* picked) {
  const gen::GeneratorOptions options{.events = a.events, .seed = a.seed};
  absl::flat_hash_map<std::string, uint64_t> per_user, per_feature;
  if (path.empty()) {
    gen::Generator g(options);
    while (const Event* e = g.next()) {
      ++per_user[std::string(e->user_id)];
      ++per_feature[std::string(e->feature_id)];
    }
  } else {
    std::FILE* out = std::fopen(path.c_str(), "wb");
    if (out == nullptr) {
      std::perror(path.c_str());
      return false;
    }
    gen::Generator g(options);
    std::string buffer;
    buffer.reserve(1 << 20);
    while (const Event* e = g.next()) {
      gen::Generator::append_ndjson(*e, &buffer);
      ++per_user[std::string(e->user_id)];
      ++per_feature[std::string(e->feature_id)];
      if (buffer.size() > (1 << 20) - 4096) {
        std::fwrite(buffer.data(), 1, buffer.size(), out);
        buffer.clear();
      }
    }
    std::fwrite(buffer.data(), 1, buffer.size(), out);
    // On disk before any engine runs: otherwise the kernel writes the file
    // back (GBs at 10M events) while the first engine ingests it, and that
    // engine alone pays for it.
    if (std::fflush(out) != 0 || ::fsync(fileno(out)) != 0 || std::fclose(out) != 0) {
      std::perror(path.c_str());
      return false;
    }
  }
  std::vector<std::pair<uint64_t, std::string>> users;
  for (const auto& [u, n] : per_user) users.emplace_back(n, u);
  std::sort(users.begin(), users.end());
  picked->typical_events = users[users.size() / 2].first;
  picked->typical_user = users[users.size() / 2].second;
  const uint64_t heavy_n = users.back().first;
  auto heavy = std::find_if(users.begin(), users.end(), [&](const auto& u) { return u.first == heavy_n; });
  picked->heavy_events = heavy->first;
  picked->heavy_user = heavy->second;
  picked->top_feature = most_used(per_feature);
  std::vector<std::pair<uint64_t, std::string>> features;
  for (const auto& [f, n] : per_feature) features.emplace_back(n, f);
  std::sort(features.begin(), features.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  for (size_t i = 0; i < std::min<size_t>(3, features.size()); ++i) picked->top_features.push_back(features[i].second);

  absl::flat_hash_map<std::string, uint64_t> typical_features, heavy_features;
  gen::Generator g(options);
  while (const Event* e = g.next()) {
    if (e->user_id == picked->typical_user) ++typical_features[std::string(e->feature_id)];
    if (e->user_id == picked->heavy_user) ++heavy_features[std::string(e->feature_id)];
  }
  picked->typical_feature = most_used(typical_features);
  picked->heavy_feature = most_used(heavy_features);
  return true;
}

// The benchmark queries. Dates follow the generator's default span: the 12 months of 2025.
std::vector<QuerySpec> make_queries(const Picked& p) {
  const std::string typical = p.typical_user + ", " + std::to_string(p.typical_events) + " events";
  const std::string heavy = p.heavy_user + ", " + std::to_string(p.heavy_events) + " events";
  return {
      {"user_typical", "user_feature_usage, typical user (median events per user: " + typical + ")",
       "user_feature_usage", {{"user_id", p.typical_user}}},
      {"user_typical_feature", "user_feature_usage, typical user, filtered on the user's most used feature",
       "user_feature_usage", {{"user_id", p.typical_user}, {"feature_id", p.typical_feature}}},
      {"user_heavy", "user_feature_usage, heaviest user (" + heavy + ")", "user_feature_usage",
       {{"user_id", p.heavy_user}}},
      {"user_heavy_feature", "user_feature_usage, heaviest user, filtered on the user's most used feature",
       "user_feature_usage", {{"user_id", p.heavy_user}, {"feature_id", p.heavy_feature}}},
      {"summary_month", "feature_usage_summary, one month (June 2025)", "feature_usage_summary",
       {{"start_date", "2025-06-01"}, {"end_date", "2025-07-01"}}},
      {"summary_year", "feature_usage_summary, the whole year (2025)", "feature_usage_summary",
       {{"start_date", "2025-01-01"}, {"end_date", "2026-01-01"}}},
      {"timeline_day_feature", "feature_usage_timeline, daily, the most used feature, over the year",
       "feature_usage_timeline",
       {{"granularity", "day"}, {"feature_id", p.top_feature}, {"start_date", "2025-01-01"},
        {"end_date", "2026-01-01"}}},
      {"timeline_hour_week", "feature_usage_timeline, hourly, all features, one week (Mon 2025-03-03..)",
       "feature_usage_timeline",
       {{"granularity", "hour"}, {"start_date", "2025-03-03"}, {"end_date", "2025-03-10"}}},
      {"adoption_month", "feature_adoption, one month (June 2025)", "feature_adoption",
       {{"start_date", "2025-06-01"}, {"end_date", "2025-07-01"}}},
      {"adoption_year", "feature_adoption, the whole year", "feature_adoption",
       {{"start_date", "2025-01-01"}, {"end_date", "2026-01-01"}}},
      {"active_users_1", "active_users, daily (window_days 1) over the year", "active_users",
       {{"window_days", "1"}, {"start_date", "2025-01-01"}, {"end_date", "2026-01-01"}}},
      {"active_users_7", "active_users, weekly (window_days 7) over the year", "active_users",
       {{"window_days", "7"}, {"start_date", "2025-01-01"}, {"end_date", "2026-01-01"}}},
      {"active_users_28", "active_users, monthly (window_days 28) over the year", "active_users",
       {{"window_days", "28"}, {"start_date", "2025-01-01"}, {"end_date", "2026-01-01"}}},
      {"retention_feature", "feature_retention, weekly, the most used feature, over the year", "feature_retention",
       {{"feature_id", p.top_feature}, {"granularity", "week"}, {"start_date", "2025-01-01"},
        {"end_date", "2026-01-01"}}},
      {"retention_product", "feature_retention, weekly, the whole product, over the year", "feature_retention",
       {{"granularity", "week"}, {"start_date", "2025-01-01"}, {"end_date", "2026-01-01"}}},
      {"funnel_3_day", "feature_funnel, the three most used features, one-day window, over the year",
       "feature_funnel",
       {{"steps", p.top_features.size() == 3 ? p.top_features[0] + "," + p.top_features[1] + "," + p.top_features[2]
                                             : "feature_1,feature_2,feature_3"},
        {"window", "86400"}, {"start_date", "2025-01-01"}, {"end_date", "2026-01-01"}}},
      {"timeline_day_feature_ny", "feature_usage_timeline, daily in America/New_York, the most used feature, year",
       "feature_usage_timeline",
       {{"granularity", "day"}, {"feature_id", p.top_feature}, {"start_date", "2025-01-01"},
        {"end_date", "2026-01-01"}, {"tz", "America/New_York"}}},
      {"timeline_day_feature_kolkata", "feature_usage_timeline, daily in Asia/Kolkata, the most used feature, year",
       "feature_usage_timeline",
       {{"granularity", "day"}, {"feature_id", p.top_feature}, {"start_date", "2025-01-01"},
        {"end_date", "2026-01-01"}, {"tz", "Asia/Kolkata"}}},
      {"breakdown_year", "property_breakdown by device, the whole year", "property_breakdown",
       {{"property", "device"}, {"start_date", "2025-01-01"}, {"end_date", "2026-01-01"}}},
      {"breakdown_year_feature", "property_breakdown by device, the most used feature, the whole year",
       "property_breakdown",
       {{"property", "device"}, {"feature_id", p.top_feature}, {"start_date", "2025-01-01"},
        {"end_date", "2026-01-01"}}},
      {"versions_week_year", "version_adoption, weekly, the whole year", "version_adoption",
       {{"granularity", "week"}, {"start_date", "2025-01-01"}, {"end_date", "2026-01-01"}}},
      {"active_users_7_kolkata", "active_users, weekly (window_days 7) over the year in Asia/Kolkata days",
       "active_users",
       {{"window_days", "7"}, {"start_date", "2025-01-01"}, {"end_date", "2026-01-01"}, {"tz", "Asia/Kolkata"}}},
      {"retention_product_ny", "feature_retention, weekly in America/New_York, the whole product, over the year",
       "feature_retention",
       {{"granularity", "week"}, {"start_date", "2025-01-01"}, {"end_date", "2026-01-01"},
        {"tz", "America/New_York"}}},
  };
}

// Reads the whole file, so every engine starts with it in the page cache.
void warm_page_cache(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return;
  std::vector<char> buf(1 << 20);
  while (std::fread(buf.data(), 1, buf.size(), f) == buf.size()) {
  }
  std::fclose(f);
}

// Runs `self --child ENGINE ...` and waits; returns its report, with ru_maxrss from wait4.
absl::StatusOr<EngineReport> run_child(const std::string& self, const EngineRunOptions& o) {
  std::vector<std::string> args = {self,          "--child", o.engine,        "--ndjson", o.ndjson_path,
                                   "--dir",       o.dir,     "--plan",        o.plan_path,
                                   "--report",    o.report_path};
  if (!o.duckdb_lib.empty()) args.insert(args.end(), {"--duckdb", o.duckdb_lib});
  if (!o.chdb_lib.empty()) args.insert(args.end(), {"--chdb", o.chdb_lib});
  if (!o.phase.empty()) args.insert(args.end(), {"--phase", o.phase});
  if (o.cache_bytes != 0) args.insert(args.end(), {"--cache-bytes", std::to_string(o.cache_bytes)});
  std::vector<char*> argv;
  for (std::string& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) return absl::InternalError("fork failed");
  if (pid == 0) {
    execv(self.c_str(), argv.data());
    std::perror("usagedb_compare: execv");
    _exit(127);
  }
  int status = 0;
  rusage ru{};
  if (wait4(pid, &status, 0, &ru) != pid) return absl::InternalError("wait4 failed");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(o.engine + " child process " +
                               (WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
                                                    : "exited with status " + std::to_string(WEXITSTATUS(status))));
  }
  absl::StatusOr<EngineReport> report = read_report(o.report_path);
  if (report.ok()) report->rss_final_kib = std::max<uint64_t>(report->rss_final_kib, ru.ru_maxrss);
  return report;
}

// bench/scale: the load in one process, then a new process opens the data and asks; one report
// of the two (the load's time, peak RSS and bytes; the open's time, RSS and queries).
absl::StatusOr<EngineReport> run_scale_children(const std::string& self, const EngineRunOptions& options) {
  EngineRunOptions o = options;
  o.phase = "load";
  o.report_path = options.report_path + ".load";
  absl::StatusOr<EngineReport> load = run_child(self, o);
  if (!load.ok() || !load->error.empty()) return load;
  std::printf("  %s loaded in %.1f s, peak RSS %llu MiB (load average %s)\n", o.engine.c_str(), load->ingest_seconds,
              static_cast<unsigned long long>(load->rss_final_kib >> 10), load_average().c_str());
  std::fflush(stdout);
  o.phase = "open";
  o.report_path = options.report_path;
  absl::StatusOr<EngineReport> opened = run_child(self, o);
  if (!opened.ok()) return opened;
  if (opened->rows != load->rows) {
    opened->error += "the load stored " + std::to_string(load->rows) + " rows, the open found " +
                     std::to_string(opened->rows);
  }
  opened->ingest_seconds = load->ingest_seconds;
  opened->rss_ingest_kib = load->rss_final_kib;  // the load process's peak (wait4)
  opened->rss_compact_kib = 0;
  opened->compact_seconds = -1;
  opened->bytes_after_ingest = load->bytes_on_disk;
  opened->bytes_note = load->bytes_note;
  if (!load->memory_note.empty()) {
    opened->memory_note = load->memory_note + (opened->memory_note.empty() ? "" : "; ") + opened->memory_note;
  }
  return opened;
}

int run_parent(const Args& a) {
  const bool wants_peers = std::any_of(a.engines.begin(), a.engines.end(), [](const auto& e) { return e != "usagedb"; });
  const bool have_peers = !a.duckdb_lib.empty() && !a.chdb_lib.empty() && fs::exists(a.duckdb_lib) &&
                          fs::exists(a.chdb_lib);
  if (wants_peers && !have_peers) {
    // CI sets USAGEDB_COMPARE_REQUIRE_PEERS=1 after installing the peers: a skip there would
    // hide a broken install, so it fails instead (with a message that is not CTest's skip text).
    const char* require = std::getenv("USAGEDB_COMPARE_REQUIRE_PEERS");
    const bool required = require != nullptr && std::string(require) == "1";
    std::cerr << "usagedb_compare: "
              << (required ? "USAGEDB_COMPARE_REQUIRE_PEERS=1 but the peer libraries are missing"
                           : "the peer libraries are not installed")
              << " (run bench/peers/install_peers.sh; looked in '" << a.paths_env
              << "', --duckdb/--chdb, $USAGEDB_DUCKDB_LIB/$USAGEDB_CHDB_LIB)\n";
    return a.skip_if_no_peers && !required ? kExitSkipped : kExitMismatch;
  }
  RunSummary run;
  run.machine = read_machine_info();
  run.seed = a.seed;
  run.smoke = a.smoke;
  run.plan.events = a.events;
  run.plan.repetitions = a.repetitions;

  std::string workdir = a.workdir;
  if (workdir.empty()) {
    std::string tmpl = (fs::temp_directory_path() / "usagedb_compare.XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) {
      std::perror("usagedb_compare: mkdtemp");
      return kExitMismatch;
    }
    workdir = tmpl;
  } else {
    fs::create_directories(workdir);
    if (a.ask.empty()) {
      for (const std::string& engine : a.engines) fs::remove_all(workdir + "/" + engine);  // ours, from a past run
    }
  }
  const std::string ndjson = workdir + "/events.ndjson";
  std::cout << "usagedb_compare: " << a.events << " events in " << workdir << " (load average " << run.machine.load_start
            << ")" << std::endl;

  for (const std::string& name : a.queries) {  // before generating: the names do not depend on the data
    const std::vector<QuerySpec> all = make_queries(Picked{});
    if (std::none_of(all.begin(), all.end(), [&](const QuerySpec& s) { return s.name == name; })) {
      std::cerr << "usagedb_compare: --queries: no query named '" << name << "'\n";
      return kExitUsage;
    }
  }
  Picked picked;
  auto t0 = std::chrono::steady_clock::now();
  if (!generate(a, a.ask.empty() ? ndjson : "", &picked)) return kExitMismatch;
  run.generate_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  run.ndjson_bytes = a.ask.empty() ? fs::file_size(ndjson) : 0;
  run.plan.queries = make_queries(picked);
  if (!a.queries.empty()) {
    std::vector<QuerySpec> chosen;
    for (const std::string& name : a.queries) {
      chosen.push_back(*std::find_if(run.plan.queries.begin(), run.plan.queries.end(),
                                     [&](const QuerySpec& s) { return s.name == name; }));
    }
    run.plan.queries = std::move(chosen);
  }
  const std::string plan_path = workdir + "/plan.tsv";
  if (absl::Status s = write_plan(run.plan, plan_path); !s.ok()) {
    std::cerr << "usagedb_compare: " << s << "\n";
    return kExitMismatch;
  }
  std::printf("generated %.1f MB in %.1f s; this process's RSS %llu KiB (the floor of each child's ru_maxrss)\n",
              run.ndjson_bytes / 1e6, run.generate_seconds, static_cast<unsigned long long>(rss_kib()));

  const std::string self = fs::read_symlink("/proc/self/exe").string();
  std::vector<EngineReport> reports;
  bool failed = false;
  for (const std::string& engine : a.engines) {
    if (a.ask.empty()) warm_page_cache(ndjson);
    EngineRunOptions o = a.child;
    o.engine = engine;
    o.ndjson_path = ndjson;
    o.dir = a.ask.empty() ? workdir + "/" + engine : a.ask;
    if (!a.ask.empty()) o.phase = "open";
    o.plan_path = plan_path;
    o.report_path = workdir + "/report-" + engine + ".tsv";
    std::printf("running %s ... (load average %s)\n", engine.c_str(), load_average().c_str());
    std::fflush(stdout);
    t0 = std::chrono::steady_clock::now();
    absl::StatusOr<EngineReport> report = a.scale ? run_scale_children(self, o) : run_child(self, o);
    const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!report.ok()) {
      std::cerr << "usagedb_compare: " << report.status() << "\n";
      failed = true;
      continue;
    }
    if (!report->error.empty()) {
      std::cerr << "usagedb_compare: " << engine << ": " << report->error << "\n";
      failed = true;
      continue;
    }
    if (report->rows != a.events) {
      std::cerr << "usagedb_compare: " << engine << " stored " << report->rows << " rows, expected " << a.events << "\n";
      failed = true;
    }
    std::printf("  %s done in %.1f s: load %.2f s, %llu rows\n", engine.c_str(), took, report->ingest_seconds,
                static_cast<unsigned long long>(report->rows));
    if (engine == a.tamper && !report->queries.empty() && !report->queries[0].rows.empty()) {
      report->queries[0].rows.back().back() += "0";
    }
    reports.push_back(std::move(*report));
  }
  run.machine.load_end = load_average();

  std::cout << "\n";
  const std::string oracle = std::find(a.engines.begin(), a.engines.end(), "chdb") != a.engines.end() ? "chdb" : "duckdb";
  const int mismatches = check_results(run.plan, reports, oracle, std::cout);
  std::cout << render_tables(run, reports, TableStyle::kText);
  for (const EngineReport& r : reports) {
    const double ratio = r.hwm_final_kib ? static_cast<double>(r.rss_final_kib) / r.hwm_final_kib : 0;
    if (ratio > 1.02) {
      std::printf("note: %s ru_maxrss %llu KiB > VmHWM %llu KiB (the parent's RSS carried across exec)\n",
                  r.engine.c_str(), static_cast<unsigned long long>(r.rss_final_kib),
                  static_cast<unsigned long long>(r.hwm_final_kib));
    }
  }
  if (a.scale) {
    for (const EngineReport& r : reports) {
      if (!r.memory_note.empty()) std::printf("%s memory: %s\n", r.engine.c_str(), r.memory_note.c_str());
    }
  }
  if (!a.scale_rows.empty()) {
    std::ofstream(a.scale_rows, std::ios::app) << render_scale_rows(run, reports, /*queries=*/false);
    std::ofstream(a.scale_rows + ".queries", std::ios::app) << render_scale_rows(run, reports, /*queries=*/true);
    std::cout << "appended the scaling tables' rows to " << a.scale_rows << " and " << a.scale_rows << ".queries\n";
  }
  if (!a.markdown.empty()) {
    std::ofstream md(a.markdown, std::ios::trunc);
    md << render_tables(run, reports, TableStyle::kMarkdown);
    std::cout << "wrote " << a.markdown << "\n";
  }
  if (a.keep) {
    std::cout << "kept " << workdir << "\n";
  } else if (a.workdir.empty()) {
    std::error_code ec;
    fs::remove_all(workdir, ec);
  } else {
    std::error_code ec;
    fs::remove(ndjson, ec);
    if (a.ask.empty()) {
      for (const std::string& engine : a.engines) fs::remove_all(workdir + "/" + engine, ec);
    }
  }
  if (failed || mismatches > 0) {
    std::cout << "usagedb_compare: FAILED (" << mismatches << " queries with different results"
              << (failed ? ", engine failures" : "") << ")\n";
    return kExitMismatch;
  }
  std::cout << "usagedb_compare: every query returned the same rows in every engine\n";
  return 0;
}

}  // namespace
}  // namespace usagedb::compare

int main(int argc, char** argv) {
  usagedb::compare::Args args;
  if (!usagedb::compare::parse_args(argc, argv, &args)) return usagedb::compare::kExitUsage;
  if (!args.child.engine.empty()) return usagedb::compare::run_engine(args.child);
  return usagedb::compare::run_parent(args);
}
