// How the server compresses its answers (lib/http/response_encoding.h): gzip
// at a fast level for large text bodies when accepted, never httplib's own
// Brotli, and never twice.
#include "lib/http/response_encoding.h"

#include "gtest/gtest.h"
#include "tests/http/http_testing.h"

namespace usagedb::http {
namespace {

std::string json_body(size_t rows) {
  std::string body = "{\"data\":[";
  for (size_t i = 0; i < rows; ++i)
    body += "{\"feature_id\":\"feature_" + std::to_string(i % 40) + "\",\"events\":" + std::to_string(i * 7) + "},";
  body += "{}]}\n";
  return body;
}

TEST(ResponseEncoding, AcceptsGzipReadsTheHeaderAsRfc9110Says) {
  EXPECT_TRUE(accepts_gzip("gzip"));
  EXPECT_TRUE(accepts_gzip("gzip, deflate, br"));
  EXPECT_TRUE(accepts_gzip("br;q=1.0, GZIP;q=0.5"));
  EXPECT_FALSE(accepts_gzip("gzip;q=0"));
  EXPECT_FALSE(accepts_gzip("gzip; q=0.0"));
  EXPECT_FALSE(accepts_gzip("br, deflate"));
  EXPECT_FALSE(accepts_gzip(""));
  EXPECT_FALSE(accepts_gzip("x-gzip2"));
}

TEST(ResponseEncoding, LargeTextBodiesAreGzippedWhenAcceptedAndHttplibIsLeftNothing) {
  httplib::Request req;
  req.headers.emplace("Accept-Encoding", "gzip, deflate, br");
  httplib::Response res;
  const std::string body = json_body(2000);
  res.set_content(body, "application/json");
  encode_response(req, res);
  EXPECT_EQ(res.get_header_value("Content-Encoding"), "gzip");
  EXPECT_EQ(res.get_header_value("Vary"), "Accept-Encoding");
  EXPECT_LT(res.body.size(), body.size() / 4);
  EXPECT_EQ(testing::gunzip_bytes(res.body), body);
  EXPECT_FALSE(req.has_header("Accept-Encoding"));  // httplib would add Brotli over it
}

TEST(ResponseEncoding, SmallOpaqueUnacceptedOrEncodedBodiesAreSentAsTheyAre) {
  struct Case {
    const char* accept;
    std::string body;
    const char* type;
    const char* encoding;  // the handler's own Content-Encoding, or ""
  };
  const Case cases[] = {
      {"gzip, br", "{\"status\":\"ok\"}\n", "application/json", ""},  // under kMinGzipBytes
      {"br", json_body(2000), "application/json", ""},                // no gzip accepted
      {"gzip;q=0, br", json_body(2000), "text/csv", ""},
      {"gzip", std::string(5000, 'x'), "image/png", ""},     // not a text type
      {"gzip", json_body(2000), "text/javascript", "gzip"},  // already gzip (the dashboard's)
  };
  for (const Case& c : cases) {
    httplib::Request req;
    req.headers.emplace("Accept-Encoding", c.accept);
    httplib::Response res;
    res.set_content(c.body, c.type);
    if (*c.encoding) res.set_header("Content-Encoding", c.encoding);
    encode_response(req, res);
    EXPECT_EQ(res.body, c.body) << c.accept << " " << c.type;
    EXPECT_EQ(res.get_header_value("Content-Encoding"), c.encoding) << c.accept << " " << c.type;
    EXPECT_EQ(res.get_header_value_count("Content-Encoding"), *c.encoding ? 1u : 0u);
    EXPECT_FALSE(req.has_header("Accept-Encoding"));
  }
}

TEST(ResponseEncoding, GzipRoundTripsAtEveryLevel) {
  const std::string body = json_body(300);
  for (int level : {1, 6, 9}) EXPECT_EQ(testing::gunzip_bytes(gzip(body, level)), body) << level;
  EXPECT_EQ(testing::gunzip_bytes(gzip("", 1)), "");
}

}  // namespace
}  // namespace usagedb::http
