// Manifest: the root of a durable store, naming every file that holds data.
//
// A store directory is only what its MANIFEST says: the checkpointed parts,
// the dictionary segments that give their codes meaning, the write-ahead
// log that holds every event recorded since the checkpoint, and the
// quarantine log. Any other file in the directory is garbage from an
// interrupted operation and is deleted on open. The manifest is replaced
// atomically (written to a temporary file, fsynced, renamed, directory
// fsynced), so a crash leaves either the old or the new one.
//
// Format (framed_file.h, magic "UDBMANIF", version 3; version 1, written
// before rollups were persisted, is read as a manifest without them, and
// version 2, at most one rollup per month, as it is), body:
//   varint next_file_number   file numbers are never reused
//   varint log_number         the WAL to replay on open
//   varint quarantine_number  the quarantine log
//   varint part count, then per part:
//     varint month (yyyymm), varint file_number, varint rows, varint bytes
//   varint segment count, then per dictionary segment:
//     byte column (DictionaryColumn), varint file_number, varint first_code, varint count
//   varint rollup count, then per rollup file (version 2 and later), in month
//     order (version 3: several per month, one per part in the store's
//     lifecycle, lib/rollup/rollup_set.h; no part covered twice):
//     varint month, varint file_number, varint covered part count, then the
//     covered part ids (ascending, each a part of that month listed above)
//
// Thread-safety: plain values and pure functions.
#ifndef USAGEDB_STORAGE_MANIFEST_H_
#define USAGEDB_STORAGE_MANIFEST_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/table/row.h"

namespace usagedb::storage {

struct PartFileEntry {
  uint32_t month = 0;         // yyyymm
  uint64_t file_number = 0;   // also the part's id
  uint64_t rows = 0;
  uint64_t bytes = 0;         // size of the part file
  friend bool operator==(const PartFileEntry&, const PartFileEntry&) = default;
};

struct DictionarySegmentEntry {
  DictionaryColumn column = DictionaryColumn::kUser;
  uint64_t file_number = 0;
  uint64_t first_code = 0;  // codes [first_code, first_code + count)
  uint64_t count = 0;
  friend bool operator==(const DictionarySegmentEntry&, const DictionarySegmentEntry&) = default;
};

// A partition's rollup file (rollup_file.h) and the parts whose rows it holds.
struct RollupFileEntry {
  uint32_t month = 0;  // yyyymm
  uint64_t file_number = 0;
  std::vector<uint64_t> parts;  // ascending
  friend bool operator==(const RollupFileEntry&, const RollupFileEntry&) = default;
};

struct Manifest {
  uint64_t next_file_number = 1;
  uint64_t log_number = 0;
  uint64_t quarantine_number = 0;
  std::vector<PartFileEntry> parts;
  std::vector<DictionarySegmentEntry> dictionary_segments;  // per column in code order
  std::vector<RollupFileEntry> rollups;                     // by month
  friend bool operator==(const Manifest&, const Manifest&) = default;
};

std::string encode_manifest(const Manifest& manifest);

// DataLossError naming `path` for a damaged or inconsistent manifest (for
// example dictionary segments of a column that do not follow each other).
absl::StatusOr<Manifest> decode_manifest(std::string_view bytes, std::string_view path);

}  // namespace usagedb::storage

#endif  // USAGEDB_STORAGE_MANIFEST_H_
