// Framing of the small self-describing files of a store (manifest,
// dictionary segments): magic, format version, body, checksum.
//
//   [magic: 8 bytes][version: fixed32][body ...][xxh3 checksum of all
//   preceding bytes: fixed64]
//
// A reader checks the magic (a misplaced file), the version (a store written
// by a newer usagedb), the length and the checksum, and only then looks at
// the body: every failure is a DataLossError naming the file and what is
// wrong.
//
//   std::string bytes = frame_file(kManifestMagic, 1, body);
//   absl::StatusOr<FramedBody> b = unframe_file(bytes, kManifestMagic, 1, path);
//
// Thread-safety: pure functions.
#ifndef USAGEDB_STORAGE_FRAMED_FILE_H_
#define USAGEDB_STORAGE_FRAMED_FILE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "lib/util/hash.h"

namespace usagedb::storage {

struct FramedBody {
  uint32_t version;
  std::string_view body;  // points into the bytes given to unframe_file
};

// REQUIRES: magic.size() == 8.
std::string frame_file(std::string_view magic, uint32_t version, std::string_view body);

// frame_file()'s bytes handed to `write` in pieces of about kPieceBytes,
// for a body too large to hold whole (the session dictionary's segment):
//   FrameWriter w(magic, version, [&](std::string_view piece) { return file->append(piece); });
//   w.body()->append(...);  USAGEDB_RETURN_IF_ERROR(w.flush_if_large());  ...
//   USAGEDB_RETURN_IF_ERROR(w.finish());
class FrameWriter {
 public:
  static constexpr size_t kPieceBytes = 1 << 20;
  using Write = std::function<absl::Status(std::string_view piece)>;
  // REQUIRES: magic.size() == 8.
  FrameWriter(std::string_view magic, uint32_t version, Write write);
  // Where the caller appends the body's next bytes.
  std::string* body() { return &piece_; }
  // Hands the bytes appended so far to `write` once they reach kPieceBytes.
  absl::Status flush_if_large() { return piece_.size() >= kPieceBytes ? flush() : absl::OkStatus(); }
  // Hands the rest and the checksum to `write`.
  absl::Status finish();
  // Bytes handed to `write` so far.
  uint64_t bytes_written() const { return written_; }

 private:
  absl::Status flush();

  Write write_;
  hash::Checksum checksum_;
  std::string piece_;
  uint64_t written_ = 0;
};

// Accepts versions 1..max_version.
absl::StatusOr<FramedBody> unframe_file(std::string_view bytes, std::string_view magic, uint32_t max_version,
                                        std::string_view path);

}  // namespace usagedb::storage

#endif  // USAGEDB_STORAGE_FRAMED_FILE_H_
