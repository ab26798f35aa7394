// The HTTP API in process (SPEC 5): an HttpServer over a durable store on a
// loopback port, driven with httplib's client and raw sockets. Every route,
// every status code, the token rules, the body limits, the timeouts, the
// shutdown.
#include "usagedb/http_server.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <zlib.h>

#include <atomic>
#include <regex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/api/endpoint_catalog.h"
#include "lib/api/endpoint_request.h"
#include "lib/api/format.h"
#include "lib/api/result_table.h"
#include "lib/db/event_store_impl.h"
#include "lib/gen/generator.h"
#include "lib/http/cpp_httplib.h"
#include "lib/http/crypto.h"
#include "lib/http/jwt.h"
#include "lib/http/routes.h"
#include "lib/util/json_escape.h"
#include "tests/http/http_testing.h"
#include "tests/testutil/fault_injection_fs.h"
#include "tests/testutil/helpers.h"
#include "tests/testutil/temp_dir.h"

namespace usagedb {
namespace {

using ::testing::HasSubstr;
using testing::http_request;
using testing::RawConnection;
using ::testing::StartsWith;

constexpr char kAdmin[] = "admin-token-value";
constexpr char kAppender[] = "appender-token-value";
constexpr char kReader[] = "reader-token-value";
constexpr char kQuarantineReader[] = "quarantine-token-value";
constexpr char kLimited[] = "limited-token-value";

std::string gzip_bytes(std::string_view data) {
  z_stream z{};
  deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, data.size()) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string event_line(const std::string& user, const std::string& feature, const std::string& id = "") {
  return absl::StrCat(R"({"event_id":")", id, R"(","user_id":")", user, R"(","feature_id":")", feature,
                      R"(","product_version":"1.0","event_type":"view","timestamp":"2025-03-01 10:00:00"})", "\n");
}

// "elapsed":<number> replaced, so bodies compare across runs.
std::string without_elapsed(const std::string& body) {
  return std::regex_replace(body, std::regex(R"("elapsed":[0-9.e-]+)"), "\"elapsed\":0");
}

int64_t unix_time() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override { start_server(HttpServerOptions{}); }

  // The store on `fs` when given (a test's slow disk), else on the real one.
  void start_server(HttpServerOptions options, storage::FileSystem* fs = nullptr) {
    server_.reset();
    store_.reset();
    Options store_options;
    store_options.directory = dir_.path() + "/store";
    if (fs != nullptr) {
      auto store = EventStoreImpl::open(store_options, fs);
      ASSERT_TRUE(store.ok()) << store.status();
      store_ = std::move(*store);
    } else {
      auto store = EventStore::open(store_options);
      ASSERT_TRUE(store.ok()) << store.status();
      store_ = std::move(*store);
    }
    options.port = 0;
    options.access_log = getenv("HTTP_TEST_LOG") ? "-" : "";
    options.tokens = {{"admin", kAdmin, {"ADMIN"}, 0},
                      {"appender", kAppender, {"DATASOURCES:APPEND:feature_events"}, 0},
                      {"reader", kReader, {"PIPES:READ:user_feature_usage"}, 0},
                      {"quarantine", kQuarantineReader, {"DATASOURCES:READ:feature_events"}, 0},
                      {"limited", kLimited, {"PIPES:READ:feature_usage_summary"}, 2}};
    server_ = std::make_unique<HttpServer>(*store_, options);
    ASSERT_TRUE(server_->start().ok());
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
  }

  httplib::Headers bearer(const std::string& token) const {
    return {{"Authorization", absl::StrCat("Bearer ", token)}};
  }

  httplib::Result get(const std::string& path, const std::string& token = kAdmin) {
    return client_->Get(path.c_str(), bearer(token));
  }
  httplib::Result post(const std::string& path, const std::string& body, const std::string& token = kAdmin,
                       const char* type = "application/x-ndjson") {
    return client_->Post(path.c_str(), bearer(token), body, type);
  }
  std::string jwt(const std::string& payload) const { return http::make_jwt(payload, kAdmin); }

  testing::ScopedTempDir dir_;
  testing::FaultInjectionFileSystem slow_disk_;  // outlives store_: declared before it
  std::unique_ptr<EventStore> store_;
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<httplib::Client> client_;
};

// Evaluates `result` once (a request) and checks its status.
#define EXPECT_STATUS(result, code)                                       \
  do {                                                                    \
    const httplib::Result& r_ = (result);                                 \
    ASSERT_TRUE(r_) << "no response: " << httplib::to_string(r_.error()); \
    EXPECT_EQ(r_->status, code) << r_->body;                              \
  } while (0)

TEST_F(HttpServerTest, HealthNeedsNoTokenAndEveryV0ResponseAllowsCors) {
  auto r = client_->Get("/v0/health");
  EXPECT_STATUS(r, 200);
  EXPECT_EQ(r->body, "{\"status\":\"ok\"}\n");
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(r->get_header_value("Access-Control-Allow-Origin"), "*");
  auto denied = client_->Get("/v0/pipes");
  EXPECT_STATUS(denied, 401);
  EXPECT_EQ(denied->get_header_value("Access-Control-Allow-Origin"), "*");
}

TEST_F(HttpServerTest, UnknownRoutesAndMethodsAreRefusedBeforeAnyTokenCheck) {
  auto r = client_->Get("/v0/nothing");
  EXPECT_STATUS(r, 404);
  EXPECT_THAT(r->body, StartsWith("{\"error\": \"unknown route GET /v0/nothing"));
  auto m = client_->Get("/v0/events");
  EXPECT_STATUS(m, 405);
  EXPECT_EQ(m->get_header_value("Allow"), "POST");
  EXPECT_THAT(m->body, HasSubstr("method GET is not allowed on /v0/events"));
  auto p = client_->Post("/v0/pipes/user_feature_usage.json", "", "text/plain");
  EXPECT_STATUS(p, 405);
  EXPECT_EQ(p->get_header_value("Allow"), "GET, HEAD");
  EXPECT_STATUS(client_->Delete("/metrics"), 405);
}

