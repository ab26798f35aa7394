#include "lib/storage/framed_file.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/util/coding.h"
#include "lib/util/hash.h"
#include "lib/util/text.h"

namespace usagedb::storage {
namespace {

// The bytes before the body: magic, then the format version.
void put_header(std::string_view magic, uint32_t version, std::string* out) {
  out->append(magic);
  coding::put_fixed32(out, version);
}

}  // namespace

std::string frame_file(std::string_view magic, uint32_t version, std::string_view body) {
  std::string out;
  out.reserve(magic.size() + 4 + body.size() + 8);
  put_header(magic, version, &out);
  out.append(body);
  coding::put_fixed64(&out, hash::checksum(out));
  return out;
}

FrameWriter::FrameWriter(std::string_view magic, uint32_t version, Write write) : write_(std::move(write)) {
  piece_.reserve(kPieceBytes + (kPieceBytes >> 4));
  put_header(magic, version, &piece_);
}

absl::Status FrameWriter::flush() {
  checksum_.update(piece_);
  written_ += piece_.size();
  absl::Status s = write_(piece_);
  piece_.clear();
  return s;
}

absl::Status FrameWriter::finish() {
  if (absl::Status s = flush(); !s.ok()) return s;
  coding::put_fixed64(&piece_, checksum_.digest());
  written_ += piece_.size();
  absl::Status s = write_(piece_);
  piece_.clear();
  return s;
}

absl::StatusOr<FramedBody> unframe_file(std::string_view bytes, std::string_view magic, uint32_t max_version,
                                        std::string_view path) {
  auto loss = [&](std::string_view what) {
    return absl::DataLossError(absl::StrCat(text::absl_view(path), ": ", text::absl_view(what)));
  };
  if (bytes.size() < magic.size() + 4 + 8) return loss(absl::StrCat("truncated (", bytes.size(), " bytes)"));
  if (bytes.substr(0, magic.size()) != magic) {
    return loss(absl::StrCat("not a ", text::absl_view(magic), " file (bad magic)"));
  }
  const uint64_t stored = coding::decode_fixed64(bytes.data() + bytes.size() - 8);
  if (stored != hash::checksum(bytes.substr(0, bytes.size() - 8))) return loss("checksum mismatch");
  const uint32_t version = coding::decode_fixed32(bytes.data() + magic.size());
  if (version < 1 || version > max_version) {
    return loss(absl::StrCat("format version ", version, " is not supported (this usagedb reads 1..", max_version,
                             ")"));
  }
  return FramedBody{version, bytes.substr(magic.size() + 4, bytes.size() - magic.size() - 4 - 8)};
}

}  // namespace usagedb::storage
