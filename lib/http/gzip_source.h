// GzipSource: a `Content-Encoding: gzip` body inflated as it is read
// (zlib), in bounded memory whatever the body's size.
//
//   LimitSource sent(body, max_bytes, "the body");
//   GzipSource inflated(sent);
//   LimitSource decoded(inflated, max_bytes, "the body after gzip decompression");
//
// Concatenated gzip members (`cat a.gz b.gz`) are one stream, as gunzip
// reads them. InvalidArgumentError for data that is not gzip, is corrupt,
// or ends inside a member.
//
// Thread-safety: used by one thread at a time.
#ifndef USAGEDB_HTTP_GZIP_SOURCE_H_
#define USAGEDB_HTTP_GZIP_SOURCE_H_

#include <memory>

#include "lib/http/byte_source.h"

namespace usagedb::http {

class GzipSource : public ByteSource {
 public:
  explicit GzipSource(ByteSource& in);
  ~GzipSource() override;
  absl::StatusOr<size_t> read(char* buf, size_t n) override;

 private:
  struct State;  // zlib's z_stream, kept out of this header
  ByteSource& in_;
  std::unique_ptr<State> state_;
};

}  // namespace usagedb::http

#endif  // USAGEDB_HTTP_GZIP_SOURCE_H_