TEST_F(HttpServerTest, CorsPreflightAllowsTheHeadersByName) {
  auto r = client_->Options("/v0/events?name=feature_events");
  EXPECT_STATUS(r, 204);
  EXPECT_EQ(r->get_header_value("Access-Control-Allow-Origin"), "*");
  EXPECT_EQ(r->get_header_value("Access-Control-Allow-Headers"), "Authorization, Content-Type, Content-Encoding");
  EXPECT_THAT(r->get_header_value("Access-Control-Allow-Methods"), HasSubstr("POST"));
  EXPECT_TRUE(r->body.empty());
}

TEST_F(HttpServerTest, MissingOrEmptyTokensAre401) {
  EXPECT_STATUS(client_->Get("/v0/pipes"), 401);
  EXPECT_STATUS(client_->Get("/v0/pipes?token="), 401);
  auto empty_bearer = client_->Get("/v0/pipes", {{"Authorization", "Bearer "}});
  EXPECT_STATUS(empty_bearer, 401);
  EXPECT_THAT(empty_bearer->body, HasSubstr("the token is empty"));
  auto basic = client_->Get("/v0/pipes", {{"Authorization", "Basic YWRtaW46eA=="}});
  EXPECT_STATUS(basic, 401);
  EXPECT_THAT(basic->body, HasSubstr("expected 'Bearer <token>'"));
  auto none = client_->Post("/v0/events?name=feature_events", event_line("u", "f"), "application/x-ndjson");
  EXPECT_STATUS(none, 401);
  EXPECT_THAT(none->body, HasSubstr("no token"));
}

TEST_F(HttpServerTest, EachKindOfBadTokenIs403) {
  const std::string path = "/v0/pipes/user_feature_usage.json?user_id=u";
  auto check = [&](const std::string& token, const std::string& why) {
    auto r = get(path, token);
    EXPECT_STATUS(r, 403);
    EXPECT_THAT(r->body, HasSubstr(why)) << token;
    EXPECT_THAT(r->body, ::testing::Not(HasSubstr(token))) << "a token value in an error";
  };
  const std::string future = absl::StrCat(unix_time() + 3600);
  check("no-such-token", "invalid token");
  check(jwt(absl::StrCat(R"({"name":"x","exp":)", unix_time() - 10, "}")), "expired");
  check(http::make_jwt(absl::StrCat(R"({"name":"x","exp":)", future, "}"), "not-the-admin"), "bad signature");
  check(http::make_jwt(absl::StrCat(R"({"name":"x","exp":)", future, "}"), kReader), "bad signature");
  check(jwt(absl::StrCat(R"({"exp":)", future, "}")), "'name' is required");
  check(jwt(R"({"name":"x"})"), "'exp' is required");
  check(jwt(absl::StrCat(R"({"name":"x","exp":")", future, R"("})")), "'exp' is required");
  // alg none, with the admin's signature over it or none at all.
  const std::string none_header = http::crypto::base64url_encode(R"({"alg":"none","typ":"JWT"})");
  const std::string payload = http::crypto::base64url_encode(absl::StrCat(R"({"name":"x","exp":)", future, "}"));
  const std::string signed_none = absl::StrCat(
      none_header, ".", payload, ".",
      http::crypto::base64url_encode(http::crypto::hmac_sha256(kAdmin, absl::StrCat(none_header, ".", payload))));
  check(signed_none, "alg 'none' is not accepted");
  check(absl::StrCat(none_header, ".", payload, "."), "invalid token");
  // Valid tokens without the scope.
  check(kAppender, "may not read endpoint 'user_feature_usage': that needs the scope PIPES:READ:user_feature_usage");
  check(jwt(absl::StrCat(R"({"name":"x","exp":)", future,
                         R"(,"scopes":[{"type":"PIPES:READ","resource":"feature_usage_summary"}]})")),
        "may not read endpoint");
  auto append = post("/v0/events?name=feature_events", event_line("u", "f"), kReader);
  EXPECT_STATUS(append, 403);
  EXPECT_THAT(append->body, HasSubstr("DATASOURCES:APPEND:feature_events or ADMIN"));
  EXPECT_STATUS(post("/v0/datasources/feature_events/delete", "delete_condition=user_id%3D%27u%27", kAppender,
                     "application/x-www-form-urlencoded"),
                403);
  EXPECT_STATUS(get("/metrics", kReader), 403);
  EXPECT_STATUS(get("/v0/pipes/feature_events_quarantine.json", kReader), 403);
}

TEST_F(HttpServerTest, EventsAre202AndVisibleAtOnceOr200WhenDurable) {
  auto r = post("/v0/events?name=feature_events", event_line("u1", "f1") + event_line("u1", "f2"), kAppender);
  EXPECT_STATUS(r, 202);
  EXPECT_EQ(r->body, "{\"successful_rows\":2,\"quarantined_rows\":0,\"duplicate_rows\":0}\n");
  auto usage = store_->user_feature_usage({.user_id = "u1"});
  ASSERT_TRUE(usage.ok());
  EXPECT_EQ(usage->rows.size(), 2u);
  auto waited = post("/v0/events?name=feature_events&wait=true",
                     event_line("u2", "f1", "e1") + "not json\n" + event_line("u2", "f1", "e1") + "\n", kAppender);
  EXPECT_STATUS(waited, 200);
  EXPECT_EQ(waited->body, "{\"successful_rows\":1,\"quarantined_rows\":1,\"duplicate_rows\":1}\n");
  auto quarantine = store_->quarantine();
  ASSERT_TRUE(quarantine.ok());
  ASSERT_EQ(quarantine->size(), 1u);
  EXPECT_EQ((*quarantine)[0].source, "events API");
  EXPECT_EQ((*quarantine)[0].line, 2u);
  auto empty = post("/v0/events?name=feature_events&wait=1", "", kAppender);
  EXPECT_STATUS(empty, 200);
  EXPECT_EQ(empty->body, "{\"successful_rows\":0,\"quarantined_rows\":0,\"duplicate_rows\":0}\n");
}

