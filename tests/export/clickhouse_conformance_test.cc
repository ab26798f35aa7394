// `usagedb export clickhouse`, proven on ClickHouse itself (chDB, loaded as
// the benchmark loads it: bench/peers): the differential test's kind of
// random data is exported, schema.sql and events.ndjson are loaded into an
// empty chDB database exactly as the export's README says, and every
// endpoint's exported NAME.sql, with the parameters of the conformance cases
// (tests/testutil/endpoint_cases.h: every parameter of every endpoint of the
// catalog, absent and present), returns exactly usagedb's rows.
//
// Its own program (not usagedb_tests): it dlopens libchdb.so (~570 MB), which
// the sanitizer builds must not. Skipped, saying so, when the peers are not
// installed (bash bench/peers/install_peers.sh), unless
// $USAGEDB_COMPARE_REQUIRE_PEERS is 1 (CI), as compare_smoke is.
#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lib/api/clickhouse_sql.h"
#include "lib/api/endpoint_catalog.h"
#include "lib/api/result_table.h"
#include "lib/export/export.h"
#include "peer.h"
#include "tests/testutil/endpoint_cases.h"
#include "tests/testutil/random_events.h"
#include "tests/testutil/temp_dir.h"
#include "usagedb/usagedb.h"

namespace usagedb {
namespace {

using Rows = std::vector<std::vector<std::string>>;

// $USAGEDB_CHDB_LIB, else the line USAGEDB_CHDB_LIB=... of .peers/paths.env;
// "" when neither names an existing file.
std::string chdb_library() {
  if (const char* env = std::getenv("USAGEDB_CHDB_LIB"); env != nullptr && *env != '\0') return env;
  std::ifstream in(USAGEDB_PEERS_PATHS_ENV);
  std::string line;
  while (std::getline(in, line)) {
    constexpr std::string_view kKey = "USAGEDB_CHDB_LIB=";
    if (line.starts_with(kKey)) {
      const std::string path = line.substr(kKey.size());
      return std::ifstream(path).good() ? path : "";
    }
  }
  return "";
}

std::string file_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

Rows usagedb_rows(const EventStore& store, const testing::EndpointCase& c) {
  absl::StatusOr<api::EndpointRequest> request =
      api::parse_request(c.spec->endpoint, c.params, api::UnknownParameters::kReject);
  EXPECT_TRUE(request.ok()) << request.status();
  if (!request.ok()) return {};
  absl::StatusOr<api::ResultTable> table = api::run_request(store, *request);
  EXPECT_TRUE(table.ok()) << table.status();
  if (!table.ok()) return {};
  Rows rows;
  for (const auto& row : table->rows) {
    std::vector<std::string> text;
    for (size_t i = 0; i < row.size(); ++i) text.push_back(api::cell_text(row[i], table->columns[i].time_zone));
    rows.push_back(std::move(text));
  }
  return rows;
}

TEST(ExportClickHouse, EveryEndpointOnChdbReturnsUsagedbsRows) {
  const std::string lib = chdb_library();
  if (lib.empty()) {
    const char* require = std::getenv("USAGEDB_COMPARE_REQUIRE_PEERS");
    if (require != nullptr && std::string(require) == "1") {
      FAIL() << "USAGEDB_COMPARE_REQUIRE_PEERS=1 but chDB is not installed (" << USAGEDB_PEERS_PATHS_ENV << ")";
    }
    GTEST_SKIP() << "chDB is not installed: bash bench/peers/install_peers.sh (looked in $USAGEDB_CHDB_LIB and "
                 << USAGEDB_PEERS_PATHS_ENV << ")";
  }

  // The differential test's data: random edge-case events (duplicates,
  // empty ids, boundary timestamps, odd strings), some deduplicated away,
  // in parts and in unsealed buffers.
  testing::ScopedTempDir dir;
  auto store = EventStore::open({.directory = dir.file("store"), .part_rows = 700}).value();
  testing::RandomEvents gen(2020);
  const auto events = gen.events(8000);
  for (size_t i = 0; i < events.size(); i += 500) {
    std::vector<Event> batch;
    for (size_t j = i; j < std::min(events.size(), i + 500); ++j) batch.push_back(events[j].view());
    ASSERT_TRUE(store->record_events(batch).ok());
    if (i == 4000) ASSERT_TRUE(store->compact().ok());
  }
  ASSERT_TRUE(store->delete_user(gen.users()[1]).ok());

  const std::string out = dir.file("clickhouse");
  absl::StatusOr<exporting::ExportReport> report =
      exporting::export_store(*store, {.target = exporting::ExportTarget::kClickHouse, .out_dir = out});
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->events, store->stats()->rows);

