#include "lib/http/multipart_source.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "lib/util/text.h"

namespace usagedb::http {
namespace {

constexpr size_t kReadBytes = 64 << 10;
constexpr size_t kMaxPartHeaderBytes = 16 << 10;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  return absl::EqualsIgnoreCase(text::absl_view(a), text::absl_view(b));
}

// A header parameter's value: a token or a quoted-string (backslash escapes).
std::string parameter_value(std::string_view v) {
  v = trim(v);
  if (v.size() < 2 || v.front() != '"') return std::string(v);
  std::string out;
  for (size_t i = 1; i < v.size(); ++i) {
    if (v[i] == '"') break;
    if (v[i] == '\\' && i + 1 < v.size()) ++i;
    out.push_back(v[i]);
  }
  return out;
}

// Splits "type; a=1; b=\"x;y\"" at the semicolons outside quotes, calling
// `f(name, value)` for each parameter (the first piece, the type, is skipped).
template <typename F>
void for_each_parameter(std::string_view header, F f) {
  bool quoted = false;
  size_t start = 0;
  bool first = true;
  for (size_t i = 0; i <= header.size(); ++i) {
    if (i < header.size()) {
      if (header[i] == '"') quoted = !quoted;
      if (header[i] == '\\' && quoted) {
        ++i;
        continue;
      }
      if (header[i] != ';' || quoted) continue;
    }
    const std::string_view piece = trim(header.substr(start, i - start));
    start = i + 1;
    if (first) {
      first = false;
      continue;
    }
    const size_t eq = piece.find('=');
    if (eq == std::string_view::npos) continue;
    f(trim(piece.substr(0, eq)), piece.substr(eq + 1));
  }
}

}  // namespace

bool is_multipart_form_data(std::string_view content_type) {
  const std::string_view type = trim(content_type.substr(0, content_type.find(';')));
  return iequals(type, "multipart/form-data");
}

absl::StatusOr<std::string> multipart_boundary(std::string_view content_type) {
  std::string boundary;
  bool found = false;
  for_each_parameter(content_type, [&](std::string_view name, std::string_view value) {
    if (!found && iequals(name, "boundary")) {
      boundary = parameter_value(value);
      found = true;
    }
  });
  if (!found || boundary.empty() || boundary.size() > 70) {
    return absl::InvalidArgumentError(
        absl::StrCat("Content-Type: a multipart/form-data body needs a boundary parameter of 1 to 70 characters, got '",
                     text::excerpt(content_type), "'"));
  }
  return boundary;
}

MultipartSource::MultipartSource(ByteSource& in, std::string boundary, std::vector<std::string> file_fields)
    : in_(in), delimiter_("\r\n--" + boundary), file_fields_(std::move(file_fields)), buf_("\r\n") {}

absl::StatusOr<bool> MultipartSource::fill() {
  if (input_done_) return false;
  buf_.erase(0, pos_);
  pos_ = 0;
  delimiter_known_ = false;
  const size_t old = buf_.size();
  buf_.resize(old + kReadBytes);
  absl::StatusOr<size_t> got = in_.read(buf_.data() + old, kReadBytes);
  buf_.resize(old + (got.ok() ? *got : 0));
  if (!got.ok()) return got.status();
  if (*got == 0) input_done_ = true;
  return *got != 0;
}

absl::StatusOr<bool> MultipartSource::skip_to_delimiter() {
  for (;;) {
    const size_t d = buf_.find(delimiter_, pos_);
    if (d != std::string::npos) {
      pos_ = d + delimiter_.size();
      // "--" closes the body; otherwise optional padding, then CRLF.
      for (;;) {
        const std::string_view rest = std::string_view(buf_).substr(pos_);
        if (rest.size() >= 2 && rest.substr(0, 2) == "--") {
          pos_ += 2;
          return true;
        }
        size_t i = 0;
        while (i < rest.size() && (rest[i] == ' ' || rest[i] == '\t')) ++i;
        if (i + 2 <= rest.size()) {
          if (rest.substr(i, 2) != "\r\n") {
            return absl::InvalidArgumentError("multipart body: a boundary line is not followed by CRLF");
          }
          pos_ += i + 2;
          return false;
        }
        if (i > 1024) return absl::InvalidArgumentError("multipart body: a boundary line is too long");
        absl::StatusOr<bool> more = fill();
        if (!more.ok()) return more.status();
        if (!*more) return absl::InvalidArgumentError("multipart body: it ends inside a boundary line");
      }
    }
    // Keep what could be the start of a delimiter.
    pos_ = std::max(pos_, buf_.size() - std::min(buf_.size(), delimiter_.size() - 1));
    absl::StatusOr<bool> more = fill();
    if (!more.ok()) return more.status();
    if (!*more) return absl::InvalidArgumentError("multipart body: it ends before its closing boundary");
  }
}

