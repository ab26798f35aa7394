// libFuzzer target for the streaming multipart/form-data reader
// (lib/http/multipart_source.h).
//
// The first input byte picks how the body is cut into reads (fuzz_support.h's
// split_points) and, by its lowest bit, the mode:
//   odd:  the rest is a body with boundary "b", read as the server reads one:
//         it may be refused (InvalidArgumentError only); when accepted, the
//         file part's field is one of the file fields and the file is never
//         longer than the body;
//   even: the rest is a file's content, sent in a well-formed body (a
//         boundary that does not occur in it, an extra field before it): the
//         file read back must be exactly the content, however the body is cut.
//
//   build-fuzz/tests/fuzz/multipart_fuzzer -max_total_time=300 tests/fuzz/corpus/multipart
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "lib/http/multipart_source.h"
#include "tests/fuzz/fuzz_support.h"

namespace usagedb::fuzz {
namespace {

// Yields the input in the given pieces.
class PieceSource : public http::ByteSource {
 public:
  PieceSource(std::string_view text, std::vector<size_t> pieces) : text_(text), pieces_(std::move(pieces)) {}
  absl::StatusOr<size_t> read(char* buf, size_t n) override {
    size_t k = text_.size() - pos_;
    if (next_ < pieces_.size()) k = std::min(k, pieces_[next_++]);
    k = std::min(k, n);
    std::memcpy(buf, text_.data() + pos_, k);
    pos_ += k;
    return k;
  }

 private:
  std::string_view text_;
  std::vector<size_t> pieces_;
  size_t next_ = 0;
  size_t pos_ = 0;
};

absl::StatusOr<std::string> read_file_part(std::string_view body, const std::string& boundary, uint8_t control,
                                           std::string* field) {
  PieceSource in(body, split_points(control, body));
  http::MultipartSource part(in, boundary, {"csv", "ndjson", "file"});
  std::string out;
  char buf[777];
  for (;;) {
    absl::StatusOr<size_t> got = part.read(buf, sizeof(buf));
    if (!got.ok()) return got.status();
    if (*got == 0) break;
    out.append(buf, *got);
  }
  *field = part.field_name();
  return out;
}

}  // namespace
}  // namespace usagedb::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace usagedb::fuzz;
  if (size == 0) return 0;
  const uint8_t control = data[0];
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string field;
  if (control & 1) {
    absl::StatusOr<std::string> file = read_file_part(input, "b", control, &field);
    if (!file.ok()) {
      CHECK(file.status().code() == absl::StatusCode::kInvalidArgument, "a refusal other than InvalidArgument");
      return 0;
    }
    CHECK(field == "csv" || field == "ndjson" || field == "file", "accepted a part that is no file field");
    CHECK(file->size() <= input.size(), "a file longer than its body");
    return 0;
  }
  std::string boundary = "Boundary";
  while (input.find(boundary) != std::string_view::npos) boundary += "x";
  const std::string content(input);
  const std::string body =
      absl::StrCat("preamble\r\n--", boundary, "\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nnote\r\n--",
                   boundary, "\r\nContent-Disposition: form-data; name=\"ndjson\"; filename=\"f\"\r\n\r\n", content,
                   "\r\n--", boundary, "--\r\nepilogue");
  absl::StatusOr<std::string> file = read_file_part(body, boundary, control, &field);
  CHECK(file.ok(), "a well-formed body was refused");
  CHECK(*file == input, "the file read back differs from what was sent");
  CHECK(field == "ndjson", "the wrong field");
  return 0;
}
