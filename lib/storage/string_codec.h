// Encodings of a StringColumn in a part file (see part_format.md): the
// string count, the total byte count, the lengths as integer blocks
// (int_codec.h's kFor) and then the concatenated bytes, zstd-compressed or
// as they are when zstd does not make them smaller; or, for columns of
// sequence-numbered ids (evt_1, evt_2, ...), the common prefix and the
// numbers' deltas, several times smaller and faster to decode than zstd.
//
//   std::string out;
//   StringEncoding e = encode_strings(part.columns().event_id, &out);
//   absl::StatusOr<StringColumn> back = decode_strings(e, out);
//
// Pure functions, thread-safe.
#ifndef USAGEDB_STORAGE_STRING_CODEC_H_
#define USAGEDB_STORAGE_STRING_CODEC_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "lib/table/string_column.h"

namespace usagedb::storage {

// The persisted id of each encoding: never renumber.
enum class StringEncoding : uint8_t {
  kPlain = 1,  // the bytes as they are
  kZstd = 2,   // the bytes as one zstd frame
  kPrefixedInts = 3,  // a common prefix, then canonical decimal numbers as zigzag deltas
};

// Appends `column` as kPrefixedInts when its strings allow it, else
// zstd-compressed at `level` when that is smaller, else plain; returns the
// encoding used. REQUIRES: every string shorter than 4 GiB.
StringEncoding encode_strings(const StringColumn& column, int level, std::string* out);

// Decodes a whole payload written by encode_strings() with `encoding`.
// DataLossError (without a file name: the caller adds it) when the bytes are
// not such a payload, including trailing bytes after it.
absl::StatusOr<StringColumn> decode_strings(StringEncoding encoding, std::string_view in);

}  // namespace usagedb::storage

#endif  // USAGEDB_STORAGE_STRING_CODEC_H_
