// `usagedb serve` as a process (SPEC 5), driven with curl: the tokens file of
// a first start, every route from the command line, kill -9 after
// acknowledged writes, SIGTERM during a stream of requests. The binary is
// the one this build made ($USAGEDB_CLI overrides); the tests skip without
// one (USAGEDB_BUILD_TOOLS=OFF) and without curl.
#include "tests/http/serve_process.h"

#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/http/cpp_httplib.h"
#include "tests/testutil/helpers.h"
#include "tests/testutil/temp_dir.h"
#include "usagedb/usagedb.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define USAGEDB_UNDER_ASAN 1
#endif
#endif

namespace usagedb {
namespace {

using ::testing::HasSubstr;
using testing::run_command;
using testing::ServeProcess;

constexpr char kServeAdmin[] = "process-admin-token";

class ServeProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (testing::serve_cli_path().empty()) GTEST_SKIP() << "no usagedb binary (USAGEDB_BUILD_TOOLS=OFF)";
    store_ = dir_.path() + "/store";
    tokens_ = dir_.file("tokens.json");
    testing::write_file(
        tokens_,
        absl::StrCat(R"({"tokens":[{"name":"admin","token":")", kServeAdmin, R"(","scopes":["ADMIN"]},)",
                     R"({"name":"reader","token":"process-reader","scopes":["PIPES:READ:user_feature_usage"]}]})"));
  }

  std::unique_ptr<ServeProcess> start() {
    auto server = std::make_unique<ServeProcess>(std::vector<std::string>{"--store", store_, "--tokens", tokens_});
    EXPECT_TRUE(server->started()) << server->output();
    return server;
  }

  static bool have_curl() { return run_command({"curl", "--version"}).exit_code == 0; }

  // curl -s ARGS, printing the status code last: {status, body}.
  static std::pair<int, std::string> curl(std::vector<std::string> args) {
    args.insert(args.begin(), {"curl", "-s", "-w", "\n%{http_code}"});
    const testing::CommandResult r = run_command(args);
    const size_t nl = r.out.rfind('\n');
    if (r.exit_code != 0 || nl == std::string::npos) return {0, r.out};
    return {std::atoi(r.out.c_str() + nl + 1), r.out.substr(0, nl)};
  }

  // The user's rows, read from the store directly (the server has exited).
  uint64_t events_of(const std::string& user) {
    Options options;
    options.directory = store_;
    options.create_if_missing = false;
    auto store = EventStore::open(options);
    EXPECT_TRUE(store.ok()) << store.status();
    if (!store.ok()) return 0;
    auto usage = (*store)->user_feature_usage({.user_id = user});
    uint64_t n = 0;
    for (const auto& row : usage->rows) n += row.usage_count;
    return n;
  }

  std::string event(const std::string& user, const std::string& feature, const std::string& id) {
    return absl::StrCat(R"({"event_id":")", id, R"(","user_id":")", user, R"(","feature_id":")", feature,
                        R"(","product_version":"1","event_type":"view","timestamp":"2025-04-01 12:00:00"})");
  }

  testing::ScopedTempDir dir_;
  std::string store_;
  std::string tokens_;
};

