/*
 * peers_smoke: loads the same small deterministic NDJSON file into DuckDB and chDB, runs every
 * SPEC section 2 endpoint with several parameter combinations in both, and checks the two
 * engines return identical rows (plus a few invariants that pin what "identical" must be).
 *
 * Build (standalone):   cmake -S bench/peers -B build-peers && cmake --build build-peers
 * or without CMake, from the repository root (Debian's libabsl-dev ships pkg-config files):
 *   g++ -std=c++20 -O2 -Ibench/peers bench/peers/peers_smoke.cc bench/peers/peer_common.cc \
 *       bench/peers/peer_duckdb.cc bench/peers/peer_chdb.cc bench/peers/peer_sql.cc \
 *       -o peers_smoke $(pkg-config --libs absl_statusor) -ldl
 * Run:  bash bench/peers/install_peers.sh && ./build-peers/peers_smoke
 *
 * Library paths: --duckdb LIB / --chdb LIB, else $USAGEDB_DUCKDB_LIB / $USAGEDB_CHDB_LIB, else
 * the paths.env written by install_peers.sh (--paths-env FILE, default: <repo>/.peers/paths.env
 * as known at build time). Exit status 0 when every check passed.
 */
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "peer.h"
#include "peer_sql.h"

namespace {

using usagedb::bench::Dialect;
using usagedb::bench::EndpointParams;
using usagedb::bench::Peer;
using Rows = std::vector<std::vector<std::string>>;

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Resident set size of this process in MiB (Linux /proc), 0 if unknown.
double rss_mib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;  // kB
  }
  return 0;
}

// ---- deterministic test data -------------------------------------------------------------------

struct Rng {  // 64-bit LCG (Knuth MMIX constants); deterministic across platforms
  uint64_t state;
  uint64_t next() {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return state >> 33;
  }
  uint64_t below(uint64_t n) { return next() % n; }
};

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

// Tricky values on purpose: byte-wise ordering (upper case, '_', UTF-8), quotes, backslashes,
// tabs and newlines (TSV escaping in chDB's output), SQL quoting of parameters.
const std::vector<std::string> kFeatures = {
    "feature_1", "feature_2", "feature_3", "feature_10", "Feature_Z", "feature_é",
    "feat'quote", "tab\there\\back", "new\nline", "_underscore", "\xF0\x9F\x9A\x80 rocket"};
const std::vector<std::string> kVersions = {"1.0.0", "1.5.5", "2.0.0", "10.0", "2.0.0-beta"};
const std::vector<std::string> kEventTypes = {"view", "click", "feature_used", "error"};

// Unix seconds for 00:00:00 UTC of a civil date.
int64_t unix_day(int y, unsigned m, unsigned d) {
  using namespace std::chrono;
  return sys_days{year{y} / month{m} / day{d}}.time_since_epoch().count() * 86400LL;
}

