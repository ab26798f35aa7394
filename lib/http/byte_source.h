// ByteSource: a request body pulled through the layers that decode it.
//
// A body is read as a chain of sources, each pulling from the one below:
//
//   connection -> LengthSource or ChunkedSource (HTTP framing)
//              -> LimitSource (the bytes as sent)
//              -> GzipSource (Content-Encoding: gzip; lib/http/gzip_source.h)
//              -> LimitSource (the bytes after inflation)
//              -> MultipartSource (a multipart/form-data file; multipart_source.h)
//              -> the store's ingest
//
// so memory stays at each layer's buffer whatever the body's size, and a
// body over its limit is refused as soon as it crosses it.
//
// Errors tell the HTTP status (http_status_of): ResourceExhaustedError a
// limit (413), InvalidArgumentError malformed input (400),
// DeadlineExceededError a client too slow (408), UnavailableError a
// connection that failed or closed early (no answer can reach the client).
//
// Thread-safety: a source is used by one thread at a time.
#ifndef USAGEDB_HTTP_BYTE_SOURCE_H_
#define USAGEDB_HTTP_BYTE_SOURCE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace usagedb::http {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to `n` (> 0) bytes into `buf`: how many, 0 only at the end.
  virtual absl::StatusOr<size_t> read(char* buf, size_t n) = 0;
};

// Exactly `length` bytes of `in` (a Content-Length body). UnavailableError
// when `in` ends first.
class LengthSource : public ByteSource {
 public:
  LengthSource(ByteSource& in, uint64_t length) : in_(in), left_(length) {}
  absl::StatusOr<size_t> read(char* buf, size_t n) override;

 private:
  ByteSource& in_;
  uint64_t left_;
};

// The data of a `Transfer-Encoding: chunked` body (RFC 9112 section 7.1):
// chunk sizes in hex with optional extensions, the chunks, the last chunk,
// trailer fields (skipped). It reads `in` no further than the body's end, so
// the next request on the connection is intact. InvalidArgumentError for
// malformed framing.
class ChunkedSource : public ByteSource {
 public:
  explicit ChunkedSource(ByteSource& in) : in_(in) {}
  absl::StatusOr<size_t> read(char* buf, size_t n) override;

 private:
  // Reads one line ending in CRLF (or LF) into line_; at most kMaxLine bytes.
  absl::Status read_line();
  static constexpr size_t kMaxLine = 4096;

  ByteSource& in_;
  std::string line_;
  uint64_t chunk_left_ = 0;
  bool in_chunk_ = false;
  bool done_ = false;
};

// `in`, refused with ResourceExhaustedError("<what> is over <limit>
// bytes") as soon as more than `limit` bytes come through.
class LimitSource : public ByteSource {
 public:
  LimitSource(ByteSource& in, uint64_t limit, std::string what) : in_(in), limit_(limit), what_(std::move(what)) {}
  absl::StatusOr<size_t> read(char* buf, size_t n) override;
  uint64_t bytes() const { return count_; }

 private:
  ByteSource& in_;
  uint64_t limit_;
  std::string what_;
  uint64_t count_ = 0;
};

// A string as a source (tests, and bodies already in memory).
class StringSource : public ByteSource {
 public:
  explicit StringSource(std::string_view text) : text_(text) {}
  absl::StatusOr<size_t> read(char* buf, size_t n) override;

 private:
  std::string_view text_;
};

// Appends everything `in` yields to `*out`.
absl::Status read_all(ByteSource& in, std::string* out);

// Reads `in` to its end, discarding the bytes.
absl::Status drain(ByteSource& in);

// The HTTP status for a body or request error: 413, 400, 408, 404, 403, 401,
// 409, 503, else 500.
int http_status_of(const absl::Status& status);

}  // namespace usagedb::http

#endif  // USAGEDB_HTTP_BYTE_SOURCE_H_
