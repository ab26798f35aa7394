// The request body layers: framing, limits, gzip and multipart
// (lib/http/byte_source.h, gzip_source.h, multipart_source.h).
#include "lib/http/byte_source.h"

#include <zlib.h>

#include <random>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/http/gzip_source.h"
#include "lib/http/multipart_source.h"
#include "tests/testutil/helpers.h"

namespace usagedb::http {
namespace {

using ::testing::HasSubstr;

// Hands out at most `step` bytes per read, and counts what it gave.
class TrickleSource : public ByteSource {
 public:
  TrickleSource(std::string_view text, size_t step) : text_(text), step_(step) {}
  absl::StatusOr<size_t> read(char* buf, size_t n) override {
    const size_t k = std::min({n, step_, text_.size() - pos_});
    std::memcpy(buf, text_.data() + pos_, k);
    pos_ += k;
    return k;
  }
  std::string_view rest() const { return text_.substr(pos_); }

 private:
  std::string_view text_;
  size_t step_;
  size_t pos_ = 0;
};

absl::StatusOr<std::string> read_everything(ByteSource& source) {
  std::string out;
  if (absl::Status s = read_all(source, &out); !s.ok()) return s;
  return out;
}

std::string gzip_member(std::string_view data) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, data.size()) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

TEST(LengthSource, ReadsExactlyTheLengthAndLeavesTheRest) {
  TrickleSource in("hello world NEXT", 3);
  LengthSource body(in, 11);
  EXPECT_EQ(*read_everything(body), "hello world");
  EXPECT_EQ(in.rest(), " NEXT");
  TrickleSource short_in("abc", 10);
  LengthSource too_long(short_in, 5);
  auto r = read_everything(too_long);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
}

TEST(ChunkedSource, DecodesChunksExtensionsAndTrailersAndStopsAtTheEnd) {
  const std::string wire = "5\r\nhello\r\n6;ext=1\r\n world\r\nA \r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\nNEXT";
  for (size_t step : {1, 2, 7, 1000}) {
    TrickleSource in(wire, step);
    ChunkedSource body(in);
    auto out = read_everything(body);
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_EQ(*out, "hello world0123456789");
    EXPECT_EQ(in.rest(), "NEXT") << step;
  }
  TrickleSource lf_only("3\nabc\n0\n\n", 4);
  ChunkedSource lf(lf_only);
  EXPECT_EQ(*read_everything(lf), "abc");
}

TEST(ChunkedSource, RefusesMalformedFraming) {
  for (const char* bad : {"zz\r\nabc\r\n0\r\n\r\n", "3\r\nabcd\r\n0\r\n\r\n", "\r\n", "3x\r\nabc\r\n0\r\n\r\n",
                          "FFFFFFFFFFFFFFFFFF\r\n"}) {
    StringSource in(bad);
    ChunkedSource body(in);
    auto r = read_everything(body);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << bad << " " << r.status();
  }
  StringSource cut("5\r\nhel");
  ChunkedSource body(cut);
  EXPECT_EQ(read_everything(body).status().code(), absl::StatusCode::kUnavailable);
}

TEST(LimitSource, RefusesTheReadThatCrossesTheLimit) {
  StringSource exact("0123456789");
  LimitSource at_limit(exact, 10, "the body");
  EXPECT_EQ(*read_everything(at_limit), "0123456789");
  const std::string hundred(100, 'x');
  TrickleSource in(hundred, 4);
  LimitSource over(in, 10, "the body");
  char buf[64];
  EXPECT_EQ(*over.read(buf, sizeof(buf)), 4u);
  EXPECT_EQ(*over.read(buf, sizeof(buf)), 4u);
  auto third = over.read(buf, sizeof(buf));
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(testing::message(third.status()), "the body is over the limit of 10 bytes");
  EXPECT_EQ(in.rest().size(), 88u);  // stopped as soon as it crossed
}

TEST(GzipSource, InflatesMembersInAnyChunking) {
  std::string data;
  std::mt19937 rng(7);
  for (int i = 0; i < 20000; ++i) data += absl::StrCat("{\"user_id\":\"u", rng() % 1000, "\"}\n");
  const std::string wire = gzip_member(data.substr(0, 1000)) + gzip_member(data.substr(1000));  // two members
  for (size_t step : {1, 13, 4096, 1 << 20}) {
    TrickleSource in(wire, step);
    GzipSource inflated(in);
    auto out = read_everything(inflated);
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_EQ(*out, data) << step;
  }
  StringSource empty("");
  GzipSource nothing(empty);
  EXPECT_EQ(*read_everything(nothing), "");
}

TEST(GzipSource, RefusesCorruptTruncatedAndNonGzipData) {
  const std::string wire = gzip_member("hello hello hello hello");
  StringSource cut(std::string_view(wire).substr(0, wire.size() - 5));
  GzipSource truncated(cut);
  auto r1 = read_everything(truncated);
  ASSERT_FALSE(r1.ok());
  EXPECT_THAT(testing::message(r1.status()), HasSubstr("truncated"));
  StringSource plain("not gzip at all");
  GzipSource not_gzip(plain);
  auto r2 = read_everything(not_gzip);
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(testing::message(r2.status()), HasSubstr("not valid gzip"));
  const std::string with_garbage_text = wire + "garbage!";
  StringSource trailing(with_garbage_text);
  GzipSource with_garbage(trailing);
  EXPECT_EQ(read_everything(with_garbage).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(GzipSource, ABombIsStoppedByTheLimitAfterInflation) {
  const std::string wire = gzip_member(std::string(50 << 20, 'a'));  // 50 MiB of 'a' in ~50 KB (a bomb)
  ASSERT_LT(wire.size(), 100u << 10);
  StringSource in(wire);
  LimitSource sent(in, 1 << 20, "the request body");
  GzipSource inflated(sent);
  LimitSource decoded(inflated, 1 << 20, "the request body after gzip decompression");
  auto r = read_everything(decoded);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(testing::message(r.status()), HasSubstr("after gzip decompression"));
}

std::string multipart_body(const std::string& boundary, std::vector<std::pair<std::string, std::string>> parts,
                           const std::string& preamble = "", const std::string& epilogue = "") {
  std::string body(preamble);
  for (const auto& [headers, data] : parts) {
    absl::StrAppend(&body, "--", boundary, "\r\n", headers, "\r\n\r\n", data, "\r\n");
  }
  absl::StrAppend(&body, "--", boundary, "--\r\n", epilogue);
  return body;
}

TEST(MultipartSource, ExtractsTheFileFieldWhateverTheChunking) {
  const std::string file = "user_id,feature_id\r\nu1,f1\r\n--not-the-boundary\r\n\r\n";
  const std::string body = multipart_body(
      "XyZ",
      {{"Content-Disposition: form-data; name=\"note\"", "skipped"},
       {"Content-Disposition: form-data; name=\"csv\"; filename=\"events.csv\"\r\nContent-Type: text/csv", file}},
      "preamble\r\n", "epilogue");
  for (size_t step : {1, 3, 5, 64, 1 << 20}) {
    TrickleSource in(body, step);
    MultipartSource part(in, "XyZ", {"csv", "ndjson", "file"});
    auto out = read_everything(part);
    ASSERT_TRUE(out.ok()) << out.status() << " step " << step;
    EXPECT_EQ(*out, file) << step;
    EXPECT_EQ(part.field_name(), "csv");
    EXPECT_EQ(part.filename(), "events.csv");
    EXPECT_EQ(in.rest(), "");  // the epilogue was read too
  }
}

TEST(MultipartSource, FindsABoundaryThatStraddlesReads) {
  std::string big(200000, 'z');
  big[100000] = '\r';
  big[100001] = '\n';
  big[100002] = '-';
  const std::string body = multipart_body("----WebKitFormBoundary7MA4YWxkTrZu0gW",
                                          {{"Content-Disposition: form-data; name=file; filename=x.ndjson", big}});
  TrickleSource in(body, 65535);
  MultipartSource part(in, "----WebKitFormBoundary7MA4YWxkTrZu0gW", {"csv", "ndjson", "file"});
  auto out = read_everything(part);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*out, big);
  EXPECT_EQ(part.field_name(), "file");
  EXPECT_EQ(part.filename(), "x.ndjson");
}

TEST(MultipartSource, RefusesBodiesWithoutExactlyOneFile) {
  auto error = [](const std::string& body) {
    StringSource in(body);
    MultipartSource part(in, "b", {"csv", "ndjson", "file"});
    auto r = read_everything(part);
    EXPECT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    return testing::message(r.status());
  };
  EXPECT_THAT(error(multipart_body("b", {{"Content-Disposition: form-data; name=\"other\"", "x"}})),
              HasSubstr("no file field (expected one of csv, ndjson, file); it has other"));
  EXPECT_THAT(error(multipart_body("b", {{"Content-Disposition: form-data; name=\"csv\"", "a"},
                                         {"Content-Disposition: form-data; name=\"ndjson\"", "b"}})),
              HasSubstr("a second file field ('ndjson')"));
  EXPECT_THAT(error("--b\r\nContent-Disposition: form-data; name=\"csv\"\r\n\r\nabc"),
              HasSubstr("ends inside the file part"));
  EXPECT_THAT(error("no boundary at all"), HasSubstr("ends before its closing boundary"));
  EXPECT_THAT(error(multipart_body("b", {{"Content-Type: text/plain", "x"}})),
              HasSubstr("no Content-Disposition: form-data"));
  EXPECT_THAT(error("--b\r\n" + std::string(20000, 'h')), HasSubstr("headers are over 16 KiB"));
}

TEST(MultipartSource, BoundaryFromTheContentType) {
  EXPECT_EQ(*multipart_boundary("multipart/form-data; boundary=abc"), "abc");
  EXPECT_EQ(*multipart_boundary("multipart/form-data; charset=utf-8; BOUNDARY=\"a b;c\""), "a b;c");
  EXPECT_FALSE(multipart_boundary("multipart/form-data").ok());
  EXPECT_FALSE(multipart_boundary("multipart/form-data; boundary=").ok());
  EXPECT_FALSE(multipart_boundary("multipart/form-data; boundary=" + std::string(71, 'x')).ok());
  EXPECT_TRUE(is_multipart_form_data("Multipart/Form-Data; boundary=x"));
  EXPECT_FALSE(is_multipart_form_data("application/x-www-form-urlencoded"));
}

TEST(HttpStatusOf, MapsTheBodyErrors) {
  EXPECT_EQ(http_status_of(absl::ResourceExhaustedError("")), 413);
  EXPECT_EQ(http_status_of(absl::InvalidArgumentError("")), 400);
  EXPECT_EQ(http_status_of(absl::DeadlineExceededError("")), 408);
  EXPECT_EQ(http_status_of(absl::NotFoundError("")), 404);
  EXPECT_EQ(http_status_of(absl::DataLossError("")), 500);
}

}  // namespace
}  // namespace usagedb::http
