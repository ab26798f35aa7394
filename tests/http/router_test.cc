#include "lib/http/router.h"

#include "lib/http/exchange.h"

#include "gtest/gtest.h"

namespace usagedb::http {
namespace {

TEST(Router, MatchesEveryRoute) {
  struct Case {
    const char* method;
    const char* path;
    Route route;
    const char* resource;
    const char* format;
  };
  const Case cases[] = {
      {"POST", "/v0/events", Route::kEvents, "", ""},
      {"POST", "/v0/events/", Route::kEvents, "", ""},
      {"POST", "/v0/datasources", Route::kDatasourcesAppend, "", ""},
      {"POST", "/v0/datasources/feature_events/delete", Route::kDatasourcesDelete, "feature_events", ""},
      {"POST", "/v0/datasources/other/delete", Route::kDatasourcesDelete, "other", ""},
      {"GET", "/v0/pipes", Route::kPipesList, "", ""},
      {"HEAD", "/v0/pipes/", Route::kPipesList, "", ""},
      {"GET", "/v0/pipes/user_feature_usage.json", Route::kPipe, "user_feature_usage", "json"},
      {"GET", "/v0/pipes/feature_events_quarantine.ndjson", Route::kPipe, "feature_events_quarantine", "ndjson"},
      {"GET", "/v0/pipes/x.tar.gz", Route::kPipe, "x.tar", "gz"},
      {"GET", "/v0/pipes/user_feature_usage", Route::kPipeInfo, "user_feature_usage", ""},
      {"GET", "/v0/health", Route::kHealth, "", ""},
      {"GET", "/metrics", Route::kMetrics, "", ""},
      {"OPTIONS", "/v0/events", Route::kPreflight, "", ""},
      {"OPTIONS", "/v0/anything/at/all", Route::kPreflight, "", ""},
      {"GET", "/", Route::kDashboard, "", ""},
      {"GET", "/index.html", Route::kDashboard, "", ""},
      {"HEAD", "/js/app.js", Route::kDashboard, "", ""},
      {"GET", "/vendor/chart.min.js", Route::kDashboard, "", ""},
  };
  for (const Case& c : cases) {
    const RouteMatch m = match_route(c.method, c.path);
    EXPECT_EQ(m.route, c.route) << c.method << " " << c.path;
    EXPECT_TRUE(m.method_allowed) << c.method << " " << c.path;
    EXPECT_EQ(m.resource, c.resource) << c.path;
    EXPECT_EQ(m.format, c.format) << c.path;
  }
}

TEST(Router, UnknownPathsAre404AndWrongMethods405) {
  for (const char* path :
       {"/v0", "/v1/events", "/nothing.js", "/js/", "/index.htm", "/v0/pipes/a/b.json", "/v0/pipes/.json",
        "/v0/pipes/x.", "/v0/datasources/a/b/delete", "/v0/datasources//delete", "/metrics/x", "/v0/eventsx"}) {
    EXPECT_EQ(match_route("GET", path).route, Route::kNotFound) << path;
  }
  EXPECT_FALSE(match_route("OPTIONS", "/metrics").method_allowed);  // preflights are for /v0/ only
  const RouteMatch get_events = match_route("GET", "/v0/events");
  EXPECT_EQ(get_events.route, Route::kEvents);
  EXPECT_FALSE(get_events.method_allowed);
  EXPECT_EQ(get_events.allow, "POST");
  const RouteMatch post_pipe = match_route("POST", "/v0/pipes/x.json");
  EXPECT_FALSE(post_pipe.method_allowed);
  EXPECT_EQ(post_pipe.allow, "GET, HEAD");
  EXPECT_FALSE(match_route("get", "/v0/health").method_allowed);  // methods are case-sensitive
  EXPECT_FALSE(match_route("DELETE", "/metrics").method_allowed);
  EXPECT_EQ(route_name(Route::kDatasourcesDelete), "datasources_delete");
  const RouteMatch post_page = match_route("POST", "/");
  EXPECT_EQ(post_page.route, Route::kDashboard);
  EXPECT_FALSE(post_page.method_allowed);
  EXPECT_EQ(post_page.allow, "GET, HEAD");
  EXPECT_EQ(route_name(Route::kDashboard), "dashboard");
}

}  // namespace
}  // namespace usagedb::http

namespace usagedb::http {
namespace {

TEST(RequestHeaders, FindsTheHeadersTheServerReadsInOnePassWhateverTheirCase) {
  httplib::Headers headers = {{"content-type", "multipart/form-data; boundary=x"},
                              {"AUTHORIZATION", "Bearer t"},
                              {"Content-Length", "285"},
                              {"Content-Encoding", "gzip"},
                              {"transfer-encoding", "chunked"},
                              {"X-Content-Type", "no"}};
  RequestHeaders r;
  r.read(headers);
  ASSERT_NE(r.content_type, nullptr);
  EXPECT_EQ(*r.content_type, "multipart/form-data; boundary=x");
  EXPECT_EQ(RequestHeaders::value(r.authorization), "Bearer t");
  EXPECT_EQ(RequestHeaders::value(r.content_length), "285");
  EXPECT_EQ(RequestHeaders::value(r.content_encoding), "gzip");
  EXPECT_EQ(RequestHeaders::value(r.transfer_encoding), "chunked");
  RequestHeaders none;
  none.read({});
  EXPECT_EQ(none.content_type, nullptr);
  EXPECT_EQ(RequestHeaders::value(none.authorization), "");
}

}  // namespace
}  // namespace usagedb::http
