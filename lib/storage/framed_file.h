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
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace usagedb::storage {

struct FramedBody {
  uint32_t version;
  std::string_view body;  // points into the bytes given to unframe_file
};

// REQUIRES: magic.size() == 8.
std::string frame_file(std::string_view magic, uint32_t version, std::string_view body);

// frame_file() without a copy of a large body: begin_frame() starts `out`
// with the header (with room reserved for `body_bytes` of body and the
// checksum), the caller appends the body, end_frame() appends the checksum.
// The bytes are those of frame_file(magic, version, body).
void begin_frame(std::string_view magic, uint32_t version, size_t body_bytes, std::string* out);
void end_frame(std::string* out);

// Accepts versions 1..max_version.
absl::StatusOr<FramedBody> unframe_file(std::string_view bytes, std::string_view magic, uint32_t max_version,
                                        std::string_view path);

}  // namespace usagedb::storage

#endif  // USAGEDB_STORAGE_FRAMED_FILE_H_