TEST_F(HttpServerTest, AJsonObjectOverSeveralLinesIsOneEvent) {
  const std::string body = R"({
       "event_id": "evt_12345",
       "user_id": "usr_789",
       "feature_id": "feature_recommendations",
       "product_version": "2.4.1",
       "event_type": "feature_used",
       "timestamp": "2023-10-15 14:35:22",
       "session_id": "sess_456",
       "metadata": "{\"duration_seconds\":45,\"result\":\"success\"}"
     })";
  auto r = post("/v0/events?name=feature_events&utm_source=DEV&utm_campaign=tb+create+--prompt+DEV", body, kAdmin,
                "application/x-www-form-urlencoded");
  EXPECT_STATUS(r, 202);
  EXPECT_EQ(r->body, "{\"successful_rows\":1,\"quarantined_rows\":0,\"duplicate_rows\":0}\n");
  auto usage = store_->user_feature_usage({.user_id = "usr_789"});
  ASSERT_TRUE(usage.ok());
  ASSERT_EQ(usage->rows.size(), 1u);
  EXPECT_EQ(usage->rows[0].feature_id, "feature_recommendations");
  // Lines that are each an object stay NDJSON, even when one is broken.
  auto ndjson = post("/v0/events?name=feature_events", "{\"user_id\":\n" + event_line("u9", "f9"));
  EXPECT_STATUS(ndjson, 202);
  EXPECT_EQ(ndjson->body, "{\"successful_rows\":1,\"quarantined_rows\":1,\"duplicate_rows\":0}\n");
}

TEST_F(HttpServerTest, ALargeEventsBodyIsStreamedIntoTheStore) {
  // Bad lines before, across and after the prefix read whole before the rest
  // streams are quarantined with their line numbers in the body.
  const size_t cut = http::kEventsBufferedBytes;
  std::string body;
  std::vector<uint64_t> bad;
  uint64_t lines = 0;
  while (body.size() < cut + (2u << 20)) {
    ++lines;
    const bool near_cut = body.size() > cut - 300 && body.size() < cut + 300;
    if (lines % 5000 == 0 || near_cut) {
      body += "{\"user_id\": broken\n";
      bad.push_back(lines);
    } else {
      body += event_line("big", absl::StrCat("f", lines % 13), absl::StrCat("id", lines));
    }
  }
  auto r = client_->Post("/v0/events?name=feature_events",
                         {{"Authorization", std::string("Bearer ") + kAppender}, {"Content-Encoding", "gzip"}},
                         gzip_bytes(body), "application/x-ndjson");
  EXPECT_STATUS(r, 202);
  EXPECT_EQ(r->body, absl::StrCat("{\"successful_rows\":", lines - bad.size(), ",\"quarantined_rows\":", bad.size(),
                                  ",\"duplicate_rows\":0}\n"));
  auto quarantine = store_->quarantine();
  ASSERT_TRUE(quarantine.ok());
  std::vector<uint64_t> got;
  for (const QuarantinedRow& row : *quarantine) {
    got.push_back(row.line);
    EXPECT_EQ(row.raw, "{\"user_id\": broken");
    EXPECT_EQ(row.source, "events API");
  }
  EXPECT_EQ(got, bad);
}

TEST_F(HttpServerTest, EventsParametersAreCheckedAndNamed) {
  auto no_name = post("/v0/events", event_line("u", "f"));
  EXPECT_STATUS(no_name, 400);
  EXPECT_THAT(no_name->body, HasSubstr("name: required"));
  auto other = post("/v0/events?name=page_views", event_line("u", "f"));
  EXPECT_STATUS(other, 404);
  EXPECT_THAT(other->body, HasSubstr("data source 'page_views' not found"));
  auto wait = post("/v0/events?name=feature_events&wait=yes", event_line("u", "f"));
  EXPECT_STATUS(wait, 400);
  EXPECT_THAT(wait->body, HasSubstr("wait: expected true or false, got 'yes'"));
  auto escape = post("/v0/events?name=feature_%zzevents", event_line("u", "f"));
  EXPECT_STATUS(escape, 400);
  EXPECT_THAT(escape->body, HasSubstr("query string: name: malformed percent-escape"));
  auto encoding = client_->Post("/v0/events?name=feature_events",
                                {{"Authorization", std::string("Bearer ") + kAdmin}, {"Content-Encoding", "br"}},
                                event_line("u", "f"), "application/x-ndjson");
  EXPECT_STATUS(encoding, 400);
  EXPECT_THAT(encoding->body, HasSubstr("Content-Encoding: 'br' is not supported"));
}

TEST_F(HttpServerTest, GzipBodiesAreInflated) {
  std::string lines;
  for (int i = 0; i < 500; ++i) lines += event_line("gz", absl::StrCat("f", i % 7), absl::StrCat("id", i));
  auto r = client_->Post("/v0/events?name=feature_events&wait=true",
                         {{"Authorization", std::string("Bearer ") + kAdmin}, {"Content-Encoding", "gzip"}},
                         gzip_bytes(lines), "application/x-ndjson");
  EXPECT_STATUS(r, 200);
  EXPECT_EQ(r->body, "{\"successful_rows\":500,\"quarantined_rows\":0,\"duplicate_rows\":0}\n");
  auto corrupt = client_->Post("/v0/events?name=feature_events",
                               {{"Authorization", std::string("Bearer ") + kAdmin}, {"Content-Encoding", "gzip"}},
                               "this is not gzip", "application/x-ndjson");
  EXPECT_STATUS(corrupt, 400);
  EXPECT_THAT(corrupt->body, HasSubstr("not valid gzip"));
}

