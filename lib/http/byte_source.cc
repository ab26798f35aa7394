#include "lib/http/byte_source.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "lib/util/text.h"

namespace usagedb::http {

absl::StatusOr<size_t> LengthSource::read(char* buf, size_t n) {
  if (left_ == 0) return 0;
  absl::StatusOr<size_t> got = in_.read(buf, static_cast<size_t>(std::min<uint64_t>(n, left_)));
  if (!got.ok()) return got.status();
  if (*got == 0) {
    return absl::UnavailableError(
        absl::StrCat("the connection ended ", left_, " bytes before the end of the body (Content-Length)"));
  }
  left_ -= *got;
  return got;
}

absl::Status ChunkedSource::read_line() {
  line_.clear();
  for (;;) {
    char c;
    absl::StatusOr<size_t> got = in_.read(&c, 1);
    if (!got.ok()) return got.status();
    if (*got == 0) return absl::UnavailableError("the connection ended inside a chunked body");
    if (c == '\n') {
      if (!line_.empty() && line_.back() == '\r') line_.pop_back();
      return absl::OkStatus();
    }
    if (line_.size() >= kMaxLine) return absl::InvalidArgumentError("chunked body: a chunk header line is too long");
    line_.push_back(c);
  }
}

absl::StatusOr<size_t> ChunkedSource::read(char* buf, size_t n) {
  while (!done_) {
    if (in_chunk_ && chunk_left_ > 0) {
      absl::StatusOr<size_t> got = in_.read(buf, static_cast<size_t>(std::min<uint64_t>(n, chunk_left_)));
      if (!got.ok()) return got.status();
      if (*got == 0) return absl::UnavailableError("the connection ended inside a chunk of the body");
      chunk_left_ -= *got;
      return got;
    }
    if (in_chunk_) {
      // The CRLF after a chunk's data.
      if (absl::Status s = read_line(); !s.ok()) return s;
      if (!line_.empty()) return absl::InvalidArgumentError("chunked body: a chunk's data is longer than its size");
      in_chunk_ = false;
    }
    if (absl::Status s = read_line(); !s.ok()) return s;
    // chunk-size [; extensions]
    const std::string_view header = line_;
    size_t digits = 0;
    uint64_t size = 0;
    while (digits < header.size()) {
      const char c = header[digits];
      int v;
      if (c >= '0' && c <= '9') {
        v = c - '0';
      } else if (c >= 'a' && c <= 'f') {
        v = c - 'a' + 10;
      } else if (c >= 'A' && c <= 'F') {
        v = c - 'A' + 10;
      } else {
        break;
      }
      if (size > (UINT64_MAX >> 4)) return absl::InvalidArgumentError("chunked body: a chunk size is too large");
      size = size * 16 + static_cast<uint64_t>(v);
      ++digits;
    }
    const std::string_view rest = header.substr(digits);
    if (digits == 0 || (!rest.empty() && rest[0] != ';' && rest[0] != ' ' && rest[0] != '\t')) {
      return absl::InvalidArgumentError(
          absl::StrCat("chunked body: expected a chunk size in hex, got '", text::excerpt(header), "'"));
    }
    if (size == 0) {
      // Trailer fields up to the empty line.
      for (;;) {
        if (absl::Status s = read_line(); !s.ok()) return s;
        if (line_.empty()) break;
      }
      done_ = true;
      break;
    }
    in_chunk_ = true;
    chunk_left_ = size;
  }
  return 0;
}

absl::StatusOr<size_t> LimitSource::read(char* buf, size_t n) {
  absl::StatusOr<size_t> got = in_.read(buf, n);
  if (!got.ok()) return got.status();
  count_ += *got;
  if (count_ > limit_) {
    return absl::ResourceExhaustedError(absl::StrCat(what_, " is over the limit of ", limit_, " bytes"));
  }
  return got;
}

absl::StatusOr<size_t> StringSource::read(char* buf, size_t n) {
  const size_t k = std::min(n, text_.size());
  std::memcpy(buf, text_.data(), k);
  text_.remove_prefix(k);
  return k;
}

absl::Status read_all(ByteSource& in, std::string* out) {
  char buf[64 << 10];
  for (;;) {
    absl::StatusOr<size_t> got = in.read(buf, sizeof(buf));
    if (!got.ok()) return got.status();
    if (*got == 0) return absl::OkStatus();
    out->append(buf, *got);
  }
}

absl::Status drain(ByteSource& in) {
  char buf[16 << 10];
  for (;;) {
    absl::StatusOr<size_t> got = in.read(buf, sizeof(buf));
    if (!got.ok()) return got.status();
    if (*got == 0) return absl::OkStatus();
  }
}

int http_status_of(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kResourceExhausted:
      return 413;
    case absl::StatusCode::kInvalidArgument:
      return 400;
    case absl::StatusCode::kDeadlineExceeded:
      return 408;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kFailedPrecondition:
      return 409;
    case absl::StatusCode::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

}  // namespace usagedb::http
