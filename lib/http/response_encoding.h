// How response bodies are compressed: gzip, chosen by the server.
//
// httplib compresses every text body itself, as the request's Accept-Encoding
// allows, preferring Brotli at its slowest quality (11): about a second of
// CPU for a 270 KB JSON answer, which browsers (`Accept-Encoding: gzip,
// deflate, br`) would wait for on every request. Instead, encode_response()
// (called once a request is answered, before httplib writes it) gzips a body of a compressible
// type of at least kMinGzipBytes at a fast level when the request accepts
// gzip, and then removes the request's Accept-Encoding so that httplib sends
// the body as chosen. The dashboard's files come gzipped at the best level,
// once (lib/http/dashboard.h).
//
//   encode_response(req, res);  // res.body gzipped, Content-Encoding: gzip, Vary
//
// Thread-safety: pure functions over one request and its response.
#ifndef USAGEDB_HTTP_RESPONSE_ENCODING_H_
#define USAGEDB_HTTP_RESPONSE_ENCODING_H_

#include <string>
#include <string_view>

#include "lib/http/cpp_httplib.h"

namespace usagedb::http {

// Smaller bodies are sent as they are (a gzip header and trailer are 18 bytes).
inline constexpr size_t kMinGzipBytes = 1024;

// `bytes` in the gzip format at zlib `level` (1 fastest .. 9 smallest); ""
// if zlib fails.
std::string gzip(std::string_view bytes, int level);

// Whether an Accept-Encoding header value accepts gzip (a `gzip` coding
// without `q=0`).
bool accepts_gzip(std::string_view accept_encoding);

// Compresses `res`'s body as described above, unless it already has a
// Content-Encoding; in every case leaves httplib nothing to compress.
// `req` is the server's own request object, done with once answered.
void encode_response(const httplib::Request& req, httplib::Response& res);

}  // namespace usagedb::http

#endif  // USAGEDB_HTTP_RESPONSE_ENCODING_H_