TEST_F(HttpServerTest, PipeBodiesAreTheCliFormatsByteForByte) {
  std::string ndjson;
  gen::Generator g({.events = 3000, .seed = 11, .users = 50, .features = 8, .versions = 4, .months = 3});
  while (const Event* e = g.next()) gen::Generator::append_ndjson(*e, &ndjson);
  ASSERT_TRUE(store_->ingest_ndjson(ndjson).ok());
  struct Case {
    api::Endpoint endpoint;
    api::Params params;
  };
  const std::vector<Case> cases = {
      {api::Endpoint::kUserFeatureUsage, {{"user_id", "user_3"}}},
      {api::Endpoint::kUserFeatureUsage, {{"user_id", "user_3"}, {"limit", "2"}, {"skip", "1"}}},
      {api::Endpoint::kUserFeatureUsage, {}},
      {api::Endpoint::kFeatureUsageSummary, {{"start_date", "2025-02-01"}, {"end_date", "2025-03-01 00:00:00"}}},
      {api::Endpoint::kFeatureUsageSummary, {{"event_type", "click"}, {"limit", "3"}}},
      {api::Endpoint::kFeatureUsageTimeline, {{"granularity", "week"}, {"feature_id", "feature_2"}}},
      {api::Endpoint::kFeatureUsageTimeline, {{"product_version", ""}}},
      {api::Endpoint::kFeatureAdoption, {{"start_date", "2025-02-01"}, {"end_date", "2025-03-01"}}},
      {api::Endpoint::kActiveUsers, {{"window_days", "7"}, {"start_date", "2025-01-01"}, {"end_date", "2025-02-01"}}},
      {api::Endpoint::kFeatureRetention, {{"feature_id", "feature_2"}, {"granularity", "week"}}},
      {api::Endpoint::kFeatureFunnel, {{"steps", "feature_1,feature_2,feature_3"}, {"window", "3600"}}},
  };
  for (const Case& c : cases) {
    auto request = api::parse_request(c.endpoint, c.params, api::UnknownParameters::kReject);
    ASSERT_TRUE(request.ok());
    auto table = api::run_request(*store_, *request);
    ASSERT_TRUE(table.ok());
    for (const api::OutputFormat format :
         {api::OutputFormat::kJson, api::OutputFormat::kCsv, api::OutputFormat::kNdjson}) {
      std::string expected;
      api::append_result(format, *table, &expected);
      httplib::Params query(c.params.begin(), c.params.end());
      query.emplace("utm_source", "newsletter");  // ignored, as Tinybird does
      const std::string path = absl::StrCat("/v0/pipes/", std::string(api::endpoint_name(c.endpoint)), ".",
                                            std::string(api::output_format_name(format)));
      auto r = client_->Get(httplib::append_query_params(path, query), bearer(kAdmin));
      EXPECT_STATUS(r, 200);
      EXPECT_EQ(without_elapsed(r->body), without_elapsed(expected)) << path;
      EXPECT_EQ(r->get_header_value("Content-Type"), api::content_type(format));
    }
  }
}

TEST_F(HttpServerTest, PipeParametersAreCheckedAndNamed) {
  auto limit = get("/v0/pipes/feature_usage_summary.json?limit=-1");
  EXPECT_STATUS(limit, 400);
  EXPECT_EQ(limit->body, "{\"error\": \"limit: expected a non-negative integer, got '-1'\"}\n");
  auto date = get("/v0/pipes/feature_usage_summary.json?start_date=2025-13-01");
  EXPECT_STATUS(date, 400);
  EXPECT_THAT(date->body, HasSubstr("start_date:"));
  auto granularity = get("/v0/pipes/feature_usage_timeline.csv?granularity=minute");
  EXPECT_STATUS(granularity, 400);
  EXPECT_THAT(granularity->body, HasSubstr("granularity: expected one of hour, day, week, month"));
  auto twice = get("/v0/pipes/user_feature_usage.json?user_id=a&user_id=b");
  EXPECT_STATUS(twice, 400);
  EXPECT_THAT(twice->body, HasSubstr("user_id: given more than once"));
  auto format = get("/v0/pipes/user_feature_usage.parquet?user_id=a");
  EXPECT_STATUS(format, 400);
  EXPECT_THAT(format->body, HasSubstr("format: expected .json, .csv or .ndjson, got '.parquet'"));
  EXPECT_STATUS(get("/v0/pipes/user_feature_usage.table?user_id=a"), 400);
  auto unknown = get("/v0/pipes/no_such_endpoint.json");
  EXPECT_STATUS(unknown, 404);
  EXPECT_THAT(unknown->body, HasSubstr("endpoint 'no_such_endpoint' not found"));
}

TEST_F(HttpServerTest, TheTokenParameterWorksAndIsNotAnEndpointParameter) {
  ASSERT_TRUE(store_->ingest_ndjson(event_line("u1", "f1")).ok());
  auto r = client_->Get(absl::StrCat("/v0/pipes/user_feature_usage.json?token=", kReader, "&user_id=u1"));
  EXPECT_STATUS(r, 200);
  EXPECT_THAT(r->body, HasSubstr("\"rows\":1,"));
}

TEST_F(HttpServerTest, FixedParamsPinAJwtToItsUser) {
  ASSERT_TRUE(store_->ingest_ndjson(event_line("u1", "f1") + event_line("u2", "f2") + event_line("u2", "f3")).ok());
  const std::string token = jwt(absl::StrCat(
      R"({"name":"frontend_u1","exp":)", unix_time() + 600,
      R"(,"scopes":[{"type":"PIPES:READ","resource":"user_feature_usage","fixed_params":{"user_id":"u1"}}]})"));
  for (const char* query : {"", "?user_id=u2", "?user_id=u2&user_id=u3", "?user_id="}) {
    auto r = get(absl::StrCat("/v0/pipes/user_feature_usage.json", query), token);
    EXPECT_STATUS(r, 200);
    EXPECT_THAT(r->body, HasSubstr("\"data\":[{\"user_id\":\"u1\",\"feature_id\":\"f1\"")) << query;
    EXPECT_THAT(r->body, HasSubstr("\"rows\":1,")) << query;
  }
  EXPECT_STATUS(get("/v0/pipes/feature_usage_summary.json", token), 403);
  // Its list shows only what it may read.
  auto list = get("/v0/pipes", token);
  EXPECT_STATUS(list, 200);
  EXPECT_THAT(list->body, HasSubstr("user_feature_usage"));
  EXPECT_THAT(list->body, ::testing::Not(HasSubstr("feature_usage_summary")));
}

