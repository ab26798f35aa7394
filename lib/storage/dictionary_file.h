// Dictionary segment files: the strings of codes [first_code, first_code +
// count) of one store-wide dictionary, appended at each checkpoint so a
// dictionary of millions of strings is never rewritten for a few new ones
// (rewritten whole only after a GDPR erase, so erased strings leave the disk).
//
// Format (framed_file.h, magic "UDBDICT1"), body:
//   byte column, varint first_code, varint count, then count entries:
//   version 2 (written): front coding, each string after the bytes it
//     shares with the one before (the empty string before the first, and
//     after an erased entry):
//     varint shared, varint (suffix_length << 1 | erased), suffix bytes
//     (an erased entry: 0, 1). Codes assigned in arrival order share long
//     prefixes: the 2.8M session strings of a 10M-event store
//     ("session_1234567") take ~9 MB instead of ~43 MB. A segment whose
//     strings would take more than 256x its entries' bytes (+ 64 MiB) is
//     refused as damaged.
//   version 1 (still read): varint (length << 1 | erased), then `length`
//     bytes unless erased.
//
//   std::string bytes = encode_dictionary_segment(DictionaryColumn::kUser, dict, 0, dict.size());
//   auto segment = decode_dictionary_segment(bytes, path);   // strings view into bytes
//
// Thread-safety: pure functions.
#ifndef USAGEDB_STORAGE_DICTIONARY_FILE_H_
#define USAGEDB_STORAGE_DICTIONARY_FILE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/storage/framed_file.h"
#include "lib/table/dictionary.h"
#include "lib/table/row.h"

namespace usagedb::storage {

struct DictionarySegment {
  DictionaryColumn column;
  uint64_t first_code;
  std::vector<std::string_view> strings;  // into `storage`, or into the decoded bytes when it is null
  std::vector<bool> erased;
  std::unique_ptr<std::string> storage;  // version 2: the strings, rebuilt from their shared prefixes
};

// REQUIRES: first_code + count <= dict.size().
std::string encode_dictionary_segment(DictionaryColumn column, const Dictionary& dict, uint32_t first_code,
                                      uint32_t count);
// The same bytes handed to `write` in pieces (never the whole segment in
// memory at once); the number of bytes written, or the first error of `write`.
absl::StatusOr<uint64_t> write_dictionary_segment(DictionaryColumn column, const Dictionary& dict, uint32_t first_code,
                                                  uint32_t count, const FrameWriter::Write& write);

absl::StatusOr<DictionarySegment> decode_dictionary_segment(std::string_view bytes, std::string_view path);

}  // namespace usagedb::storage

#endif  // USAGEDB_STORAGE_DICTIONARY_FILE_H_
