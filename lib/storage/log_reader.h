// LogReader: reads the records of a write-ahead log in order, verifying every
// checksum, and tells a torn tail (what a crash during an append leaves)
// from damage inside the log (leveldb's log::Reader, stricter: nothing is
// ever skipped silently). The rules are in lib/storage/log_format.md.
//
//   USAGEDB_ASSIGN_OR_RETURN(auto reader, storage::LogReader::open(path, /*expected_log_number=*/7));
//   std::string_view record;
//   for (;;) {
//     USAGEDB_ASSIGN_OR_RETURN(bool more, reader->read_record(&record));
//     if (!more) break;
//     USAGEDB_RETURN_IF_ERROR(apply(record));
//   }
//   if (reader->dropped_bytes() > 0) {   // a torn tail: cut it off before appending
//     USAGEDB_RETURN_IF_ERROR(storage::truncate_file(path, reader->valid_prefix_end()));
//   }
//
// Thread-safety: not thread-safe; one reader per thread.
#ifndef USAGEDB_STORAGE_LOG_READER_H_
#define USAGEDB_STORAGE_LOG_READER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lib/storage/file.h"
#include "lib/storage/file_system.h"
#include "lib/storage/log_format.h"

namespace usagedb::storage {

class LogReader {
 public:
  // Opens the log `path` and checks its file header; when
  // `expected_log_number` is set, a header for another log is an error (a
  // renamed or misplaced file).
  // Errors: NotFound etc. from opening; DataLossError naming the file for a
  // bad header or an unexpected log number; FailedPreconditionError for a
  // format version this build does not read.
  static absl::StatusOr<std::unique_ptr<LogReader>> open(const std::string& path,
                                                         std::optional<uint64_t> expected_log_number,
                                                         FileSystem* fs = FileSystem::posix());
  // The same over any SequentialFile, e.g. SequentialFile::from_string().
  static absl::StatusOr<std::unique_ptr<LogReader>> open(std::unique_ptr<SequentialFile> file,
                                                         std::optional<uint64_t> expected_log_number);

  LogReader(const LogReader&) = delete;
  LogReader& operator=(const LogReader&) = delete;

  // Reads the next record into `*record`, which stays valid until the next
  // call. Returns true for a record; false at the end of the log, including
  // when a torn tail was dropped (see dropped_bytes()); DataLossError naming
  // the file and byte offset when a damaged fragment has a valid one anywhere
  // after it; the I/O error of a failed read. After false or an error, every
  // later call returns the same.
  absl::StatusOr<bool> read_record(std::string_view* record);

  uint64_t log_number() const { return log_number_; }
  // The file offset where the record last returned begins.
  uint64_t last_record_offset() const { return last_record_offset_; }
  // Where the log's valid prefix (its header and every record returned so
  // far) ends. Once read_record() has returned false, this is where the
  // writer must continue; after a DataLossError, the end of the last intact
  // record before the damage (where a repair would cut the file).
  uint64_t valid_prefix_end() const { return valid_end_; }
  // Once read_record() has returned false: the bytes after
  // valid_prefix_end() that were dropped as a torn tail (0 for a clean end).
  uint64_t dropped_bytes() const { return end_of_data_ - valid_end_; }
  const std::string& path() const { return file_->path(); }

 private:
  enum class Next { kFragment, kEnd, kBad };

  explicit LogReader(std::unique_ptr<SequentialFile> file);

  absl::Status read_header(std::optional<uint64_t> expected_log_number);
  // Reads the next block into block_; false at the end of the file.
  absl::StatusOr<bool> read_block();
  // The next fragment, kEnd at the end of the file, or kBad with bad_reason_
  // set and pos_ at the damaged bytes.
  absl::StatusOr<Next> next_fragment(LogFragment* fragment, uint64_t* offset);
  // Called at a bad fragment: OK (a torn tail) when no valid fragment starts
  // anywhere after it, else DataLossError.
  absl::Status check_torn_tail();
  absl::Status corruption(uint64_t offset, std::string_view reason);

  std::unique_ptr<SequentialFile> file_;
  std::unique_ptr<char[]> backing_;  // kLogBlockSize bytes
  std::string_view block_;           // the current block's bytes, in backing_
  uint64_t block_start_ = 0;         // file offset of block_
  size_t pos_ = 0;                   // next unread byte in block_
  bool eof_ = false;                 // block_ is the file's last
  uint64_t end_of_data_ = 0;         // file offset after the last byte read
  std::string bad_reason_;

  uint64_t log_number_ = 0;
  uint64_t last_record_offset_ = 0;
  uint64_t valid_end_ = 0;
  std::string scratch_;  // a record assembled from fragments
  absl::Status final_;   // what every call returns once the log has ended
  bool ended_ = false;
};

}  // namespace usagedb::storage

#endif  // USAGEDB_STORAGE_LOG_READER_H_
