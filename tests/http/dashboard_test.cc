// The dashboard's files as the server serves them (lib/http/dashboard.h):
// what is embedded, that the page references only embedded files and nothing
// the Content-Security-Policy forbids, the headers (CSP, ETag, gzip), and the
// --no-dashboard switch. tests/web/dashboard_test.mjs drives the page itself
// in Chromium.
#include "lib/http/dashboard.h"

#include <regex>
#include <set>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/http/cpp_httplib.h"
#include "lib/http/dashboard_files.h"
#include "tests/http/http_testing.h"
#include "tests/testutil/temp_dir.h"
#include "usagedb/http_server.h"

namespace usagedb::http {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(DashboardFiles, ThePageItsScriptsAndChartJsAreEmbedded) {
  const DashboardAsset* page = find_dashboard_asset("/");
  ASSERT_NE(page, nullptr);
  EXPECT_EQ(page, find_dashboard_asset("/index.html"));
  EXPECT_EQ(page->content_type, "text/html; charset=utf-8");
  EXPECT_THAT(page->content, HasSubstr("<script src=\"/vendor/chart.min.js\""));
  const DashboardAsset* chart = find_dashboard_asset("/vendor/chart.min.js");
  ASSERT_NE(chart, nullptr);
  EXPECT_THAT(chart->content, HasSubstr("Chart.js v3"));  // Debian's libjs-chart.js, 3.9
  EXPECT_EQ(chart->content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(find_dashboard_asset("/js/nothing.js"), nullptr);
  EXPECT_EQ(find_dashboard_asset(""), nullptr);
  EXPECT_FALSE(is_dashboard_path("/"));  // the router maps "/" itself
  EXPECT_TRUE(is_dashboard_path("/js/app.js"));
}

TEST(DashboardFiles, EveryFileThePageLoadsIsEmbedded) {
  // src="/..." and href="/..." of the page; import ... from './x.js' of each
  // module, resolved against the module's own path.
  std::set<std::string> needed;
  const std::regex link(R"re((?:src|href)="(/[^"#?]*)")re");
  const std::string_view page = find_dashboard_asset("/")->content;
  for (std::cregex_iterator it(page.data(), page.data() + page.size(), link), end; it != end; ++it) {
    needed.insert((*it)[1].str());
  }
  const std::regex import_from(R"re(from '(\.{1,2}/[^']+)')re");
  for (const DashboardFile& f : dashboard_files()) {
    if (!f.path.ends_with(".js") || f.path.starts_with("/vendor/")) continue;
    const std::string dir(f.path.substr(0, f.path.rfind('/')));
    for (std::cregex_iterator it(f.content.data(), f.content.data() + f.content.size(), import_from), end; it != end;
         ++it) {
      std::string target = (*it)[1].str();
      std::string base = dir;
      while (target.starts_with("../")) {
        target.erase(0, 3);
        base = base.substr(0, base.rfind('/'));
      }
      if (target.starts_with("./")) target.erase(0, 2);
      needed.insert(absl::StrCat(base, "/", target));
    }
  }
  EXPECT_GE(needed.size(), 10u);
  for (const std::string& path : needed) EXPECT_NE(find_dashboard_asset(path), nullptr) << path;
}

TEST(DashboardFiles, NothingTheSecurityPolicyForbids) {
  // No inline script, handler or style in the page; no eval or HTML strings in
  // the scripts; no other host anywhere.
  const std::string_view page = find_dashboard_asset("/")->content;
  EXPECT_FALSE(std::regex_search(page.begin(), page.end(), std::regex(R"(<script(?![^>]*\bsrc=)[^>]*>)")));
  EXPECT_FALSE(std::regex_search(page.begin(), page.end(), std::regex(R"(\s(on[a-z]+|style)=)")));
  EXPECT_THAT(page, Not(HasSubstr("<style")));
  for (const DashboardFile& f : dashboard_files()) {
    if (f.path.starts_with("/vendor/")) continue;
    // The SVG namespace is a name, not a request.
    const std::string content =
        std::regex_replace(std::string(f.content), std::regex("xmlns=\"http://www.w3.org/2000/svg\""), "");
    EXPECT_THAT(content, Not(HasSubstr("http://"))) << f.path;
    EXPECT_THAT(content, Not(HasSubstr("https://"))) << f.path;
    if (!f.path.ends_with(".js")) continue;
    for (const char* forbidden :
         {"eval(", "new Function", "innerHTML", "outerHTML", "document.write", "setAttribute('style'"}) {
      EXPECT_THAT(f.content, Not(HasSubstr(forbidden))) << f.path;
    }
  }
  EXPECT_THAT(kDashboardSecurityPolicy, HasSubstr("default-src 'none'"));
  EXPECT_THAT(kDashboardSecurityPolicy, Not(HasSubstr("unsafe")));
}

TEST(DashboardFiles, TheGzipOfEachTextFileInflatesToIt) {
  for (const DashboardFile& f : dashboard_files()) {
    const DashboardAsset* a = find_dashboard_asset(f.path);
    ASSERT_NE(a, nullptr) << f.path;
    EXPECT_EQ(a->etag.size(), 18u) << a->etag;
    if (f.content.size() > 1000) ASSERT_FALSE(a->gzip.empty()) << f.path;
    if (!a->gzip.empty()) EXPECT_EQ(testing::gunzip_bytes(a->gzip), f.content) << f.path;
  }
  EXPECT_LT(find_dashboard_asset("/vendor/chart.min.js")->gzip.size(), 90u << 10);
}

TEST(DashboardHeaders, IfNoneMatch) {
  EXPECT_TRUE(etag_matches("\"abc\"", "\"abc\""));
  EXPECT_TRUE(etag_matches("\"x\", W/\"abc\"", "\"abc\""));
  EXPECT_TRUE(etag_matches("*", "\"abc\""));
  EXPECT_FALSE(etag_matches("\"abd\"", "\"abc\""));
  EXPECT_FALSE(etag_matches("", "\"abc\""));
}

class DashboardServerTest : public ::testing::Test {
 protected:
  void start(bool dashboard) {
    server_.reset();
    store_.reset();
    Options store_options;
    store_options.directory = dir_.path() + "/store";
    auto store = EventStore::open(store_options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    HttpServerOptions options;
    options.port = 0;
    options.access_log = "";
    options.dashboard = dashboard;
    options.tokens = {{"admin", "dashboard-admin-token", {"ADMIN"}, 0}};
    server_ = std::make_unique<HttpServer>(*store_, options);
    ASSERT_TRUE(server_->start().ok());
  }

  std::optional<testing::RawResponse> request(const std::string& head) {
    testing::RawConnection c(server_->port());
    if (!c.connected() || !c.send(absl::StrCat(head, "Host: x\r\nConnection: close\r\n\r\n"))) return std::nullopt;
    return c.read_response();
  }

  testing::ScopedTempDir dir_;
  std::unique_ptr<EventStore> store_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(DashboardServerTest, ThePageNeedsNoTokenAndCarriesTheSecurityPolicy) {
  start(true);
  auto r = request("GET / HTTP/1.1\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->header("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(r->header("content-security-policy"), kDashboardSecurityPolicy);
  EXPECT_EQ(r->header("x-content-type-options"), "nosniff");
  EXPECT_EQ(r->header("cache-control"), "no-cache");
  EXPECT_EQ(r->header("content-encoding"), "");
  EXPECT_EQ(r->body, find_dashboard_asset("/")->content);
  EXPECT_EQ(r->header("etag"), find_dashboard_asset("/")->etag);
  // The token of a shared link (?token=) is not needed, and not refused.
  auto with_token = request("GET /?token=whatever HTTP/1.1\r\n");
  ASSERT_TRUE(with_token);
  EXPECT_EQ(with_token->status, 200);
  httplib::Client client("127.0.0.1", server_->port());
  auto head = client.Head("/js/app.js");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->get_header_value("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(head->body, "");
}

TEST_F(DashboardServerTest, ARepeatedLoadIsA304AndGzipIsSentWhenAccepted) {
  start(true);
  const DashboardAsset* chart = find_dashboard_asset("/vendor/chart.min.js");
  auto again = request(absl::StrCat("GET /vendor/chart.min.js HTTP/1.1\r\nIf-None-Match: ", chart->etag, "\r\n"));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 304);
  EXPECT_EQ(again->body, "");
  auto gz = request("GET /vendor/chart.min.js HTTP/1.1\r\nAccept-Encoding: gzip, deflate, br\r\n");
  ASSERT_TRUE(gz);
  EXPECT_EQ(gz->status, 200);
  EXPECT_EQ(gz->header("content-encoding"), "gzip");
  EXPECT_EQ(gz->header("vary"), "Accept-Encoding");
  EXPECT_EQ(testing::gunzip_bytes(gz->body), chart->content);
  // Sent as is: not compressed again (httplib would, with Brotli).
  auto br = request("GET /style.css HTTP/1.1\r\nAccept-Encoding: br\r\n");
  ASSERT_TRUE(br);
  EXPECT_EQ(br->header("content-encoding"), "");
  EXPECT_EQ(br->body, find_dashboard_asset("/style.css")->content);
  auto changed = request("GET /vendor/chart.min.js HTTP/1.1\r\nIf-None-Match: \"0000000000000000\"\r\n");
  ASSERT_TRUE(changed);
  EXPECT_EQ(changed->status, 200);
  EXPECT_EQ(changed->body, chart->content);
}

TEST_F(DashboardServerTest, UnknownFilesAndOtherMethodsAreRefused) {
  start(true);
  auto missing = request("GET /js/nothing.js HTTP/1.1\r\n");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_THAT(missing->body, HasSubstr("GET / (the dashboard)"));
  auto post = request("POST / HTTP/1.1\r\nContent-Length: 0\r\n");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
  EXPECT_EQ(post->header("allow"), "GET, HEAD");
}

TEST_F(DashboardServerTest, NoDashboardMakesThePageA404) {
  start(false);
  for (const char* path : {"/", "/index.html", "/vendor/chart.min.js"}) {
    auto r = request(absl::StrCat("GET ", path, " HTTP/1.1\r\n"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 404) << path;
    EXPECT_THAT(r->body, Not(HasSubstr("dashboard"))) << path;
  }
  auto health = request("GET /v0/health HTTP/1.1\r\n");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
}

}  // namespace
}  // namespace usagedb::http
