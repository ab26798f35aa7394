#include "lib/http/request_body.h"

#include <charconv>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "lib/http/gzip_source.h"
#include "lib/util/text.h"

namespace usagedb::http {
namespace {

// The connection's bytes after the headers.
class StreamSource : public ByteSource {
 public:
  StreamSource(ConnectionStream& stream, std::chrono::milliseconds timeout) : stream_(stream), timeout_(timeout) {}
  absl::StatusOr<size_t> read(char* buf, size_t n) override {
    const ssize_t got = stream_.read(buf, n);
    if (got >= 0) return static_cast<size_t>(got);
    if (stream_.failure() == ConnectionStream::Failure::kTimeout) {
      return absl::DeadlineExceededError(
          absl::StrCat("the client sent no body bytes for ", timeout_.count(), " ms (body timeout)"));
    }
    return absl::UnavailableError("the connection failed while the body was read");
  }

 private:
  ConnectionStream& stream_;
  const std::chrono::milliseconds timeout_;
};

// Marks the request's body as read once its framing reaches the end.
class EndWatch : public ByteSource {
 public:
  EndWatch(std::unique_ptr<ByteSource> in, RequestState& state) : in_(std::move(in)), state_(state) {}
  absl::StatusOr<size_t> read(char* buf, size_t n) override {
    absl::StatusOr<size_t> got = in_->read(buf, n);
    if (got.ok() && *got == 0) state_.body_done = true;
    return got;
  }

 private:
  std::unique_ptr<ByteSource> in_;
  RequestState& state_;
};

std::string lower(std::string_view s) { return absl::AsciiStrToLower(text::absl_view(s)); }

}  // namespace

absl::StatusOr<std::optional<uint64_t>> content_length(const RequestHeaders& headers) {
  if (headers.content_length == nullptr) return std::optional<uint64_t>();
  const std::string& text = *headers.content_length;
  uint64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("Content-Length: expected a number of bytes, got '", text::excerpt(text), "'"));
  }
  return std::optional<uint64_t>(n);
}

absl::StatusOr<std::unique_ptr<RequestBody>> RequestBody::open(Exchange& ex, uint64_t limit) {
  std::unique_ptr<RequestBody> body(new RequestBody());
  ConnectionStream& stream = *ex.state.connection->stream;
  body->connection_ = std::make_unique<StreamSource>(stream, ex.server.options.body_timeout);
  const std::string transfer = lower(RequestHeaders::value(ex.state.headers.transfer_encoding));
  absl::StatusOr<std::optional<uint64_t>> length = content_length(ex.state.headers);
  if (!length.ok()) return length.status();
  std::unique_ptr<ByteSource> framing;
  if (!transfer.empty()) {
    if (transfer != "chunked") {
      return absl::InvalidArgumentError(
          absl::StrCat("Transfer-Encoding: '", text::excerpt(transfer), "' is not supported (only chunked)"));
    }
    if (length->has_value()) {
      return absl::InvalidArgumentError("a request may not have both Content-Length and Transfer-Encoding");
    }
    framing = std::make_unique<ChunkedSource>(*body->connection_);
  } else {
    framing = std::make_unique<LengthSource>(*body->connection_, length->value_or(0));
  }
  body->framing_ = std::make_unique<EndWatch>(std::move(framing), ex.state);
  body->sent_limit_ = std::make_unique<LimitSource>(*body->framing_, limit, "the request body");
  body->top_ = body->sent_limit_.get();
  const std::string encoding = lower(RequestHeaders::value(ex.state.headers.content_encoding));
  if (encoding.empty() || encoding == "identity") body->size_hint_ = length->value_or(0);
  if (encoding == "gzip" || encoding == "x-gzip") {
    body->gzip_ = std::make_unique<GzipSource>(*body->sent_limit_);
    body->inflated_limit_ =
        std::make_unique<LimitSource>(*body->gzip_, limit, "the request body after gzip decompression");
    body->top_ = body->inflated_limit_.get();
  } else if (!encoding.empty() && encoding != "identity") {
    return absl::InvalidArgumentError(
        absl::StrCat("Content-Encoding: '", text::excerpt(encoding), "' is not supported (send gzip or no encoding)"));
  }
  return body;
}

absl::StatusOr<std::string> RequestBody::read_all() {
  std::string text;
  text.reserve(size_hint_);
  if (absl::Status s = http::read_all(source(), &text); !s.ok()) return s;
  return text;
}

absl::StatusOr<bool> RequestBody::read_prefix(size_t max_bytes, InputBuffer* prefix) {
  // Room for the Content-Length when it is known, else for a small body;
  // when the room is full, a probe into a local buffer tells whether the
  // body ended (the common case: no growth, no copy) before growing it.
  size_t room = std::min<uint64_t>(max_bytes, size_hint_ > 0 ? size_hint_ : 64 << 10);
  size_t read = 0;
  for (;;) {
    if (room == 0) {
      if (read >= max_bytes) return false;
      char probe[4096];
      absl::StatusOr<size_t> got = source().read(probe, std::min(sizeof(probe), max_bytes - read));
      if (!got.ok()) return got.status();
      if (*got == 0) return true;
      std::memcpy(prefix->room(*got), probe, *got);
      prefix->commit(*got);
      read += *got;
      room = std::min(max_bytes - read, std::max<size_t>(read, 4096));
      continue;
    }
    absl::StatusOr<size_t> got = source().read(prefix->room(room), room);
    if (!got.ok()) return got.status();
    if (*got == 0) return true;
    prefix->commit(*got);
    read += *got;
    room -= *got;
  }
}

InputSource input_source(std::string_view prefix, ByteSource& rest) {
  auto offset = std::make_shared<size_t>(0);
  return [prefix, &rest, offset](char* buf, size_t size) -> absl::StatusOr<size_t> {
    if (*offset < prefix.size()) {
      const size_t k = std::min(size, prefix.size() - *offset);
      std::memcpy(buf, prefix.data() + *offset, k);
      *offset += k;
      return k;
    }
    return rest.read(buf, size);
  };
}

}  // namespace usagedb::http