  absl::StatusOr<std::unique_ptr<bench::Peer>> chdb = bench::open_chdb(lib);
  ASSERT_TRUE(chdb.ok()) << chdb.status();
  bench::Peer& ch = **chdb;
  ASSERT_TRUE(ch.open_empty(dir.file("chdb")).ok());
  absl::StatusOr<Rows> r = ch.query(file_text(out + "/schema.sql"));
  ASSERT_TRUE(r.ok()) << r.status();
  // INSERT INTO feature_events FORMAT JSONEachRow, from the file: the columns
  // are the table's (the insertion table gives file() its structure).
  r = ch.query(absl::StrCat("INSERT INTO feature_events SELECT * FROM file(",
                            api::clickhouse_string_literal(out + "/events.ndjson"), ", 'JSONEachRow')"));
  ASSERT_TRUE(r.ok()) << r.status();

  // The events themselves, every column's bytes.
  r = ch.query("SELECT event_id, user_id, feature_id, product_version, event_type, toString(timestamp), session_id, "
               "metadata FROM feature_events");
  ASSERT_TRUE(r.ok()) << r.status();
  Rows exported = *r;
  Rows stored;
  ASSERT_TRUE(store
                  ->scan_events({}, [&](std::span<const StoredEvent> page) {
                    for (const StoredEvent& s : page) {
                      const Event& e = s.event;
                      stored.push_back({std::string(e.event_id), std::string(e.user_id), std::string(e.feature_id),
                                        std::string(e.product_version), std::string(e.event_type),
                                        format_timestamp(e.timestamp), std::string(e.session_id),
                                        std::string(e.metadata)});
                    }
                    return absl::OkStatus();
                  })
                  .ok());
  std::sort(exported.begin(), exported.end());
  std::sort(stored.begin(), stored.end());
  ASSERT_EQ(exported.size(), stored.size());
  EXPECT_TRUE(exported == stored) << "the events in ClickHouse differ from the store's";

  // Every endpoint's exported SQL, with every conformance case's parameters.
  std::vector<testing::EndpointCase> cases = testing::endpoint_cases(gen, 6);
  size_t checked = 0, nonempty = 0;
  std::set<std::string> endpoints;
  for (const testing::EndpointCase& c : cases) {
    api::EndpointSpec exported_spec = *c.spec;
    const std::string sql_file = file_text(absl::StrCat(out, "/", std::string(c.spec->name), ".sql"));
    ASSERT_FALSE(sql_file.empty()) << c.spec->name << ".sql";
    exported_spec.clickhouse_sql = sql_file;
    absl::StatusOr<std::string> sql = api::render_clickhouse_sql(exported_spec, c.params);
    ASSERT_TRUE(sql.ok()) << c.describe() << ": " << sql.status();
    absl::StatusOr<Rows> got = ch.query(*sql);
    ASSERT_TRUE(got.ok()) << c.describe() << ": " << got.status();
    const Rows want = usagedb_rows(*store, c);
    EXPECT_EQ(*got, want) << c.describe();
    ++checked;
    nonempty += want.empty() ? 0 : 1;
    endpoints.insert(std::string(c.spec->name));
  }
  // The comparison can fail: the summary's SQL with one count off by one.
  const api::EndpointSpec* summary = api::find_endpoint("feature_usage_summary");
  ASSERT_NE(summary, nullptr);
  std::string tampered = file_text(out + "/feature_usage_summary.sql");
  const size_t at = tampered.find("count()");
  ASSERT_NE(at, std::string::npos);
  tampered.replace(at, 7, "(count() + 1)");
  api::EndpointSpec tampered_spec = *summary;
  tampered_spec.clickhouse_sql = tampered;
  const testing::EndpointCase all{summary, {}};
  absl::StatusOr<Rows> wrong = ch.query(api::render_clickhouse_sql(tampered_spec, {}).value());
  ASSERT_TRUE(wrong.ok()) << wrong.status();
  EXPECT_NE(*wrong, usagedb_rows(*store, all));
  EXPECT_EQ(endpoints.size(), api::endpoint_catalog().size());
  EXPECT_GT(nonempty, checked / 2) << "most cases must have rows to compare";
  std::printf("%zu requests over %zu endpoints: chDB returned usagedb's rows (%zu with rows)\n", checked,
              endpoints.size(), nonempty);
}

}  // namespace
}  // namespace usagedb