TEST_F(HttpServerTest, PipesListsTheEndpointsATokenMayRead) {
  auto all = get("/v0/pipes");
  EXPECT_STATUS(all, 200);
  for (const char* name : {"user_feature_usage", "feature_usage_summary", "feature_usage_timeline", "feature_adoption",
                           "active_users", "feature_retention", "feature_funnel"}) {
    EXPECT_THAT(all->body, HasSubstr(absl::StrCat("\"name\":\"", name, "\""))) << name;
  }
  auto reader = get("/v0/pipes", kReader);
  EXPECT_STATUS(reader, 200);
  EXPECT_THAT(reader->body, HasSubstr("user_feature_usage"));
  EXPECT_THAT(reader->body, ::testing::Not(HasSubstr("feature_usage_timeline")));
  auto appender = get("/v0/pipes", kAppender);
  EXPECT_STATUS(appender, 200);
  EXPECT_EQ(appender->body, "{\"pipes\":[]}\n");
  // Each entry is the endpoint's catalog entry (lib/api/endpoint_catalog.h).
  auto info = get("/v0/pipes/user_feature_usage", kReader);
  EXPECT_STATUS(info, 200);
  const api::EndpointSpec& spec = api::endpoint_spec(api::Endpoint::kUserFeatureUsage);
  std::string expected = absl::StrCat(
      "{\"name\":\"user_feature_usage\",\"description\":", text::json_string(spec.description), ",\"parameters\":[");
  for (size_t i = 0; i < spec.parameters.size(); ++i) {
    const api::ParameterSpec& p = spec.parameters[i];
    absl::StrAppend(&expected, i > 0 ? "," : "", "{\"name\":\"", std::string(p.name), "\",\"type\":\"",
                    std::string(api::parameter_type_name(p.type)), "\",\"required\":", p.required ? "true" : "false",
                    ",\"default\":", p.default_value.empty() ? "null" : text::json_string(p.default_value),
                    ",\"description\":", text::json_string(p.description), "}");
  }
  expected +=
      "],\"columns\":[{\"name\":\"user_id\",\"type\":\"String\"},{\"name\":\"feature_id\",\"type\":\"String\"},"
      "{\"name\":\"product_version\",\"type\":\"String\"},{\"name\":\"usage_count\",\"type\":\"UInt64\"},"
      "{\"name\":\"first_usage\",\"type\":\"DateTime\"},{\"name\":\"last_usage\",\"type\":\"DateTime\"}]}\n";
  EXPECT_EQ(info->body, expected);
  EXPECT_THAT(reader->body, HasSubstr(absl::StrCat("{\"pipes\":[", expected.substr(0, expected.size() - 1), "]}")));
  EXPECT_STATUS(get("/v0/pipes/no_such_endpoint"), 404);
}

TEST_F(HttpServerTest, QuarantineNeedsDatasourcesReadAndPages) {
  ASSERT_TRUE(post("/v0/events?name=feature_events", "bad 1\nbad 2\nbad 3\n"));
  auto r = get("/v0/pipes/feature_events_quarantine.json?limit=1&skip=1", kQuarantineReader);
  EXPECT_STATUS(r, 200);
  EXPECT_THAT(r->body, HasSubstr("\"raw\":\"bad 2\""));
  EXPECT_THAT(r->body, HasSubstr("\"rows\":1,\"rows_before_limit_at_least\":3,"));
  auto csv = get("/v0/pipes/feature_events_quarantine.csv", kQuarantineReader);
  EXPECT_STATUS(csv, 200);
  EXPECT_THAT(csv->body, StartsWith("\"inserted_at\",\"source\",\"line\",\"columns\",\"error\",\"raw\"\n"));
  EXPECT_STATUS(get("/v0/pipes/feature_events_quarantine.json?limit=x", kQuarantineReader), 400);
}

TEST_F(HttpServerTest, DataSourcesAppendTakesMultipartAndRawFiles) {
  const std::string csv =
      "user_id,feature_id,product_version,event_type,timestamp\r\n"
      "c1,f1,1.0,view,2025-01-01 00:00:00\r\nc1,f2,1.0,view,2025-01-02 00:00:00\r\n"
      "c1,,1.0,view,2025-01-02 00:00:00\r\n";
  httplib::MultipartFormDataItems items = {{"csv", csv, "events.csv", "text/csv"}};
  auto r = client_->Post("/v0/datasources?name=feature_events&mode=append", bearer(kAppender), items);
  EXPECT_STATUS(r, 200);
  EXPECT_THAT(r->body,
              StartsWith("{\"successful_rows\":2,\"quarantined_rows\":1,\"duplicate_rows\":0,\"import_id\":\""));
  const std::string ndjson = event_line("n1", "f1") + event_line("n1", "f2");
  auto raw = post("/v0/datasources?name=feature_events&mode=append&format=ndjson", ndjson, kAppender, "text/plain");
  EXPECT_STATUS(raw, 200);
  EXPECT_THAT(raw->body, StartsWith("{\"successful_rows\":2,"));
  auto by_type = post("/v0/datasources?name=feature_events&mode=append", ndjson, kAppender, "application/x-ndjson");
  EXPECT_STATUS(by_type, 200);
  EXPECT_THAT(by_type->body, StartsWith("{\"successful_rows\":2,"));
  auto gz = client_->Post("/v0/datasources?name=feature_events&mode=append&format=csv",
                          {{"Authorization", std::string("Bearer ") + kAdmin}, {"Content-Encoding", "gzip"}},
                          gzip_bytes(csv), "text/csv");
  EXPECT_STATUS(gz, 200);
  EXPECT_THAT(gz->body, StartsWith("{\"successful_rows\":2,\"quarantined_rows\":1,"));
  auto usage = store_->user_feature_usage({.user_id = "c1"});
  ASSERT_TRUE(usage.ok());
  EXPECT_EQ(usage->rows.size(), 2u);

  auto mode = post("/v0/datasources?name=feature_events&mode=replace", ndjson);
  EXPECT_STATUS(mode, 400);
  EXPECT_THAT(mode->body, HasSubstr("mode: only append is supported, got 'replace'"));
  auto no_mode = post("/v0/datasources?name=feature_events", ndjson);
  EXPECT_STATUS(no_mode, 400);
  EXPECT_THAT(no_mode->body, HasSubstr("mode: required"));
  auto url = post("/v0/datasources?name=feature_events&mode=append", "url=https%3A%2F%2Fexample.com%2Fx.csv", kAdmin,
                  "application/x-www-form-urlencoded");
  EXPECT_STATUS(url, 400);
  EXPECT_THAT(url->body, HasSubstr("importing from a URL is not supported"));
  auto format = post("/v0/datasources?name=feature_events&mode=append&format=parquet", ndjson);
  EXPECT_STATUS(format, 400);
  EXPECT_THAT(format->body, HasSubstr("format: expected csv or ndjson, got 'parquet'"));
  httplib::MultipartFormDataItems no_file = {{"note", "x", "", ""}};
  auto missing = client_->Post("/v0/datasources?name=feature_events&mode=append", bearer(kAdmin), no_file);
  EXPECT_STATUS(missing, 400);
  EXPECT_THAT(missing->body, HasSubstr("no file field"));
}

