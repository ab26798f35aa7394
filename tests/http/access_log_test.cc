#include "lib/http/access_log.h"

#include <fstream>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/http/delete_condition.h"
#include "lib/http/metrics.h"
#include "tests/testutil/helpers.h"
#include "tests/testutil/temp_dir.h"

namespace usagedb::http {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(AccessLog, RedactsTheTokenParameter) {
  EXPECT_EQ(redact_target("/v0/pipes/x.json?token=SECRET&user_id=u1"), "/v0/pipes/x.json?user_id=u1");
  EXPECT_EQ(redact_target("/v0/pipes/x.json?user_id=u1&token=SECRET"), "/v0/pipes/x.json?user_id=u1");
  EXPECT_EQ(redact_target("/v0/x?a=1&token=S1&b=2&token=S2"), "/v0/x?a=1&b=2");
  EXPECT_EQ(redact_target("/v0/x?token"), "/v0/x");
  EXPECT_EQ(redact_target("/v0/x?tokens=kept"), "/v0/x?tokens=kept");
  EXPECT_EQ(redact_target("/v0/health"), "/v0/health");
}

TEST(AccessLog, FormatsOneEscapedLinePerRequest) {
  const std::string line = format_access_log_line({
      .time = std::chrono::system_clock::time_point(std::chrono::milliseconds(1748779200123)),
      .remote_addr = "127.0.0.1",
      .method = "GET",
      .target = "/v0/pipes/user_feature_usage.json?user_id=u\n1&token=SECRET",
      .status = 200,
      .bytes = 532,
      .elapsed = std::chrono::microseconds(734),
      .token_name = "admin",
  });
  EXPECT_EQ(line,
            "2025-06-01T12:00:00.123Z 127.0.0.1 \"GET /v0/pipes/user_feature_usage.json?user_id=u\\x0a1\" 200 532 "
            "0.734ms admin\n");
}

TEST(AccessLog, WritesToAFileAndNeverTheToken) {
  testing::ScopedTempDir dir;
  const std::string path = dir.file("access.log");
  {
    AccessLog log(path);
    ASSERT_TRUE(log.status().ok());
    for (int i = 0; i < 1000; ++i) {
      log.write({.time = std::chrono::system_clock::now(),
                 .remote_addr = "::1",
                 .method = "POST",
                 .target = "/v0/events?name=feature_events&token=SECRET",
                 .status = 202,
                 .bytes = 62,
                 .elapsed = {},
                 .token_name = ""});
    }
  }
  std::ifstream in(path);
  std::stringstream stream;
  stream << in.rdbuf();
  const std::string text = stream.str();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1000);
  EXPECT_THAT(text, Not(HasSubstr("SECRET")));
  EXPECT_THAT(text, HasSubstr("\"POST /v0/events?name=feature_events\" 202 62 0.000ms -\n"));
  AccessLog broken(dir.file("no/such/dir/log"));
  EXPECT_FALSE(broken.status().ok());
  AccessLog off("");
  EXPECT_FALSE(off.enabled());
}

TEST(DeleteCondition, AcceptsUserIdEqualsAQuotedString) {
  EXPECT_EQ(*parse_delete_condition("user_id = 'user_615'"), "user_615");
  EXPECT_EQ(*parse_delete_condition("  user_id='u'  "), "u");
  EXPECT_EQ(*parse_delete_condition("user_id = 'o''brien'"), "o'brien");
  EXPECT_EQ(*parse_delete_condition(R"(user_id = 'a\'b\\c')"), "a'b\\c");
  EXPECT_EQ(*parse_delete_condition("user_id = 'caf\xC3\xA9 \"x\"'"), "caf\xC3\xA9 \"x\"");
}

TEST(DeleteCondition, RefusesEverythingElseNamingTheParameter) {
  for (const char* bad :
       {"", "user_id", "user_id = u1", "user_id = \"u1\"", "feature_id = 'f'", "user_id != 'u'", "user_id = 'u' OR 1=1",
        "user_id = 'u", "user_id = ''", "user_id = 'a\\nb'", "user_id IN ('a')", "1=1"}) {
    auto r = parse_delete_condition(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_THAT(testing::message(r.status()), HasSubstr("delete_condition:")) << bad;
    EXPECT_THAT(testing::message(r.status()), HasSubstr("user_id = '<user id>'")) << bad;
  }
}

TEST(Metrics, RendersRequestsLatencyAndIngestCounters) {
  Metrics m;
  m.record_request(Route::kEvents, 202, std::chrono::microseconds(300));
  m.record_request(Route::kEvents, 202, std::chrono::milliseconds(20));
  m.record_request(Route::kPipe, 400, std::chrono::microseconds(50));
  m.record_request(Route::kPipe, 418, std::chrono::microseconds(50));
  m.record_ingest({.successful_rows = 5, .quarantined_rows = 2, .duplicate_rows = 1});
  StoreStats stats;
  stats.rows = 42;
  stats.quarantined_rows = 2;
  const std::string text = m.render(stats, 3);
  EXPECT_THAT(text, HasSubstr("usagedb_events 42\n"));
  EXPECT_THAT(text, HasSubstr("usagedb_ingested_rows_total{outcome=\"stored\"} 5\n"));
  EXPECT_THAT(text, HasSubstr("usagedb_ingested_rows_total{outcome=\"duplicate\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("usagedb_flushes_total 3\n"));
  EXPECT_THAT(text, HasSubstr("usagedb_http_requests_total{route=\"events\",status=\"202\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("usagedb_http_requests_total{route=\"pipe\",status=\"other\"} 1\n"));
  EXPECT_THAT(
      text,
      HasSubstr("usagedb_http_request_duration_seconds_bucket{route=\"events\",status=\"202\",le=\"0.0005\"} 1\n"));
  EXPECT_THAT(
      text,
      HasSubstr("usagedb_http_request_duration_seconds_bucket{route=\"events\",status=\"202\",le=\"0.025\"} 2\n"));
  EXPECT_THAT(
      text, HasSubstr("usagedb_http_request_duration_seconds_bucket{route=\"events\",status=\"202\",le=\"+Inf\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("usagedb_http_request_duration_seconds_count{route=\"pipe\",status=\"400\"} 1\n"));
  EXPECT_THAT(text, Not(HasSubstr("route=\"health\"")));
}

}  // namespace
}  // namespace usagedb::http
