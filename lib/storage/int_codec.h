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

}  // namespace usagedb::storage

#endif  // USAGEDB_STORAGE_INT_CODEC_H_
