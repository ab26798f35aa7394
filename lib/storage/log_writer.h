// LogWriter: appends records (opaque byte strings) to a write-ahead log file
// in the format of lib/storage/log_format.h (leveldb's log::Writer).
//
//   USAGEDB_ASSIGN_OR_RETURN(auto log, storage::LogWriter::create(dir + "/000007.log", 7));
//   USAGEDB_RETURN_IF_ERROR(log->add_record(encoded_batch));
//   USAGEDB_RETURN_IF_ERROR(log->sync());   // the batch survives a crash from here on
//
// To append to an existing log after a crash, first read it to the end with
// LogReader and, when reader->dropped_bytes() > 0, truncate_file() it to
// reader->valid_prefix_end(); then reopen() it. A record appended after a
// torn tail that was not cut off would make the log unreadable (DataLoss).
//
// After any failed append, flush or sync, the writer stops: every later call
// returns that error (the file's tail is unknown, and after a failed fsync
// the kernel may have dropped the unwritten pages). Recover as above.
//
// Thread-safety: not thread-safe; the store serializes its writers.
#ifndef USAGEDB_STORAGE_LOG_WRITER_H_
#define USAGEDB_STORAGE_LOG_WRITER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lib/storage/file.h"
#include "lib/storage/file_system.h"
#include "lib/storage/log_format.h"

namespace usagedb::storage {

class LogWriter {
 public:
  // Creates the log file `path` for log `log_number`, holding only its file
  // header, durably and atomically (temporary file, fsync, rename, fsync of
  // the directory), so a log file never exists without a whole header.
  // AlreadyExistsError if `path` exists.
  static absl::StatusOr<std::unique_ptr<LogWriter>> create(const std::string& path, uint64_t log_number,
                                                           FileSystem* fs = FileSystem::posix());

  // Opens the existing log `path` to append after its last byte.
  // REQUIRES: the file is a log's valid prefix (see the header comment).
  // NotFoundError if it does not exist; FailedPreconditionError if it is
  // shorter than a file header.
  static absl::StatusOr<std::unique_ptr<LogWriter>> reopen(const std::string& path,
                                                           FileSystem* fs = FileSystem::posix());

  // Appends to `file`, which holds a log's valid prefix (at least its file
  // header) and is positioned at its end.
  explicit LogWriter(std::unique_ptr<WritableFile> file);

  LogWriter(const LogWriter&) = delete;
  LogWriter& operator=(const LogWriter&) = delete;

  // From now on, keeps zeros written on disk ahead of the records, `bytes`
  // at a time (WritableFile::zero_fill), so a record overwrites blocks the
  // file has and sync() commits no size change: one device write and a
  // cache flush rather than also a journal commit on ext4. Recovery reads
  // the zeros after the last record as a torn tail (type 0 is never
  // written, lib/storage/log_format.md) and cuts them off. A file that
  // cannot (UnimplementedError) or a zero-fill that fails (a full disk)
  // turns it off for this writer; the records are written all the same.
  void zero_fill_ahead(uint64_t bytes) { zero_fill_bytes_ = bytes; }
  // Where the zeros written ahead end (0: none written).
  uint64_t zero_filled_end() const { return zero_filled_end_; }

  // Appends `payload` as one record, of any size (split into fragments of at
  // most one block). Buffered: see flush() and sync().
  absl::Status add_record(std::string_view payload);
  // Hands the buffered records to the OS: they survive a crash of this
  // process, not a power loss.
  absl::Status flush();
  // Makes every record added so far durable.
  absl::Status sync();
  // flush(), then closes the file. Later calls fail.
  absl::Status close();

  // Bytes in the log file, counting buffered ones: where the next record goes.
  uint64_t size() const { return file_->size(); }
  const std::string& path() const { return file_->path(); }

 private:
  absl::Status emit_fragment(LogFragmentType type, std::string_view payload);
  // Zero-fills ahead (zero_fill_ahead) when a record of `payload_bytes`
  // would end past the zeros.
  void zero_fill_for(size_t payload_bytes);
  // Records the first failure and returns it; later calls get stopped().
  absl::Status fail(absl::Status status);
  absl::Status stopped() const;

  std::unique_ptr<WritableFile> file_;
  size_t block_offset_;  // position in the current block
  absl::Status error_;   // the first failure; the writer is stopped when not OK
  // size() at the last successful sync(): a sync with nothing appended
  // since has nothing to make durable (a flush() of a store whose
  // quarantine log is idle, a group commit's second fsync).
  uint64_t synced_size_ = UINT64_MAX;
  bool closed_ = false;
  uint64_t zero_fill_bytes_ = 0;  // 0: off
  uint64_t zero_filled_end_ = 0;
};

}  // namespace usagedb::storage

#endif  // USAGEDB_STORAGE_LOG_WRITER_H_
