// The names of the files in a store directory (StoreFiles, store_files.h).
//
// A store directory holds (file numbers come from one counter, never reused):
//   LOCK                          flock()ed while a process has the store open
//   MANIFEST                      names every live file (lib/storage/manifest.h)
//   log-<n>.wal                   write-ahead logs: events recorded since the
//                                 checkpoint, replayed on open (log_format.md)
//   part-<yyyymm>-<n>.udbp        checkpointed parts (part_format.md)
//   dict-<column>-<n>.udbd        dictionary segments (dictionary_file.h)
//   rollup-<yyyymm>-<n>.udbr      a partition's rollup (rollup_file.h)
//   quarantine-<n>.log            the quarantine, one record per rejected row
// Anything else (a *.tmp, a part written by a checkpoint that did not reach
// its manifest) is garbage, deleted on open.
//
//   part_file_name(202505, 7);                    // "part-202505-7.udbp"
//   file_number("dict-user_id-7.udbd");           // 7
//   log_file_number("log-12.wal");                // 12
//
// Thread-safety: pure functions.
#ifndef USAGEDB_STORAGE_STORE_FILE_NAMES_H_
#define USAGEDB_STORAGE_STORE_FILE_NAMES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "lib/table/row.h"

namespace usagedb::storage {

std::string log_file_name(uint64_t number);
std::string quarantine_file_name(uint64_t number);
std::string part_file_name(uint32_t month, uint64_t number);
std::string dictionary_file_name(DictionaryColumn column, uint64_t number);
std::string rollup_file_name(uint32_t month, uint64_t number);
inline constexpr char kManifestFileName[] = "MANIFEST";
inline constexpr char kLockFileName[] = "LOCK";

// Whether `name` is a file the store writes and may delete: a log, part,
// dictionary segment, rollup or quarantine log (also as a *.tmp), or
// MANIFEST.tmp. Not MANIFEST or LOCK.
bool is_store_file(std::string_view name);
// The file number in a store file's name ("log-7.wal", "part-202505-7.udbp",
// "dict-user_id-7.udbd", "quarantine-7.log", also with ".tmp" appended).
std::optional<uint64_t> file_number(std::string_view name);
// The number of the write-ahead log named `name` ("log-<n>.wal"), if it is one.
std::optional<uint64_t> log_file_number(std::string_view name);

}  // namespace usagedb::storage

#endif  // USAGEDB_STORAGE_STORE_FILE_NAMES_H_