// Returns the number of events written. Timestamps: mostly 2024-11..2025-06 (several months and
// weeks), a few on 1970-01-01..04 (the week bucket clamp of SPEC 2.3) and 2105-12-31. They come
// in the forms SPEC 1.1 accepts (seed form, 'T', 'Z', offsets, fractions, Unix seconds), so both
// engines' timestamp parsing is checked too.
size_t write_ndjson(const std::string& path, size_t n) {
  std::ofstream out(path, std::ios::binary);
  Rng rng{20250511};
  const int64_t base = unix_day(2024, 11, 1);
  const int64_t span = unix_day(2025, 7, 1) - base;
  for (size_t i = 0; i < n; ++i) {
    int64_t ts;
    if (i % 97 == 5) {
      ts = unix_day(1970, 1, 1) + static_cast<int64_t>(rng.below(4 * 86400));
    } else if (i % 211 == 7) {
      ts = unix_day(2105, 12, 31) + static_cast<int64_t>(rng.below(86400));
    } else {
      ts = base + static_cast<int64_t>(rng.below(static_cast<uint64_t>(span)));
    }
    const std::string user = "user_" + std::to_string(1 + rng.below(12));
    // Skewed feature choice so counts differ (ordering by count is exercised).
    const size_t f = std::min<size_t>(rng.below(kFeatures.size()), rng.below(kFeatures.size()));
    const std::string& feature = kFeatures[f];
    const std::string& version = kVersions[rng.below(kVersions.size())];
    const std::string& type = kEventTypes[rng.below(kEventTypes.size())];

    std::string line = "{";
    if (i % 13 != 3) line += "\"event_id\":" + json_string("evt_" + std::to_string(i)) + ",";
    line += "\"user_id\":" + json_string(user) + ",\"feature_id\":" + json_string(feature) +
            ",\"product_version\":" + json_string(version) +
            ",\"event_type\":" + json_string(type) + ",\"timestamp\":";
    const std::string seed_form = usagedb::bench::internal::format_unix_seconds(ts);
    switch (i % 10) {
      case 1: {  // ISO with T and Z
        std::string t = seed_form;
        t[10] = 'T';
        line += json_string(t + "Z");
        break;
      }
      case 2: {  // ISO with an offset: local time 02:00 ahead of UTC
        std::string t = usagedb::bench::internal::format_unix_seconds(ts + 7200);
        t[10] = 'T';
        line += json_string(t + "+02:00");
        break;
      }
      case 3: {  // fractional seconds, truncated
        std::string t = seed_form;
        t[10] = 'T';
        line += json_string(t + ".987Z");
        break;
      }
      case 4:  // Unix seconds as a JSON integer
        line += std::to_string(ts);
        break;
      default:
        line += json_string(seed_form);
    }
    // session_id: absent, explicitly empty, null, or one of a few sessions.
    switch (rng.below(6)) {
      case 0: break;
      case 1: line += ",\"session_id\":\"\""; break;
      case 2: line += ",\"session_id\":null"; break;
      default: line += ",\"session_id\":" + json_string("session_" + std::to_string(rng.below(40)));
    }
    if (i % 7 == 0) {
      line += ",\"metadata\":{\"device\":\"mobile\",\"n\":[1,2]}";  // object kept as JSON text
    } else if (i % 7 != 1) {
      line += ",\"metadata\":" + json_string("{\"device\":\"desktop\"}");
    }
    if (i % 11 == 0) line += ",\"utm_source\":\"ignored\"";  // unknown key
    line += "}\n";
    out << line;
  }
  out.close();
  return n;
}

// ---- checks ------------------------------------------------------------------------------------

int g_passed = 0, g_failed = 0;

void check(bool ok, const std::string& what) {
  if (ok) {
    ++g_passed;
  } else {
    ++g_failed;
    std::cout << "FAIL: " << what << "\n";
  }
}

std::string show_row(const std::vector<std::string>& row) {
  std::string s = "[";
  for (size_t i = 0; i < row.size(); ++i) {
    if (i) s += ", ";
    s += usagedb::bench::sql_string_literal(Dialect::kClickHouse, row[i]);
  }
  return s + "]";
}

// First difference between two results, or "" when equal.
std::string diff(const Rows& a, const Rows& b, const std::string& an, const std::string& bn) {
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    if (a[i] != b[i]) {
      return "row " + std::to_string(i) + ": " + an + " " + show_row(a[i]) + " vs " + bn + " " +
             show_row(b[i]);
    }
  }
  if (a.size() != b.size()) {
    return an + " has " + std::to_string(a.size()) + " rows, " + bn + " has " +
           std::to_string(b.size());
  }
  return "";
}

struct Case {
  std::string endpoint;
  EndpointParams params;
  std::string label;
  bool expect_rows = true;  // an empty result in both engines would be a vacuous pass
};

std::string read_env_file_value(const std::string& file, const std::string& key) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + "=", 0) == 0) return line.substr(key.size() + 1);
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  std::string duckdb_lib, chdb_lib, paths_env, workdir;
  size_t events = 600;
  bool keep = false, show_sql = false;
  std::vector<std::string> extra_queries;
#ifdef USAGEDB_PEERS_PATHS_ENV
  paths_env = USAGEDB_PEERS_PATHS_ENV;
