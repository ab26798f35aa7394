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
// Format version 3 (magic "UDBROLUP"; versions 1 and 2, below, are still
// read): a directory, then sections, each compressed (zstd) and
// checksummed on its own, so a reader reads the directory and then only
// the sections a query needs (open_rollup()):
//   [magic: 8 bytes][version: fixed32 3][header size H: fixed32]
//   [header: H bytes][XXH3 checksum of the 16 + H bytes before: fixed64]
//   [section bytes ...]
// The header: varint month (yyyymm), varint rows, varint covered part
// count and the ids (varint deltas, ascending), varint section count S,
// then per section: varint id (RollupSection, partition_rollup.h), varint
// offset (from the end of the header's checksum; each section starts where
// the one before ends, the last ends at the end of the file), varint stored
// (compressed) size, varint decompressed size, fixed64 XXH3 checksum of
// the stored bytes. Sections 0-6 are always there; 7 and 8 when the rollup
// has them. Decompressed, each section holds:
//   0 summary cells: varint count C, per cell in (feature, version) order:
//     varint feature, varint version, varint events, varint first, varint
//     last - first
//   1 summary bitmaps: varint C, per cell its users and sessions as
//     length-prefixed portable Roaring bitmaps
//   2 user entries: varint user count U, then the users' codes (int_codec
//     kDeltaFor), their entry counts (kFor), and for the E entries: summary
//     cell index (kFor), count (varints), first (kFor), last - first (kFor)
//   3-6 the hour, day, week and month timelines, each a timeline level:
//     varint cell count N, buckets (kDeltaFor), features (kFor), events
//     (varints), distinct user counts (kFor), then the cells' user codes
//     (kFor; each cell's first code, then the gaps to the next, which
//     ascend)
//   7 version timeline (version_timeline.h): eight timeline levels, the
//     (bucket, version) cells of hour, day, week, month, then the active
//     cells (key 0) of each
//   8 metadata counts (metadata_counts.h): varint value count V, V
//     length-prefixed strings, then the cells and the totals, each a varint
//     count and per cell varint value, varint feature (0 in the totals),
//     varint events, its users as a length-prefixed portable Roaring bitmap
//
// Versions 1 and 2 (framed_file.h, one checksum over the whole file) hold
// the same contents as one zstd frame: varint body size, then the frame of
// month, rows and covered parts as in the header above, the summary cells
// each followed by its two bitmaps, the user entries, the four timeline
// levels, and (version 2 only) a presence byte and the version timeline,
// a presence byte and the metadata counts (a byte 0 when absent).
//
// Thread-safety: pure functions.
#ifndef USAGEDB_STORAGE_ROLLUP_FILE_H_
#define USAGEDB_STORAGE_ROLLUP_FILE_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/rollup/partition_rollup.h"
#include "lib/storage/file_system.h"

namespace usagedb::storage {

// What the manifest says a rollup file must hold: the rows of the parts it
// covers, and codes below the dictionaries' sizes.
struct RollupExpectation {
  uint64_t rows = 0;
  uint64_t users = 0;
  uint64_t features = 0;
  uint64_t versions = 0;
  uint64_t sessions = 0;
  // When month is not 0: the file must hold that month and these parts.
  uint32_t month = 0;
  std::vector<uint64_t> parts;
};

// The file of `rollup` covering the parts `covered` (ascending: the parts
// whose rows it holds now, which merges may have renumbered since it was
// built), in format `version` (3; 2 for tests of the older format).
std::string encode_rollup(const PartitionRollup& rollup, std::span<const uint64_t> covered, uint32_t version = 3);

// The rollup of a file of any version, every section read now; its
// part_ids() are the covered parts. A DataLossError naming `path` (and the
// section) when the file is damaged: a bad frame, directory or checksum, a
// truncated or inconsistent section, other rows or codes than `expect`
// allows.
absl::StatusOr<std::shared_ptr<const PartitionRollup>> decode_rollup(std::string_view bytes, std::string_view path,
                                                                     const RollupExpectation& expect);

// The rollup of file `path` (number `file_number`), read on first use
// (PartitionRollup::lazy): of a version 3 file, the directory is read and
// checked now (against `expect`, whose month must be set) and each section
// when an accessor first needs it; a version 1 or 2 file is read whole
// then. A DataLossError naming `path` for a damaged directory; a damaged
// section is found by the query that reads it (PartitionRollup::damaged()).
// `*version` is set to the file's format version. `budget`, when given, is
// charged the sections read (PartitionRollup::lazy).
absl::StatusOr<std::shared_ptr<const PartitionRollup>> open_rollup(FileSystem* fs, const std::string& path,
                                                                   uint64_t file_number,
                                                                   const RollupExpectation& expect,
                                                                   uint32_t* version,
                                                                   std::shared_ptr<PartCache> budget = nullptr);
// The version encode_rollup() writes by default.
inline constexpr uint32_t kRollupFileVersion = 3;

}  // namespace usagedb::storage

#endif  // USAGEDB_STORAGE_ROLLUP_FILE_H_
