#include "lib/http/response_encoding.h"

#include <zlib.h>

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace usagedb::http {
namespace {

// The bodies worth compressing: the API's JSON, CSV and NDJSON, the
// dashboard's text files. Not images (PNG is compressed already).
bool compressible(std::string_view content_type) {
  return content_type.starts_with("text/") || content_type.starts_with("application/json") ||
         content_type.starts_with("application/x-ndjson") || content_type.starts_with("image/svg+xml");
}

}  // namespace

std::string gzip(std::string_view bytes, int level) {
  z_stream z{};
  // 16 + MAX_WBITS: a gzip header and trailer (not a raw zlib stream).
  if (deflateInit2(&z, level, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY) != Z_OK) return {};
  std::string out(deflateBound(&z, bytes.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  z.avail_in = static_cast<uInt>(bytes.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int result = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return result == Z_STREAM_END ? out : std::string();
}

bool accepts_gzip(std::string_view accept_encoding) {
  for (absl::string_view coding :
       absl::StrSplit(absl::string_view(accept_encoding.data(), accept_encoding.size()), ',')) {
    std::vector<absl::string_view> parts = absl::StrSplit(coding, ';');
    if (!absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(parts[0]), "gzip")) continue;
    for (size_t i = 1; i < parts.size(); ++i) {
      absl::string_view param = absl::StripAsciiWhitespace(parts[i]);
      if (!absl::ConsumePrefix(&param, "q=") && !absl::ConsumePrefix(&param, "Q=")) continue;
      double q = 1;
      if (absl::SimpleAtod(param, &q) && q <= 0) return false;
    }
    return true;
  }
  return false;
}

void encode_response(const httplib::Request& req, httplib::Response& res) {
  auto& headers = const_cast<httplib::Request&>(req).headers;
  const auto accept = headers.find("Accept-Encoding");
  if (accept == headers.end()) return;
  if (res.body.size() >= kMinGzipBytes && !res.has_header("Content-Encoding") &&
      compressible(res.get_header_value("Content-Type")) && accepts_gzip(accept->second)) {
    // Level 1: a few ms for the largest answers, and JSON still shrinks 4-8x.
    std::string compressed = gzip(res.body, 1);
    if (!compressed.empty() && compressed.size() < res.body.size()) {
      res.body = std::move(compressed);
      res.set_header("Content-Encoding", "gzip");
      res.set_header("Vary", "Accept-Encoding");
    }
  }
  headers.erase("Accept-Encoding");
}

}  // namespace usagedb::http
