// The stored summary (lib/rollup/rollup_cache.h, StoredSummary): the
// (feature, version) counts of every part of the store, written by a
// checkpoint next to its MANIFEST so that a new process answers a summary
// over the whole store without reading rollups.
//
// Like a rollup it is derived data: the file `SUMMARY` is not named by the
// MANIFEST, it names the parts whose rows it counts, and a reader uses it
// only while those are exactly the store's parts. A missing, damaged or
// stale file costs the merge it saves, nothing else.
//
// Format (framed_file.h, magic "UDBSUMRY", version 1), body:
//   varint part count, then the ids (varint deltas, ascending)
//   varint cell count, then per cell in (feature, version) order: varint
//   feature, varint version, varint events, varint first, varint last -
//   first, varint users, varint sessions
//
// Thread-safety: pure functions.
#ifndef USAGEDB_STORAGE_SUMMARY_FILE_H_
#define USAGEDB_STORAGE_SUMMARY_FILE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "lib/rollup/rollup_cache.h"

namespace usagedb::storage {

inline constexpr std::string_view kSummaryFileName = "SUMMARY";

std::string encode_summary(const StoredSummary& summary);

// A DataLossError naming `path` for a damaged file, or one whose codes are
// not below `features` and `versions` (the dictionaries' sizes) or whose
// counts exceed `rows` (the store's).
absl::StatusOr<StoredSummary> decode_summary(std::string_view bytes, std::string_view path, uint64_t features,
                                             uint64_t versions, uint64_t rows);

}  // namespace usagedb::storage

#endif  // USAGEDB_STORAGE_SUMMARY_FILE_H_
