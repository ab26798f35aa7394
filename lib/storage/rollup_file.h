// Rollup files: a PartitionRollup persisted with the store (one per part, as
// the store keeps them: lib/rollup/rollup_set.h; a store written before may
// hold one covering several parts of a month), so a reopened store answers
// from rollups at once instead of rebuilding them from the parts (a second
// per million events).
//
// A rollup file names the parts it covers (their ids, which are their file
// numbers): the manifest lists it with the same ids, and the store installs
// it only while those parts are the partition's. Its content is a function
// of the covered rows alone (parts never change), so a rollup with the same
// coverage is never written twice.
//
// Format (framed_file.h, magic "UDBROLUP", version 2; version 1 files are
// read too, without the sections version 2 added): the body is its size
// (varint) and one zstd frame of:
//   varint month (yyyymm), varint rows
//   varint covered part count, then the ids (varint deltas, ascending)
//   varint summary cell count, then per cell in (feature, version) order:
//     varint feature, varint version, varint events, varint first,
//     varint last - first, users and sessions as length-prefixed portable
//     Roaring bitmaps
//   varint user count U, then the users' codes (int_codec kDeltaFor),
//     their entry counts (kFor), and for the E entries: summary cell index
//     (kFor), count (varints), first (kFor), last - first (kFor)
//   for hour, day, week, month, a timeline level: varint cell count N,
//     buckets (kDeltaFor), features (kFor), events (varints), distinct user
//     counts (kFor), then the cells' user codes (kFor; each cell's first
//     code, then the gaps to the next, which ascend)
//   version 2 only:
//   a byte 1 and the version timeline (version_timeline.h): eight timeline
//     levels, the (bucket, version) cells of hour, day, week, month, then
//     the active cells (key 0) of each; or a byte 0 when it has none
//   a byte 1 and the metadata counts (metadata_counts.h): varint value
//     count V, V length-prefixed strings, then the cells and the totals,
//     each a varint count and per cell varint value, varint feature (0 in
//     the totals), varint events, its users as a length-prefixed portable
//     Roaring bitmap; or a byte 0 when it has none
//
// Thread-safety: pure functions.
#ifndef USAGEDB_STORAGE_ROLLUP_FILE_H_
#define USAGEDB_STORAGE_ROLLUP_FILE_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "lib/rollup/partition_rollup.h"

namespace usagedb::storage {

// What the manifest says a rollup file must hold: the rows of the parts it
// covers, and codes below the dictionaries' sizes.
struct RollupExpectation {
  uint64_t rows = 0;
  uint64_t users = 0;
  uint64_t features = 0;
  uint64_t versions = 0;
  uint64_t sessions = 0;
};

// The file of `rollup` covering the parts `covered` (ascending: the parts
// whose rows it holds now, which merges may have renumbered since it was
// built).
std::string encode_rollup(const PartitionRollup& rollup, std::span<const uint64_t> covered);

// The rollup of a file; its part_ids() are the covered parts. A
// DataLossError naming `path` when the file is damaged: a bad frame or
// checksum, a truncated or inconsistent body, other rows or codes than
// `expect` allows.
absl::StatusOr<std::shared_ptr<const PartitionRollup>> decode_rollup(std::string_view bytes, std::string_view path,
                                                                     const RollupExpectation& expect);

}  // namespace usagedb::storage

#endif  // USAGEDB_STORAGE_ROLLUP_FILE_H_
