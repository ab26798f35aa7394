// RequestBody: the body of the request being served, decoded as it is read:
//
//   connection -> Content-Length or chunked framing -> limit (bytes as sent)
//              -> gzip (Content-Encoding: gzip) -> limit (bytes inflated)
//
// (lib/http/byte_source.h). The limit is the route's: max_body_bytes, or
// max_file_bytes for POST /v0/datasources. A Content-Length over it was
// refused by admission before any byte was read; a chunked or gzip body is
// refused (413) the moment it crosses it.
//
//   absl::StatusOr<std::unique_ptr<RequestBody>> body = RequestBody::open(ex, limit);
//   ... (*body)->source().read(buf, n) ...
//
// When the handler stops before the body's end, the connection is closed
// after the answer (what is left of the body cannot be skipped cheaply).
//
// Thread-safety: used by the thread serving the request.
#ifndef USAGEDB_HTTP_REQUEST_BODY_H_
#define USAGEDB_HTTP_REQUEST_BODY_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "lib/http/byte_source.h"
#include "lib/http/exchange.h"
#include "lib/util/input_buffer.h"

namespace usagedb::http {

class RequestBody {
 public:
  // InvalidArgumentError (400) for a Transfer-Encoding other than chunked,
  // both Content-Length and Transfer-Encoding, a malformed Content-Length,
  // or a Content-Encoding other than gzip or identity.
  static absl::StatusOr<std::unique_ptr<RequestBody>> open(Exchange& ex, uint64_t limit);

  // The decoded bytes.
  ByteSource& source() { return *top_; }

  // Reads the whole (decoded) body into a string. Only for bodies bounded
  // by max_body_bytes.
  absl::StatusOr<std::string> read_all();

  // Reads up to `max_bytes` of the decoded body into *prefix (appended);
  // true when that was the whole body.
  absl::StatusOr<bool> read_prefix(size_t max_bytes, InputBuffer* prefix);

  // The body's size as sent, when its Content-Length gives it and it is not
  // compressed (a hint for the store's bulk path); 0 otherwise.
  uint64_t size_hint() const { return size_hint_; }

 private:
  RequestBody() = default;
  std::unique_ptr<ByteSource> connection_;
  std::unique_ptr<ByteSource> framing_;
  std::unique_ptr<ByteSource> sent_limit_;
  std::unique_ptr<ByteSource> gzip_;
  std::unique_ptr<ByteSource> inflated_limit_;
  ByteSource* top_ = nullptr;
  uint64_t size_hint_ = 0;
};

// An InputSource (EventStore::ingest_stream) yielding `prefix`, then the rest
// of `rest`. Both must outlive it.
InputSource input_source(std::string_view prefix, ByteSource& rest);

// The length a request's Content-Length header gives, nullopt when absent.
// InvalidArgumentError when it is not a decimal number.
absl::StatusOr<std::optional<uint64_t>> content_length(const RequestHeaders& headers);

}  // namespace usagedb::http

#endif  // USAGEDB_HTTP_REQUEST_BODY_H_