TEST_F(ServeProcessTest, AFirstStartCreatesTokensJsonAndPrintsItsAdminTokenOnce) {
  std::string token;
  {
    ServeProcess first({"--store", store_});
    ASSERT_TRUE(first.started()) << first.output();
    EXPECT_THAT(first.output(), HasSubstr("created " + store_ + "/tokens.json with an ADMIN token"));
    const std::vector<std::string> lines = absl::StrSplit(first.output(), '\n');
    ASSERT_GE(lines.size(), 3u);
    token = lines[2];
    struct stat st;
    ASSERT_EQ(::stat((store_ + "/tokens.json").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600);
    httplib::Client c("127.0.0.1", first.port());
    auto r = c.Get("/v0/pipes", {{"Authorization", "Bearer " + token}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(first.stop(SIGINT), 0);
  }
  ServeProcess second({"--store", store_});
  ASSERT_TRUE(second.started()) << second.output();
  EXPECT_THAT(second.output(), ::testing::Not(HasSubstr("ADMIN token")));
  EXPECT_THAT(second.output(), ::testing::Not(HasSubstr(token)));
  httplib::Client c("127.0.0.1", second.port());
  auto r = c.Get("/v0/pipes", {{"Authorization", "Bearer " + token}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(second.stop(SIGTERM), 0);
}

TEST_F(ServeProcessTest, ABadTokensFileIsAUsageError) {
  testing::write_file(tokens_, R"({"tokens":[{"name":"x","token":"y","scopes":["ROOT"]}]})");
  const testing::CommandResult r =
      run_command({testing::serve_cli_path(), "serve", "--store", store_, "--tokens", tokens_, "--port", "0"});
  EXPECT_EQ(r.exit_code, 2);
  const testing::CommandResult port =
      run_command({testing::serve_cli_path(), "serve", "--store", store_, "--port", "70000"});
  EXPECT_EQ(port.exit_code, 2);
}

TEST_F(ServeProcessTest, CurlDrivesEveryRoute) {
  if (!have_curl()) GTEST_SKIP() << "curl is not installed (apt-get install curl)";
  auto server = start();
  const std::string url = server->url();
  const std::string auth = absl::StrCat("Authorization: Bearer ", kServeAdmin);
  EXPECT_EQ(curl({url + "/v0/health"}), std::make_pair(200, std::string("{\"status\":\"ok\"}\n")));
  EXPECT_EQ(curl({url + "/v0/nope"}).first, 404);
  EXPECT_EQ(curl({"-X", "PUT", url + "/v0/events"}).first, 405);
  EXPECT_EQ(curl({url + "/v0/pipes"}).first, 401);
  EXPECT_EQ(curl({"-H", "Authorization: Bearer wrong", url + "/v0/pipes"}).first, 403);
  auto posted = curl({"-H", auth, "-d", event("cu", "f1", "c1"), url + "/v0/events?name=feature_events&wait=true"});
  EXPECT_EQ(posted,
            std::make_pair(200, std::string("{\"successful_rows\":1,\"quarantined_rows\":0,\"duplicate_rows\":0}\n")));
  // gzip, as a file
  const std::string gz = dir_.file("events.ndjson.gz");
  testing::write_file(dir_.file("events.ndjson"), event("cu", "f2", "c2") + "\n" + event("cu", "f3", "c3") + "\n");
  ASSERT_EQ(run_command({"gzip", "-k", dir_.file("events.ndjson")}).exit_code, 0);
  auto gzipped = curl(
      {"-H", auth, "-H", "Content-Encoding: gzip", "--data-binary", "@" + gz, url + "/v0/events?name=feature_events"});
  EXPECT_EQ(gzipped.first, 202) << gzipped.second;
  EXPECT_THAT(gzipped.second, HasSubstr("\"successful_rows\":2"));
  // multipart, as curl -F sends it
  testing::write_file(dir_.file("events.csv"),
                      "user_id,feature_id,product_version,event_type,timestamp\ncu,f4,1,view,2025-04-02 00:00:00\n");
  auto multipart = curl(
      {"-H", auth, "-F", "csv=@" + dir_.file("events.csv"), url + "/v0/datasources?name=feature_events&mode=append"});
  EXPECT_EQ(multipart.first, 200) << multipart.second;
  EXPECT_THAT(multipart.second, HasSubstr("\"successful_rows\":1,"));
  auto usage = curl({"-H", auth, url + "/v0/pipes/user_feature_usage.csv?user_id=cu"});
  EXPECT_EQ(usage.first, 200);
  EXPECT_EQ(std::count(usage.second.begin(), usage.second.end(), '\n'), 5);  // header + f1..f4
  auto preflight = curl({"-i", "-X", "OPTIONS", "-H", "Origin: https://app.example", "-H",
                         "Access-Control-Request-Method: POST", url + "/v0/events"});
  EXPECT_EQ(preflight.first, 204);
  EXPECT_THAT(preflight.second,
              HasSubstr("Access-Control-Allow-Headers: Authorization, Content-Type, Content-Encoding"));
  testing::write_file(dir_.file("big.ndjson"), std::string(11 << 20, '\n'));  // over --max-body-bytes
  auto big = curl({"-H", auth, "--data-binary", "@" + dir_.file("big.ndjson"), url + "/v0/events?name=feature_events"});
  EXPECT_EQ(big.first, 413) << big.second;
  auto deleted = curl({"-H", auth, "-d", "delete_condition=user_id = 'cu'", "-d", "dry_run=true",
                       url + "/v0/datasources/feature_events/delete"});
  EXPECT_EQ(deleted, std::make_pair(200, std::string("{\"rows_to_be_deleted\":4}\n")));
  auto metrics = curl({"-H", auth, url + "/metrics"});
  EXPECT_EQ(metrics.first, 200);
  EXPECT_THAT(metrics.second, HasSubstr("usagedb_events 4\n"));
  EXPECT_EQ(server->stop(SIGTERM), 0);
}

// A 64 MiB file of one event repeated (stored once: the rest are duplicates,
// so the store itself does not grow): the server's peak memory stays under
// the file's size, as only the pipeline's chunks are ever in memory.
TEST_F(ServeProcessTest, ADataSourcesFileIsStreamedNotHeldInMemory) {
  auto server = start();
  const std::string line = event("big", "f", "always-the-same") + "\n";
  std::string file;
  file.reserve(64 << 20);
  while (file.size() + line.size() <= (64u << 20)) file += line;
  const uint64_t lines = file.size() / line.size();
  httplib::Client c("127.0.0.1", server->port());
  c.set_read_timeout(std::chrono::seconds(60));
  c.set_write_timeout(std::chrono::seconds(60));
  auto r = c.Post("/v0/datasources?name=feature_events&mode=append&format=ndjson",
                  {{"Authorization", std::string("Bearer ") + kServeAdmin}}, file, "application/octet-stream");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_THAT(r->body, HasSubstr(absl::StrCat(
                           "\"successful_rows\":1,\"quarantined_rows\":0,\"duplicate_rows\":", lines - 1, ",")));
  std::ifstream status(absl::StrCat("/proc/", server->pid(), "/status"));
  std::string field;
  uint64_t peak_kib = 0;
  while (status >> field) {
    if (field == "VmHWM:") status >> peak_kib;
  }
  EXPECT_GT(peak_kib, 0u);
#if !defined(__SANITIZE_ADDRESS__) && !defined(USAGEDB_UNDER_ASAN)
  // (AddressSanitizer keeps freed memory in quarantine: RSS says nothing there.)
  EXPECT_LT(peak_kib, 56u << 10) << "peak RSS " << peak_kib << " KiB for a 64 MiB file";
#endif
  EXPECT_EQ(server->stop(SIGTERM), 0);
}

TEST_F(ServeProcessTest, KillNineRightAfterAWaitTrue200KeepsTheRows) {
  auto server = start();
  httplib::Client c("127.0.0.1", server->port());
  std::string body;
  for (int i = 0; i < 50; ++i) body += event("k9", absl::StrCat("f", i), absl::StrCat("k9-", i)) + "\n";
  auto r = c.Post("/v0/events?name=feature_events&wait=true", {{"Authorization", std::string("Bearer ") + kServeAdmin}},
                  body, "application/x-ndjson");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(server->stop(SIGKILL), -1);
  EXPECT_EQ(events_of("k9"), 50u);
}

TEST_F(ServeProcessTest, RowsAnswered202AreDurableWithinTheFlushInterval) {
  auto server = start();
  httplib::Client c("127.0.0.1", server->port());
  auto r = c.Post("/v0/events?name=feature_events", {{"Authorization", std::string("Bearer ") + kServeAdmin}},
                  event("async", "f", "a1"), "application/x-ndjson");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 202);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_EQ(server->stop(SIGKILL), -1);
  EXPECT_EQ(events_of("async"), 1u);
}

TEST_F(ServeProcessTest, SigtermDuringAStreamOfRequestsLosesNoAcknowledgedRow) {
  auto server = start();
  const int port = server->port();
  std::mutex mu;
  std::vector<std::set<int>> acknowledged(4);
  std::atomic<int> refused{0};
  std::atomic<bool> signalled{false};
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&, t] {
      httplib::Client c("127.0.0.1", port);
      c.set_keep_alive(t % 2 == 0);
      const httplib::Headers auth = {{"Authorization", absl::StrCat("Bearer ", kServeAdmin)}};
      int failures_after_signal = 0;
      for (int i = 0; i < 100000 && failures_after_signal < 20; ++i) {
        const std::string path =
            i % 3 == 0 ? "/v0/events?name=feature_events&wait=true" : "/v0/events?name=feature_events";
        auto r = c.Post(path, auth, event(absl::StrCat("stream", t), absl::StrCat("f", i), absl::StrCat(t, "-", i)),
                        "application/x-ndjson");
        if (r && (r->status == 200 || r->status == 202)) {
          std::lock_guard<std::mutex> lock(mu);
          acknowledged[t].insert(i);
        } else {
          if (r && r->status == 503) refused.fetch_add(1);
          if (signalled.load()) ++failures_after_signal;
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  signalled = true;
  const int exit_code = server->stop(SIGTERM);
  for (auto& c : clients) c.join();
  EXPECT_EQ(exit_code, 0);
  size_t total = 0;
  Options options;
  options.directory = store_;
  auto store = EventStore::open(options);
  ASSERT_TRUE(store.ok()) << store.status();
  for (int t = 0; t < 4; ++t) {
    total += acknowledged[t].size();
    auto usage = (*store)->user_feature_usage({.user_id = absl::StrCat("stream", t)});
    ASSERT_TRUE(usage.ok());
    std::set<std::string> stored;
    for (const auto& row : usage->rows) stored.insert(row.feature_id);
    for (const int i : acknowledged[t]) {
      EXPECT_TRUE(stored.contains(absl::StrCat("f", i))) << "acknowledged but lost: stream" << t << " f" << i;
    }
  }
  EXPECT_GT(total, 20u) << "the stream barely ran";
}

}  // namespace
}  // namespace usagedb