TEST_F(HttpServerTest, DeleteErasesAUserOrCountsWithDryRun) {
  ASSERT_TRUE(
      store_->ingest_ndjson(event_line("gone", "f1") + event_line("gone", "f2") + event_line("kept", "f1")).ok());
  const char* type = "application/x-www-form-urlencoded";
  auto dry = post("/v0/datasources/feature_events/delete", "delete_condition=user_id+%3D+%27gone%27&dry_run=true",
                  kAdmin, type);
  EXPECT_STATUS(dry, 200);
  EXPECT_EQ(dry->body, "{\"rows_to_be_deleted\":2}\n");
  auto del = post("/v0/datasources/feature_events/delete", "delete_condition=user_id%20%3D%20'gone'", kAdmin, type);
  EXPECT_STATUS(del, 200);
  EXPECT_EQ(del->body, "{\"rows_deleted\":2}\n");
  EXPECT_TRUE(store_->user_feature_usage({.user_id = "gone"})->rows.empty());
  EXPECT_EQ(store_->user_feature_usage({.user_id = "kept"})->rows.size(), 1u);
  auto other = post("/v0/datasources/feature_events/delete", "delete_condition=feature_id%3D%27f1%27", kAdmin, type);
  EXPECT_STATUS(other, 400);
  EXPECT_THAT(other->body, HasSubstr("delete_condition: unsupported condition"));
  auto none = post("/v0/datasources/feature_events/delete", "dry_run=true", kAdmin, type);
  EXPECT_STATUS(none, 400);
  EXPECT_THAT(none->body, HasSubstr("delete_condition: required"));
  EXPECT_STATUS(post("/v0/datasources/page_views/delete", "delete_condition=user_id%3D%27x%27", kAdmin, type), 404);
}

TEST_F(HttpServerTest, MetricsAreForAdminsInPrometheusText) {
  ASSERT_TRUE(post("/v0/events?name=feature_events&wait=true", event_line("m", "f")));
  auto r = get("/metrics");
  EXPECT_STATUS(r, 200);
  EXPECT_THAT(r->get_header_value("Content-Type"), StartsWith("text/plain"));
  EXPECT_THAT(r->body, HasSubstr("usagedb_events 1\n"));
  EXPECT_THAT(r->body, HasSubstr("usagedb_ingested_rows_total{outcome=\"stored\"} 1\n"));
  EXPECT_THAT(r->body, HasSubstr("usagedb_http_requests_total{route=\"events\",status=\"200\"} 1\n"));
}