absl::Status MultipartSource::read_part_headers() {
  part_name_.clear();
  part_filename_.clear();
  bool disposition = false;
  size_t header_bytes = 0;
  for (;;) {
    const size_t eol = buf_.find("\r\n", pos_);
    if (eol == std::string::npos) {
      if (buf_.size() - pos_ > kMaxPartHeaderBytes) {
        return absl::InvalidArgumentError("multipart body: a part's headers are over 16 KiB");
      }
      absl::StatusOr<bool> more = fill();
      if (!more.ok()) return more.status();
      if (!*more) return absl::InvalidArgumentError("multipart body: it ends inside a part's headers");
      continue;
    }
    const std::string_view line = std::string_view(buf_).substr(pos_, eol - pos_);
    header_bytes += line.size() + 2;
    pos_ = eol + 2;
    if (header_bytes > kMaxPartHeaderBytes) {
      return absl::InvalidArgumentError("multipart body: a part's headers are over 16 KiB");
    }
    if (line.empty()) break;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    if (!iequals(trim(line.substr(0, colon)), "Content-Disposition")) continue;
    const std::string_view value = trim(line.substr(colon + 1));
    if (!iequals(trim(value.substr(0, value.find(';'))), "form-data")) continue;
    disposition = true;
    for_each_parameter(value, [&](std::string_view name, std::string_view v) {
      if (iequals(name, "name")) part_name_ = parameter_value(v);
      if (iequals(name, "filename")) part_filename_ = parameter_value(v);
    });
  }
  if (!disposition) {
    return absl::InvalidArgumentError("multipart body: a part has no Content-Disposition: form-data header");
  }
  return absl::OkStatus();
}

absl::Status MultipartSource::open() {
  if (state_ != State::kStart) return absl::OkStatus();
  absl::StatusOr<bool> closed = skip_to_delimiter();  // the preamble
  std::string skipped;
  for (;;) {
    if (!closed.ok()) return closed.status();
    if (*closed) break;
    if (absl::Status s = read_part_headers(); !s.ok()) return s;
    if (std::find(file_fields_.begin(), file_fields_.end(), part_name_) != file_fields_.end()) {
      field_name_ = part_name_;
      filename_ = part_filename_;
      state_ = State::kFile;
      return absl::OkStatus();
    }
    if (!skipped.empty()) skipped += ", ";
    skipped += text::excerpt(part_name_);
    closed = skip_to_delimiter();
  }
  std::string expected;
  for (const std::string& f : file_fields_) absl::StrAppend(&expected, expected.empty() ? "" : ", ", f);
  return absl::InvalidArgumentError(absl::StrCat("multipart body: no file field (expected one of ", expected, ")",
                                                 skipped.empty() ? "" : absl::StrCat("; it has ", skipped)));
}

absl::StatusOr<size_t> MultipartSource::read(char* out, size_t n) {
  if (absl::Status s = open(); !s.ok()) return s;
  while (state_ == State::kFile) {
    // Searched once per fill: reads of any size do not rescan the buffer.
    if (!delimiter_known_) {
      delimiter_at_ = buf_.find(delimiter_, pos_);
      delimiter_known_ = true;
    }
    const size_t d = delimiter_at_;
    const size_t keep = delimiter_.size() - 1;
    const size_t end = d != std::string::npos ? d : (buf_.size() > pos_ + keep ? buf_.size() - keep : pos_);
    if (end > pos_) {
      const size_t k = std::min(n, end - pos_);
      std::memcpy(out, buf_.data() + pos_, k);
      pos_ += k;
      return k;
    }
    if (d == pos_) {
      delimiter_known_ = false;
      absl::StatusOr<bool> closed = skip_to_delimiter();
      if (!closed.ok()) return closed.status();
      state_ = *closed ? State::kDone : State::kAfterFile;
      break;
    }
    absl::StatusOr<bool> more = fill();
    if (!more.ok()) return more.status();
    if (!*more) return absl::InvalidArgumentError("multipart body: it ends inside the file part");
  }
  while (state_ == State::kAfterFile) {
    if (absl::Status s = read_part_headers(); !s.ok()) return s;
    if (std::find(file_fields_.begin(), file_fields_.end(), part_name_) != file_fields_.end()) {
      return absl::InvalidArgumentError(absl::StrCat("multipart body: a second file field ('",
                                                     text::excerpt(part_name_), "'): send one file per request"));
    }
    absl::StatusOr<bool> closed = skip_to_delimiter();
    if (!closed.ok()) return closed.status();
    if (*closed) state_ = State::kDone;
  }
  // The epilogue, read so the connection is ready for its next request.
  pos_ = buf_.size();
  for (;;) {
    absl::StatusOr<bool> more = fill();
    if (!more.ok()) return more.status();
    if (!*more) return 0;
    pos_ = buf_.size();
  }
}

}  // namespace usagedb::http
