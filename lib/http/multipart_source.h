// MultipartSource: the file of a `multipart/form-data` body (RFC 7578), as
// `curl -F csv=@events.csv` and the Tinybird SDK's appendDatasource send it,
// read as it arrives: only the part's bytes pass through, never the whole
// body in memory.
//
//   absl::StatusOr<std::string> boundary = multipart_boundary(content_type);
//   MultipartSource file(body, *boundary, {"csv", "ndjson", "file"});
//   ... file.read(buf, n) ...            // the file's bytes, then 0
//   file.field_name();                   // "csv": says the format
//
// The body must hold exactly one part whose field name is one of
// `file_fields`; other fields are skipped. InvalidArgumentError for a
// malformed body (no opening boundary, part headers over 16 KiB or without a
// form-data Content-Disposition, a body that ends before its closing
// boundary), none or several file parts.
//
// Thread-safety: used by one thread at a time.
#ifndef USAGEDB_HTTP_MULTIPART_SOURCE_H_
#define USAGEDB_HTTP_MULTIPART_SOURCE_H_

#include <string>
#include <string_view>
#include <vector>

#include "lib/http/byte_source.h"

namespace usagedb::http {

// Whether a Content-Type is multipart/form-data (case-insensitive).
bool is_multipart_form_data(std::string_view content_type);

// The boundary parameter of a multipart/form-data Content-Type, unquoted.
// InvalidArgumentError when it is missing or not 1..70 characters.
absl::StatusOr<std::string> multipart_boundary(std::string_view content_type);

class MultipartSource : public ByteSource {
 public:
  MultipartSource(ByteSource& in, std::string boundary, std::vector<std::string> file_fields);

  // The file's bytes; after them, the rest of the body is checked (other
  // fields skipped, a second file refused) before 0 is returned.
  absl::StatusOr<size_t> read(char* buf, size_t n) override;

  // After the first read: the file part's field name and filename ("" when
  // it gave none).
  const std::string& field_name() const { return field_name_; }
  const std::string& filename() const { return filename_; }

  // Starts reading: finds the file part (skipping other fields). read() does
  // it when not done before; call it to know field_name() before reading.
  absl::Status open();

 private:
  enum class State { kStart, kFile, kAfterFile, kDone };
  // Reads more of `in_` into buf_ (after dropping consumed bytes); false at
  // the end of the input.
  absl::StatusOr<bool> fill();
  // Consumes up to the next delimiter, handing the bytes before it to `out`
  // (null: discard). Returns whether the delimiter closes the body (`--`).
  absl::StatusOr<bool> skip_to_delimiter();
  // After a delimiter: the part's headers; sets part_name_ and part_filename_.
  absl::Status read_part_headers();

  ByteSource& in_;
  const std::string delimiter_;  // "\r\n--" + boundary
  const std::vector<std::string> file_fields_;
  std::string buf_;
  size_t pos_ = 0;  // buf_[pos_, size) is unconsumed
  // The file part: where the next delimiter starts in buf_ (npos: not in it),
  // when delimiter_known_.
  size_t delimiter_at_ = 0;
  bool delimiter_known_ = false;
  bool input_done_ = false;
  State state_ = State::kStart;
  std::string part_name_;
  std::string part_filename_;
  std::string field_name_;
  std::string filename_;
};

}  // namespace usagedb::http

#endif  // USAGEDB_HTTP_MULTIPART_SOURCE_H_