TEST_F(HttpServerTest, RateLimitsAreCountedPerTokenPerSecond) {
  // Within one wall-clock second: start right after a second boundary.
  while (std::chrono::system_clock::now().time_since_epoch() % std::chrono::seconds(1) >
         std::chrono::milliseconds(300)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_STATUS(get("/v0/pipes/feature_usage_summary.json", kLimited), 200);
  EXPECT_STATUS(get("/v0/pipes/feature_usage_summary.json", kLimited), 200);
  auto over = get("/v0/pipes/feature_usage_summary.json", kLimited);
  EXPECT_STATUS(over, 429);
  EXPECT_EQ(over->get_header_value("Retry-After"), "1");
  EXPECT_THAT(over->body, HasSubstr("token 'limited' is over its limit of 2 requests per second"));
  EXPECT_STATUS(get("/v0/pipes/feature_usage_summary.json", kAdmin), 200);  // others are not limited
  // A JWT's limit is its name's.
  const std::string token =
      jwt(absl::StrCat(R"({"name":"capped","exp":)", unix_time() + 600,
                       R"(,"scopes":[{"type":"PIPES:READ","resource":"feature_usage_summary"}],"limits":{"rps":1}})"));
  auto first = get("/v0/pipes/feature_usage_summary.json", token);
  EXPECT_STATUS(first, 200);
  EXPECT_STATUS(get("/v0/pipes/feature_usage_summary.json", token), 429);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_STATUS(get("/v0/pipes/feature_usage_summary.json", token), 200);
}

TEST_F(HttpServerTest, ABodyOverTheLimitIsRefusedBeforeItIsRead) {
  HttpServerOptions options;
  options.max_body_bytes = 1000;
  start_server(options);
  // Content-Length over the limit: 413 with only the headers sent.
  RawConnection c(server_->port());
  ASSERT_TRUE(c.send(absl::StrCat("POST /v0/events?name=feature_events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ",
                                  kAdmin, "\r\nContent-Length: 100000000\r\n\r\n")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_THAT(r->body,
              HasSubstr("the request body is 100000000 bytes, over the limit of 1000 bytes (--max-body-bytes)"));
  EXPECT_EQ(r->header("connection"), "close");
  EXPECT_TRUE(c.closed_by_server());

  // Chunked: refused as soon as it crosses, while the client could go on.
  RawConnection chunked(server_->port());
  ASSERT_TRUE(
      chunked.send(absl::StrCat("POST /v0/events?name=feature_events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ",
                                kAdmin, "\r\nTransfer-Encoding: chunked\r\n\r\n")));
  const std::string chunk = absl::StrCat("1f4\r\n", std::string(500, ' '), "\r\n");
  ASSERT_TRUE(chunked.send(chunk + chunk));
  ASSERT_FALSE(chunked.read_response(std::chrono::milliseconds(300)));  // 1000 bytes: not over yet
  ASSERT_TRUE(chunked.send(chunk));
  auto crossed = chunked.read_response();
  ASSERT_TRUE(crossed);
  EXPECT_EQ(crossed->status, 413);
  EXPECT_THAT(crossed->body, HasSubstr("the request body is over the limit of 1000 bytes"));

  // Inflated: a small gzip body that inflates past the limit.
  auto bomb = client_->Post("/v0/events?name=feature_events",
                            {{"Authorization", std::string("Bearer ") + kAdmin}, {"Content-Encoding", "gzip"}},
                            gzip_bytes(std::string(100000, '\n')), "application/x-ndjson");
  EXPECT_STATUS(bomb, 413);
  EXPECT_THAT(bomb->body, HasSubstr("after gzip decompression is over the limit of 1000 bytes"));
  // Exactly the limit is fine.
  std::string exact = event_line("u", "f");
  exact.resize(1000, ' ');
  EXPECT_STATUS(post("/v0/events?name=feature_events", exact), 202);
}

TEST_F(HttpServerTest, ExpectContinueIsAnsweredWithTheRefusal) {
  RawConnection c(server_->port());
  ASSERT_TRUE(
      c.send("POST /v0/events?name=feature_events HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
             "Content-Length: 10\r\n\r\n"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);  // not 100: the body is never sent
  RawConnection ok(server_->port());
  const std::string line = event_line("x", "y");
  ASSERT_TRUE(ok.send(absl::StrCat("POST /v0/events?name=feature_events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ",
                                   kAdmin, "\r\nExpect: 100-continue\r\nContent-Length: ", line.size(), "\r\n\r\n")));
  auto go_on = ok.read_response();
  ASSERT_TRUE(go_on);
  EXPECT_EQ(go_on->status, 100);
  ASSERT_TRUE(ok.send(line));
  auto done = ok.read_response();
  ASSERT_TRUE(done);
  EXPECT_EQ(done->status, 202);
}

TEST_F(HttpServerTest, KeepAliveAndPipelinedRequestsShareAConnection) {
  RawConnection c(server_->port());
  const std::string health = http_request("GET", "/v0/health", "", "");
  const std::string events = http_request("POST", "/v0/events?name=feature_events",
                                          absl::StrCat("Authorization: Bearer ", kAdmin, "\r\n"), event_line("p", "q"));
  ASSERT_TRUE(c.send(health + events + health));  // pipelined
  for (int expected : {200, 202, 200}) {
    auto r = c.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, expected);
  }
  // A refused request's small body is skipped, and the connection goes on.
  ASSERT_TRUE(c.send(http_request("POST", "/v0/events?name=feature_events", "", event_line("p", "q")) + health));
  auto refused = c.read_response();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401);
  auto after = c.read_response();
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200);
}

TEST_F(HttpServerTest, ManyIdleKeepAliveConnectionsDoNotHoldTheWorkers) {
  HttpServerOptions options;
  options.threads = 2;
  start_server(options);
  std::vector<std::unique_ptr<RawConnection>> idle;
  for (int i = 0; i < 40; ++i) {
    idle.push_back(std::make_unique<RawConnection>(server_->port()));
    ASSERT_TRUE(idle.back()->send(http_request("GET", "/v0/health", "", "")));
    ASSERT_TRUE(idle.back()->read_response());
  }
  // 40 open connections, 2 workers: a new one is still served at once.
  for (int i = 0; i < 5; ++i) EXPECT_STATUS(client_->Get("/v0/health"), 200);
  for (auto& c : idle) {
    ASSERT_TRUE(c->send(http_request("GET", "/v0/health", "", "")));
    auto r = c->read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
  }
}

TEST_F(HttpServerTest, SlowClientsTimeOut) {
  HttpServerOptions options;
  options.header_timeout = std::chrono::milliseconds(300);
  options.body_timeout = std::chrono::milliseconds(300);
  options.keep_alive_timeout = std::chrono::milliseconds(300);
  start_server(options);
  RawConnection headers(server_->port());
  ASSERT_TRUE(headers.send("GET /v0/health HTTP/1.1\r\nHost: x\r\n"));  // never ends
  auto r = headers.read_response(std::chrono::seconds(5));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 408);
  EXPECT_TRUE(headers.closed_by_server());

  RawConnection body(server_->port());
  ASSERT_TRUE(
      body.send(absl::StrCat("POST /v0/events?name=feature_events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ",
                             kAdmin, "\r\nContent-Length: 1000\r\n\r\n{\"user_id\":")));
  auto b = body.read_response(std::chrono::seconds(5));
  ASSERT_TRUE(b);
  EXPECT_EQ(b->status, 408);
  EXPECT_THAT(b->body, HasSubstr("body timeout"));
  EXPECT_TRUE(body.closed_by_server());

  RawConnection idle(server_->port());
  ASSERT_TRUE(idle.send(http_request("GET", "/v0/health", "", "")));
  ASSERT_TRUE(idle.read_response());
  EXPECT_TRUE(idle.closed_by_server(std::chrono::seconds(5)));  // keep-alive timeout
}