#endif
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "peers_smoke: " << a << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--duckdb") duckdb_lib = value();
    else if (a == "--chdb") chdb_lib = value();
    else if (a == "--paths-env") paths_env = value();
    else if (a == "--events") events = std::stoul(value());
    else if (a == "--workdir") workdir = value();
    else if (a == "--keep") keep = true;
    else if (a == "--show-sql") show_sql = true;
    else if (a == "--query") extra_queries.push_back(value());
    else {
      std::cerr << "usage: peers_smoke [--duckdb LIB] [--chdb LIB] [--paths-env FILE] "
                   "[--events N] [--workdir DIR] [--keep] [--show-sql] [--query SQL]...\n"
                   "  --query SQL  after loading, run SQL in both engines and print their rows\n"
                   "  --show-sql   print each endpoint's SQL in both dialects\n";
      return 2;
    }
  }
  if (duckdb_lib.empty() && std::getenv("USAGEDB_DUCKDB_LIB")) {
    duckdb_lib = std::getenv("USAGEDB_DUCKDB_LIB");
  }
  if (chdb_lib.empty() && std::getenv("USAGEDB_CHDB_LIB")) chdb_lib = std::getenv("USAGEDB_CHDB_LIB");
  if (duckdb_lib.empty() && !paths_env.empty()) {
    duckdb_lib = read_env_file_value(paths_env, "USAGEDB_DUCKDB_LIB");
  }
  if (chdb_lib.empty() && !paths_env.empty()) {
    chdb_lib = read_env_file_value(paths_env, "USAGEDB_CHDB_LIB");
  }
  if (duckdb_lib.empty() || chdb_lib.empty()) {
    std::cerr << "peers_smoke: library paths unknown; run bench/peers/install_peers.sh and pass "
                 "--paths-env <repo>/.peers/paths.env (or --duckdb/--chdb, or set "
                 "USAGEDB_DUCKDB_LIB/USAGEDB_CHDB_LIB)\n";
    return 2;
  }

  namespace fs = std::filesystem;
  if (workdir.empty()) {
    std::string tmpl = (fs::temp_directory_path() / "peers_smoke.XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) {
      std::perror("peers_smoke: mkdtemp");
      return 1;
    }
    workdir = tmpl;
  } else {
    fs::create_directories(workdir);
  }
  const std::string ndjson = workdir + "/events.ndjson";
  const size_t n = write_ndjson(ndjson, events);
  std::printf("process RSS before opening the engines: %.0f MiB\n", rss_mib());
  std::cout << "data: " << n << " events in " << ndjson << " (" << fs::file_size(ndjson)
            << " bytes)\n";

  // ---- open and load both engines ---------------------------------------------------------------
  std::vector<std::unique_ptr<Peer>> peers;
  {
    auto t0 = std::chrono::steady_clock::now();
    absl::StatusOr<std::unique_ptr<Peer>> d = usagedb::bench::open_duckdb(duckdb_lib);
    if (!d.ok()) {
      std::cerr << "peers_smoke: " << d.status() << "\n";
      return 1;
    }
    std::printf("open  duckdb %-10s %8.3f s  (%s)\n",
                usagedb::bench::peer_library_version("duckdb").c_str(), seconds_since(t0),
                duckdb_lib.c_str());
    peers.push_back(std::move(*d));
    t0 = std::chrono::steady_clock::now();
    absl::StatusOr<std::unique_ptr<Peer>> c = usagedb::bench::open_chdb(chdb_lib);
    if (!c.ok()) {
      std::cerr << "peers_smoke: " << c.status() << "\n";
      return 1;
    }
    std::printf("open  chdb   %-10s %8.3f s  (%s)\n",
                usagedb::bench::peer_library_version("chdb").c_str(), seconds_since(t0),
                chdb_lib.c_str());
    peers.push_back(std::move(*c));
  }
  for (auto& p : peers) {
    const std::string dir = workdir + "/" + p->name();
    auto t0 = std::chrono::steady_clock::now();
    absl::Status s = p->load_ndjson(dir, ndjson);
    std::fflush(stdout);
    if (!s.ok()) {
      std::cerr << "peers_smoke: " << s << "\n";
      return 1;
    }
    std::printf("load  %-6s %8.3f s  %10llu bytes on disk in %s  (process RSS %.0f MiB)\n",
                p->name().c_str(), seconds_since(t0),
                static_cast<unsigned long long>(p->bytes_on_disk()), dir.c_str(), rss_mib());
  }
  Peer& duck = *peers[0];
  Peer& ch = *peers[1];

  auto run_both = [&](const std::string& label, const std::string& duck_sql,
                      const std::string& ch_sql, Rows* out) -> bool {
    auto t0 = std::chrono::steady_clock::now();
    absl::StatusOr<Rows> a = duck.query(duck_sql);
    const double ta = seconds_since(t0);
    t0 = std::chrono::steady_clock::now();
    absl::StatusOr<Rows> b = ch.query(ch_sql);
    const double tb = seconds_since(t0);
    if (!a.ok() || !b.ok()) {
      check(false, label + ": " + (a.ok() ? "" : "duckdb: " + a.status().ToString() + " ") +
                       (b.ok() ? "" : "chdb: " + b.status().ToString()));
      return false;
    }
    const std::string d = diff(*a, *b, "duckdb", "chdb");
    check(d.empty(), label + ": engines differ: " + d);
    std::printf("  %-62s %4zu rows  duckdb %7.2f ms  chdb %7.2f ms%s\n", label.c_str(), a->size(),
                ta * 1e3, tb * 1e3, d.empty() ? "" : "  DIFFERENT");
    if (out) *out = *a;
    return d.empty();
  };

  // ---- ad-hoc queries (--query) ------------------------------------------------------------------
  for (const std::string& q : extra_queries) {
    std::cout << "query: " << q << "\n";
    for (auto& p : peers) {
      absl::StatusOr<Rows> r = p->query(q);
      if (!r.ok()) {
        std::cout << "  " << p->name() << ": " << r.status() << "\n";
        continue;
      }
      for (const auto& row : *r) std::cout << "  " << p->name() << " " << show_row(row) << "\n";
    }
  }

  // ---- the stored table itself: every column, every row -----------------------------------------
  std::cout << "table contents:\n";
  {
    Rows count;
    run_both("count(*)", "SELECT count(*) FROM feature_events",
             "SELECT count(*) FROM feature_events", &count);
    check(count.size() == 1 && count[0].size() == 1 && count[0][0] == std::to_string(n),
          "count(*) = " + std::to_string(n));
    const std::string all =
        "SELECT event_id, user_id, feature_id, product_version, event_type, \"timestamp\", "
        "session_id, metadata FROM feature_events ORDER BY \"timestamp\", feature_id, "
        "product_version, user_id, event_id, event_type, session_id, metadata";
    Rows rows;
    run_both("all rows, all columns", all, all, &rows);
    // Spot checks on what both engines stored (they could agree and still both be wrong).
    bool has_1970 = false, has_2105 = false, has_obj_meta = false, has_empty_session = false;
    for (const auto& r : rows) {
      if (r.size() != 8) continue;
      has_1970 |= r[5].rfind("1970-01-0", 0) == 0;
      has_2105 |= r[5].rfind("2105-12-31 ", 0) == 0;
      has_obj_meta |= r[7] == R"({"device":"mobile","n":[1,2]})";
      has_empty_session |= r[6].empty();
    }
    check(has_1970 && has_2105, "timestamps of 1970-01-01..04 and 2105-12-31 stored");
    check(has_obj_meta, "a metadata object is stored as its compact JSON text");
    check(has_empty_session, "absent/null session_id stored as ''");
    // The event with an offset timestamp converts to UTC: evt_2 was written as ts+2h '+02:00'.
    Rows evt2;
    const std::string q2 =
        "SELECT \"timestamp\" FROM feature_events WHERE event_id = 'evt_2' OR event_id = 'evt_12'"
        " ORDER BY event_id";
    run_both("offset timestamps converted to UTC", q2, q2, &evt2);
  }

  // ---- endpoints --------------------------------------------------------------------------------
  std::vector<Case> cases;
  auto P = [](auto f) {
    EndpointParams p;
    f(p);
    return p;
  };
  // 2.1 user_feature_usage
  cases.push_back({"user_feature_usage", P([](auto& p) { p.user_id = "user_1"; }), "user_1"});
  cases.push_back({"user_feature_usage", P([](auto& p) { p.user_id = "user_7"; }), "user_7"});
  cases.push_back({"user_feature_usage",
                   P([](auto& p) { p.user_id = "user_2"; p.feature_id = "feature_1"; }),
                   "user_2 feature_1"});
  cases.push_back({"user_feature_usage",
                   P([](auto& p) { p.user_id = "user_3"; p.product_version = "2.0.0"; }),
                   "user_3 version 2.0.0"});
  cases.push_back({"user_feature_usage",
                   P([](auto& p) { p.user_id = "user_4"; p.feature_id = "feat'quote"; }),
                   "user_4 feature with a quote"});
  cases.push_back({"user_feature_usage", P([](auto& p) { p.user_id = "user_5"; p.limit = 3; }),
                   "user_5 limit 3"});
  cases.push_back({"user_feature_usage",
                   P([](auto& p) { p.user_id = "user_5"; p.limit = 3; p.skip = 2; }),
                   "user_5 skip 2 limit 3"});
  cases.push_back({"user_feature_usage", P([](auto& p) { p.user_id = "user_5"; p.skip = 4; }),
                   "user_5 skip 4"});
  cases.push_back({"user_feature_usage", P([](auto&) {}), "no user_id (empty)", false});
  cases.push_back({"user_feature_usage", P([](auto& p) { p.user_id = "nobody"; }),
                   "unknown user (empty)", false});
  cases.push_back({"user_feature_usage",
                   P([](auto& p) { p.user_id = std::string("user_1\0x", 8); }),
                   "user_id with a NUL byte (empty)", false});
  // 2.2 feature_usage_summary
  cases.push_back({"feature_usage_summary", P([](auto&) {}), "all"});
  cases.push_back({"feature_usage_summary", P([](auto& p) { p.feature_id = "feature_é"; }),
                   "feature_é"});
  cases.push_back({"feature_usage_summary",
                   P([](auto& p) { p.feature_id = "tab\there\\back"; }),
                   "feature with tab and backslash"});
  cases.push_back({"feature_usage_summary", P([](auto& p) { p.product_version = "1.5.5"; }),
                   "version 1.5.5"});
  cases.push_back({"feature_usage_summary", P([](auto& p) { p.event_type = "click"; }),
                   "event_type click"});
  cases.push_back({"feature_usage_summary",
                   P([](auto& p) { p.start_date = "2025-01-01"; p.end_date = "2025-03-01"; }),
                   "2025-01-01 <= ts < 2025-03-01 (dates)"});
  cases.push_back({"feature_usage_summary",
                   P([](auto& p) {
                     p.start_date = "2025-02-10 12:30:00";
                     p.end_date = "2025-02-20 08:00:00";
                     p.event_type = "view";
                   }),
                   "view, datetime range"});
  cases.push_back({"feature_usage_summary", P([](auto& p) { p.start_date = "2025-06-01"; }),
                   "start_date only"});
  cases.push_back({"feature_usage_summary", P([](auto& p) { p.end_date = "2024-12-01"; }),
                   "end_date only"});
  cases.push_back({"feature_usage_summary", P([](auto& p) { p.feature_id = ""; }),
                   "feature_id='' (empty)", false});
  cases.push_back({"feature_usage_summary", P([](auto& p) { p.limit = 5; p.skip = 3; }),
                   "skip 3 limit 5"});
  cases.push_back({"feature_usage_summary", P([](auto& p) { p.skip = 40; }), "skip 40"});
  cases.push_back({"feature_usage_summary", P([](auto& p) { p.limit = 0; }), "limit 0", false});
  // 2.3 feature_usage_timeline
  for (const char* g : {"hour", "day", "week", "month"}) {
    cases.push_back({"feature_usage_timeline", P([&](auto& p) { p.granularity = g; }),
                     std::string(g)});
    cases.push_back({"feature_usage_timeline",
                     P([&](auto& p) {
                       p.granularity = g;
                       p.feature_id = "feature_1";
                       p.start_date = "2025-01-15";
                       p.end_date = "2025-04-15 06:00:00";
                     }),
                     std::string(g) + " feature_1, date range"});
  }
  cases.push_back({"feature_usage_timeline", P([](auto&) {}), "default granularity (day)"});
  cases.push_back({"feature_usage_timeline",
                   P([](auto& p) { p.granularity = "week"; p.end_date = "1970-01-10"; }),
                   "week before 1970-01-10 (clamped bucket)"});
  cases.push_back({"feature_usage_timeline",
                   P([](auto& p) {
                     p.granularity = "month";
                     p.event_type = "error";
                     p.product_version = "10.0";
                     p.limit = 4;
                     p.skip = 1;
                   }),
                   "month error 10.0 skip 1 limit 4"});

  std::map<std::string, Rows> results;
  for (const char* ep : {"user_feature_usage", "feature_usage_summary", "feature_usage_timeline"}) {
    std::cout << ep << ":\n";
    for (const Case& c : cases) {
      if (c.endpoint != ep) continue;
      absl::StatusOr<std::string> dsql = usagedb::bench::endpoint_sql(Dialect::kDuckDB, ep, c.params);
      absl::StatusOr<std::string> csql =
          usagedb::bench::endpoint_sql(Dialect::kClickHouse, ep, c.params);
      if (!dsql.ok() || !csql.ok()) {
        check(false, std::string(ep) + " " + c.label + ": SQL generation failed: " +
                         (dsql.ok() ? csql.status() : dsql.status()).ToString());
        continue;
      }
      Rows rows;
      const std::string label = std::string(ep) + " " + c.label;
      if (show_sql) std::cout << "    duckdb: " << *dsql << "\n    chdb:   " << *csql << "\n";
      if (run_both(c.label, *dsql, *csql, &rows)) {
        if (c.expect_rows) check(!rows.empty(), label + ": expected some rows, got none");
        if (!c.expect_rows) check(rows.empty(), label + ": expected no rows");
      }
      results[label] = rows;
    }
  }

  // ---- invariants that both engines must also satisfy -------------------------------------------
  {
    uint64_t total = 0;
    for (const auto& r : results["feature_usage_summary all"]) total += std::stoull(r.at(2));
    check(total == n, "summary total_events add up to the event count");
    const Rows& wk = results["feature_usage_timeline week before 1970-01-10 (clamped bucket)"];
    check(!wk.empty() && wk[0][0] == "1970-01-01 00:00:00",
          "week bucket of 1970-01-01..04 is 1970-01-01 00:00:00");
    const Rows& all = results["feature_usage_summary all"];
    bool sorted = true;
    for (size_t i = 1; i < all.size(); ++i) {
      const uint64_t a = std::stoull(all[i - 1][2]), b = std::stoull(all[i][2]);
      if (a < b || (a == b && all[i - 1][0] > all[i][0])) sorted = false;  // byte-wise compare
    }
    check(sorted, "summary sorted by total_events DESC, feature_id ASC (byte-wise)");
    const Rows& skip = results["feature_usage_summary skip 3 limit 5"];
    check(skip.size() == 5 && all.size() >= 8 &&
              std::equal(skip.begin(), skip.end(), all.begin() + 3),
          "skip 3 limit 5 is rows 3..7 of the full summary");
  }

  // ---- errors are reported, not empty results ---------------------------------------------------
  std::cout << "errors:\n";
  {
    auto expect_error = [&](const std::string& label, absl::StatusOr<std::string> r,
                            std::string_view must_mention) {
      const bool ok =
          !r.ok() && std::string(r.status().message()).find(must_mention) != std::string::npos;
      check(ok, label + ": expected an error mentioning '" + std::string(must_mention) + "'" +
                    (r.ok() ? std::string(", got SQL") : ", got " + r.status().ToString()));
      std::printf("  %-40s -> %s\n", label.c_str(),
                  r.ok() ? "(no error)" : std::string(r.status().message()).c_str());
    };
    expect_error("malformed start_date",
                 usagedb::bench::feature_usage_summary_sql(
                     Dialect::kDuckDB, P([](auto& p) { p.start_date = "2025-02-29"; })),
                 "start_date");
    expect_error("malformed end_date",
                 usagedb::bench::feature_usage_timeline_sql(
                     Dialect::kClickHouse, P([](auto& p) { p.end_date = "2025-13-01 00:00:00"; })),
                 "end_date");
    expect_error("bad granularity",
                 usagedb::bench::feature_usage_timeline_sql(
                     Dialect::kClickHouse, P([](auto& p) { p.granularity = "year"; })),
                 "granularity");
    expect_error("parameter the endpoint does not take",
                 usagedb::bench::user_feature_usage_sql(
                     Dialect::kDuckDB, P([](auto& p) { p.user_id = "u"; p.event_type = "view"; })),
                 "event_type");
    for (auto& p : peers) {
      absl::StatusOr<Rows> r = p->query("SELECT no_such_column FROM feature_events");
      const bool ok = !r.ok() && std::string(r.status().message()).find("no_such_column") !=
                                      std::string::npos;
      check(ok, p->name() + ": a failing query reports the engine's message and the SQL");
      std::string first_line = r.ok() ? "(no error)" : std::string(r.status().message());
      first_line = first_line.substr(0, first_line.find('\n'));
      if (first_line.size() > 110) first_line = first_line.substr(0, 110) + "...";
      std::printf("  %-40s -> %s\n", (p->name() + " bad query").c_str(), first_line.c_str());
    }
  }

  if (!keep) {
    peers.clear();  // close the databases before removing their files
    std::error_code ec;
    fs::remove_all(workdir, ec);
  } else {
    std::cout << "kept " << workdir << "\n";
  }
  std::cout << "peers_smoke: " << g_passed << " passed, " << g_failed << " failed\n";
  return g_failed == 0 ? 0 : 1;
}
