// The one place usagedb compresses bytes: zstd, wrapped so an upgrade or a
// change of codec touches only this file and compression.cc.
//
//   std::string packed;
//   compression::compress(blob, compression::kDefaultLevel, &packed);
//   std::string back;
//   absl::Status s = compression::decompress(packed, blob.size(), &back);
//
// Pure functions, thread-safe.
#ifndef USAGEDB_UTIL_COMPRESSION_H_
#define USAGEDB_UTIL_COMPRESSION_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace usagedb::compression {

// zstd level used for persisted blocks: decompression speed does not depend on
// it, and on part files level 7 saves 1% of the bytes of level 3 for 65%
// more encoding time, level 12 1.1% for 5x (bench/part_file_benchmark.cc).
inline constexpr int kDefaultLevel = 3;

// Appends one zstd frame holding `in` to `out`.
void compress(std::string_view in, int level, std::string* out);

// Decompresses the single zstd frame `in`, which must hold exactly
// `expected_size` bytes, into `out` (replacing its contents). DataLossError
// when `in` is not such a frame: corrupt, truncated, followed by other bytes,
// or of another size.
absl::Status decompress(std::string_view in, size_t expected_size, std::string* out);

}  // namespace usagedb::compression

#endif  // USAGEDB_UTIL_COMPRESSION_H_