TEST_F(HttpServerTest, OversizedHeadersAre431) {
  RawConnection c(server_->port());
  ASSERT_TRUE(
      c.send(absl::StrCat("GET /v0/health HTTP/1.1\r\nHost: x\r\n", "X-Big: ", std::string(70000, 'a'), "\r\n\r\n")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 431);
  RawConnection long_line(server_->port());
  ASSERT_TRUE(
      long_line.send(absl::StrCat("GET /v0/health?x=", std::string(9000, 'a'), " HTTP/1.1\r\nHost: x\r\n\r\n")));
  auto l = long_line.read_response();
  ASSERT_TRUE(l);
  EXPECT_EQ(l->status, 414);
  EXPECT_THAT(l->body, HasSubstr("the request line is too long"));
  RawConnection garbage(server_->port());
  ASSERT_TRUE(garbage.send("NOT HTTP AT ALL\r\n\r\n"));
  auto g = garbage.read_response();
  ASSERT_TRUE(g);
  EXPECT_EQ(g->status, 400);
  EXPECT_THAT(g->body, HasSubstr("malformed request: not an HTTP/1.x request line"));
}

TEST_F(HttpServerTest, ConcurrentWaitingWritersShareFlushes) {
  // Each fsync takes 5 ms, on any disk (on tmpfs or a fast SSD one returns
  // before the next request arrives and nothing would be shared): requests
  // arriving meanwhile wait for the next flush together.
  slow_disk_.set_sync_delay(std::chrono::milliseconds(5));
  ASSERT_NO_FATAL_FAILURE(start_server(HttpServerOptions{}, &slow_disk_));
  constexpr int kClients = 16;
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      httplib::Client c("127.0.0.1", server_->port());
      for (int j = 0; j < 5; ++j) {
        auto r = c.Post("/v0/events?name=feature_events&wait=true", bearer(kAdmin),
                        event_line(absl::StrCat("c", i), absl::StrCat("f", j)), "application/x-ndjson");
        if (r && r->status == 200) ok.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kClients * 5);
  auto metrics = get("/metrics");
  ASSERT_TRUE(metrics);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(metrics->body, m, std::regex("usagedb_flushes_total ([0-9]+)")));
  EXPECT_LT(std::stoi(m[1]), kClients * 5);  // shared, not one per request
}

TEST_F(HttpServerTest, StopAnswers503FinishesWhatIsInFlightAndFlushes) {
  const std::string line = event_line("inflight", "f");
  RawConnection slow(server_->port());
  ASSERT_TRUE(
      slow.send(absl::StrCat("POST /v0/events?name=feature_events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ",
                             kAdmin, "\r\nContent-Length: ", line.size(), "\r\n\r\n", line.substr(0, 10))));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // its worker is reading the body
  RawConnection idle(server_->port());                          // connected before the stop
  absl::Status stopped;
  std::thread stopper([&] { stopped = server_->stop(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_TRUE(idle.send(http_request("GET", "/v0/health", "", "")));
  auto refused = idle.read_response();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 503);
  EXPECT_THAT(refused->body, HasSubstr("shutting down"));
  EXPECT_EQ(refused->header("connection"), "close");
  ASSERT_TRUE(slow.send(line.substr(10)));
  auto finished = slow.read_response();
  ASSERT_TRUE(finished);
  EXPECT_EQ(finished->status, 202);
  stopper.join();
  EXPECT_TRUE(stopped.ok()) << stopped;
  // Acknowledged with 202, durable after stop(): reopen the store.
  server_.reset();
  store_.reset();
  Options options;
  options.directory = dir_.path() + "/store";
  auto reopened = EventStore::open(options);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->user_feature_usage({.user_id = "inflight"})->rows.size(), 1u);
}

// A self-signed certificate for 127.0.0.1 (EC P-256), as PEM files.
void write_self_signed(const std::string& cert_path, const std::string& key_path) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  ASSERT_NE(key, nullptr);
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  ASSERT_GT(X509_sign(cert, key, EVP_sha256()), 0);
  FILE* f = std::fopen(cert_path.c_str(), "w");
  PEM_write_X509(f, cert);
  std::fclose(f);
  f = std::fopen(key_path.c_str(), "w");
  PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
  X509_free(cert);
  EVP_PKEY_free(key);
}

TEST_F(HttpServerTest, ServesTls) {
  const std::string cert = dir_.file("cert.pem");
  const std::string key = dir_.file("key.pem");
  write_self_signed(cert, key);
  HttpServerOptions options;
  options.tls_cert_file = cert;
  options.tls_key_file = key;
  start_server(options);
  httplib::SSLClient tls("127.0.0.1", server_->port());
  tls.enable_server_certificate_verification(false);
  auto r = tls.Post("/v0/events?name=feature_events&wait=true", bearer(kAdmin), event_line("tls", "f"),
                    "application/x-ndjson");
  EXPECT_STATUS(r, 200);
  auto q = tls.Get("/v0/pipes/user_feature_usage.csv?user_id=tls", bearer(kReader));
  EXPECT_STATUS(q, 200);
  EXPECT_THAT(q->body, HasSubstr("\"tls\",\"f\",\"1.0\",1"));
  // Plain HTTP to a TLS port gets no answer.
  EXPECT_FALSE(client_->Get("/v0/health"));
}

TEST(HttpServerOptionsTest, RefusesUnusableOptions) {
  testing::ScopedTempDir dir;
  auto store = EventStore::open({});
  ASSERT_TRUE(store.ok());
  auto error = [&](HttpServerOptions options) {
    options.port = 0;
    HttpServer server(**store, options);
    return server.start();
  };
  HttpServerOptions none;
  EXPECT_THAT(testing::message(error(none)), HasSubstr("no tokens"));
  HttpServerOptions half_tls;
  half_tls.tokens = {{"a", "b", {"ADMIN"}, 0}};
  half_tls.tls_cert_file = "cert.pem";
  EXPECT_THAT(testing::message(error(half_tls)), HasSubstr("both a certificate and its key"));
  HttpServerOptions bad_scope;
  bad_scope.tokens = {{"a", "b", {"ROOT"}, 0}};
  EXPECT_THAT(testing::message(error(bad_scope)), HasSubstr("token 'a': unknown scope 'ROOT'"));
  HttpServerOptions missing_file;
  missing_file.tokens_file = dir.file("nope.json");
  EXPECT_TRUE(absl::IsNotFound(error(missing_file)));
  HttpServerOptions created;
  created.tokens_file = dir.file("tokens.json");
  created.create_tokens_file = true;
  created.port = 0;
  HttpServer server(**store, created);
  ASSERT_TRUE(server.start().ok());
  EXPECT_FALSE(server.created_admin_token().empty());
  httplib::Client c("127.0.0.1", server.port());
  auto r = c.Get("/v0/pipes", {{"Authorization", "Bearer " + server.created_admin_token()}});
  EXPECT_STATUS(r, 200);
  // A second server on the same port cannot bind.
  HttpServerOptions same_port;
  same_port.tokens = {{"a", "b", {"ADMIN"}, 0}};
  same_port.port = server.port();
  HttpServer second(**store, same_port);
  EXPECT_TRUE(absl::IsUnavailable(second.start()));
}

}  // namespace
}  // namespace usagedb
