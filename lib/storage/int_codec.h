// Encodings of a column of uint32 values in a part file (see
// part_format.md): blocks of kIntBlockRows values, each bit-packed with its
// own minimum ("frame of reference") and the minimal width; optionally over
// the deltas of an ascending column, or over local ids into the column's own
// sorted dictionary of the distinct values it holds.
//
//   std::string out;
//   IntEncoding e = encode_codes(part.columns().user, &out);   // kFor or kDictFor
//   std::vector<uint32_t> back;
//   absl::Status s = decode_ints(e, &payload, rows, kNoLimit, &back);
//
// Pure functions, thread-safe.
#ifndef USAGEDB_STORAGE_INT_CODEC_H_
#define USAGEDB_STORAGE_INT_CODEC_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace usagedb::storage {

// The persisted id of each encoding: never renumber.
enum class IntEncoding : uint8_t {
  kFor = 1,       // blocks of (varint min, width byte, packed value - min)
  kDeltaFor = 2,  // varint first value, then the deltas as kFor (ascending columns)
  kDictFor = 3,   // the sorted distinct values, then local ids as kFor
};

inline constexpr size_t kIntBlockRows = 1024;
// decode_ints() limit that accepts every uint32 value.
inline constexpr uint64_t kNoLimit = uint64_t{1} << 32;

// Appends `values` as kFor.
void encode_for(std::span<const uint32_t> values, std::string* out);
// Appends `values` as kDeltaFor. REQUIRES: values ascending.
void encode_ascending(std::span<const uint32_t> values, std::string* out);
// Appends `values` as kFor or kDictFor, whichever is smaller; returns it.
IntEncoding encode_codes(std::span<const uint32_t> values, std::string* out);

// Decodes `count` values encoded as `encoding` from the front of `*in`,
// advancing it past them, into `*out` (resized to `count`). Every value must
// be < `limit`. DataLossError (without a file name: the caller adds it) when
// the bytes are not such an encoding.
absl::Status decode_ints(IntEncoding encoding, std::string_view* in, size_t count, uint64_t limit,
                         std::vector<uint32_t>* out);

// Bytes the blocks of encode_for(values) take (used to choose encodings).
size_t for_size(std::span<const uint32_t> values);

// Random access (part format version 3's seek block, part_format.md): a
// payload of `count` values as `encoding` is a head (kFor: nothing; kDeltaFor:
// the first value; kDictFor: the dictionary) followed by For blocks of
// kIntBlockRows values each (kDeltaFor: of the count - 1 deltas).
struct IntLayout {
  size_t head_bytes = 0;
  std::vector<size_t> block_bytes;  // each For block's size, in order
};
// The layout of a payload written by this file's encoders (the writer walks
// its own bytes; DataLossError when they do not parse).
absl::StatusOr<IntLayout> int_layout(IntEncoding encoding, std::string_view payload, size_t count);
// Rows of block `block` of a column of `count` values: kFor and kDictFor
// rows [block * kIntBlockRows, ...), kDeltaFor rows [block * kIntBlockRows +
// 1, ...) (block b holds the deltas that follow row b * kIntBlockRows).
size_t int_block_first_row(IntEncoding encoding, size_t block);
size_t int_block_rows(IntEncoding encoding, size_t count, size_t block);
// Decodes For block `block` (its bytes exactly) of such a column into *out
// (resized to int_block_rows()). kDictFor needs the `head` (the dictionary);
// kDeltaFor needs `base`, the value of the row before the block's first.
// Every value must be < `limit`. DataLossError as decode_ints().
absl::Status decode_int_block(IntEncoding encoding, std::string_view head, std::string_view bytes, size_t count,
                              size_t block, uint64_t base, uint64_t limit, std::vector<uint32_t>* out);

}  // namespace usagedb::storage

#endif  // USAGEDB_STORAGE_INT_CODEC_H_
