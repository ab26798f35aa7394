#include "lib/http/gzip_source.h"

#include <zlib.h>

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace usagedb::http {

struct GzipSource::State {
  z_stream z{};
  bool initialized = false;
  bool member_open = false;  // inside a gzip member (between its header and trailer)
  bool input_done = false;
  char input[64 << 10];
};

GzipSource::GzipSource(ByteSource& in) : in_(in), state_(std::make_unique<State>()) {
  // 16 + MAX_WBITS: the gzip format only (not raw deflate or zlib).
  state_->initialized = inflateInit2(&state_->z, 16 + MAX_WBITS) == Z_OK;
}

GzipSource::~GzipSource() {
  if (state_->initialized) inflateEnd(&state_->z);
}

absl::StatusOr<size_t> GzipSource::read(char* buf, size_t n) {
  State& s = *state_;
  if (!s.initialized) return absl::InternalError("zlib: inflateInit2 failed");
  z_stream& z = s.z;
  z.next_out = reinterpret_cast<Bytef*>(buf);
  z.avail_out = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
  for (;;) {
    if (z.avail_in == 0 && !s.input_done) {
      absl::StatusOr<size_t> got = in_.read(s.input, sizeof(s.input));
      if (!got.ok()) return got.status();
      if (*got == 0) {
        s.input_done = true;
      } else {
        z.next_in = reinterpret_cast<Bytef*>(s.input);
        z.avail_in = static_cast<uInt>(*got);
      }
    }
    if (z.avail_in == 0 && s.input_done) {
      if (s.member_open) return absl::InvalidArgumentError("gzip body: the data ends inside a gzip member (truncated)");
      return 0;
    }
    s.member_open = true;
    const int rc = inflate(&z, Z_NO_FLUSH);
    if (rc == Z_STREAM_END) {
      // The member is complete; another may follow.
      s.member_open = false;
      inflateReset(&z);
    } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
      return absl::InvalidArgumentError(
          absl::StrCat("gzip body: not valid gzip data (", z.msg != nullptr ? z.msg : "zlib error", ")"));
    }
    const size_t produced = static_cast<size_t>(reinterpret_cast<char*>(z.next_out) - buf);
    if (produced > 0) return produced;
  }
}

}  // namespace usagedb::http
