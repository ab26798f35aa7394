// POSIX file utilities for the durable store (leveldb's util/env_posix.cc):
// buffered appendable files, sequential readers, whole-file reads, atomic
// replacement of small files, directory operations and the store's lock file.
// Every error is an absl::Status whose message names the path and carries
// the errno text, with the code absl::ErrnoToStatus() gives (ENOENT is
// NotFound, ENOSPC ResourceExhausted, EACCES PermissionDenied, ...).
//
//   USAGEDB_ASSIGN_OR_RETURN(auto file, storage::WritableFile::open_append(path));
//   USAGEDB_RETURN_IF_ERROR(file->append(bytes));
//   USAGEDB_RETURN_IF_ERROR(file->sync());          // durable from here on
//   USAGEDB_RETURN_IF_ERROR(storage::write_file_atomically(dir + "/MANIFEST", manifest));
//
// Code that tests must be able to fail (a full disk, a crash mid-write) goes
// through a FileSystem (lib/storage/file_system.h) rather than these
// functions directly.
//
// Thread-safety: the free functions are thread-safe; a WritableFile or
// SequentialFile must be used by one thread at a time; FileLock is immutable.
#ifndef USAGEDB_STORAGE_FILE_H_
#define USAGEDB_STORAGE_FILE_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace usagedb::storage {

// A file being written front to back. Appends are collected in a user-space
// buffer and written with write(2) when it fills, on flush(), sync() and
// close(); an append larger than the buffer is written straight through.
// After a failed append/flush/sync the bytes not yet written are discarded
// and the file's tail is unspecified: callers stop using it (the log writer
// does) and recover from the file's valid prefix.
class WritableFile {
 public:
  // Opens `path` for appending after its current contents, creating it
  // (mode 0644) when missing. A newly created file's directory entry is
  // durable only after sync_dir() of its directory.
  static absl::StatusOr<std::unique_ptr<WritableFile>> open_append(const std::string& path);
  // Creates `path` or truncates it to zero bytes, and opens it for writing.
  static absl::StatusOr<std::unique_ptr<WritableFile>> open_truncate(const std::string& path);

  WritableFile() = default;
  WritableFile(const WritableFile&) = delete;
  WritableFile& operator=(const WritableFile&) = delete;
  // Closes the file if close() was not called, dropping any error; call
  // close() to see it.
  virtual ~WritableFile() = default;

  virtual absl::Status append(std::string_view data) = 0;
  // Hands the buffered bytes to the kernel (write(2)): they survive a crash
  // of this process, not of the machine.
  virtual absl::Status flush() = 0;
  // flush(), then fdatasync(2): everything appended so far survives a power
  // loss.
  virtual absl::Status sync() = 0;
  // flush(), then close(2). Later calls of any method fail.
  virtual absl::Status close() = 0;
  // Writes zeros from where the file's bytes on disk end (at least size())
  // up to `end`, without moving where appends go: appends then overwrite
  // blocks the file already has, so a later sync() has no size change to
  // make durable (on ext4, fdatasync(2) then skips the journal commit).
  // Bytes after size() read as zeros until appends overwrite them. A no-op
  // when the file already reaches `end`. On failure (ENOSPC) the zeros it
  // wrote are cut off again; appends are unaffected. UnimplementedError when
  // the file cannot (the default).
  virtual absl::Status zero_fill(uint64_t end);
  // Bytes in the file, counting those still buffered.
  virtual uint64_t size() const = 0;
  virtual const std::string& path() const = 0;
};

// A file read front to back.
class SequentialFile {
 public:
  static absl::StatusOr<std::unique_ptr<SequentialFile>> open(const std::string& path);
  // Reads `contents` as if it were a file named `name` (tests, in-memory logs).
  static std::unique_ptr<SequentialFile> from_string(std::string contents, std::string name);

  SequentialFile() = default;
  SequentialFile(const SequentialFile&) = delete;
  SequentialFile& operator=(const SequentialFile&) = delete;
  virtual ~SequentialFile() = default;

  // Reads up to `n` bytes into `scratch` and returns how many it read: fewer
  // than `n` only at the end of the file, 0 once there.
  virtual absl::StatusOr<size_t> read(char* scratch, size_t n) = 0;
  virtual const std::string& path() const = 0;
};

// Bytes [offset, offset + size) of a file.
struct ByteRange {
  uint64_t offset = 0;
  size_t size = 0;
};

// The whole file.
absl::StatusOr<std::string> read_file(const std::string& path);
// Up to `n` bytes from `offset`: fewer at the end of the file.
absl::StatusOr<std::string> read_file_range(const std::string& path, uint64_t offset, size_t n);
// read_file_range() of each of `ranges`, in order: one open, one pread each.
absl::StatusOr<std::vector<std::string>> read_file_ranges(const std::string& path, std::span<const ByteRange> ranges);

// Replaces `path` with `contents` so that after a crash it holds either its
// old contents or all of the new: writes "<path>.tmp", fsyncs it, renames it
// over `path` and fsyncs the directory. Writers of one path must be
// serialized by the caller (they share the temporary name). When a step up to
// the rename fails, the temporary file is removed and `path` is untouched;
// when only the directory fsync fails, `path` holds the new contents but
// may revert to the old ones after a crash.
absl::Status write_file_atomically(const std::string& path, std::string_view contents);

// fsync(2) of a directory: makes file creations, renames and removals in it
// durable.
absl::Status sync_dir(const std::string& dir);
// Creates `dir` and its missing parents (mode 0755); OK if it exists as a
// directory.
absl::Status create_dir(const std::string& dir);
// The names in `dir` (not "." or ".."), sorted.
absl::StatusOr<std::vector<std::string>> list_dir(const std::string& dir);
absl::Status remove_file(const std::string& path);
// rename(2): atomically replaces `to` if it exists.
absl::Status rename_file(const std::string& from, const std::string& to);
absl::StatusOr<uint64_t> file_size(const std::string& path);
// False also when the path cannot be examined (e.g. permissions).
bool file_exists(const std::string& path);
absl::Status truncate_file(const std::string& path, uint64_t size);

// The directory part of `path` ("." when it has none).
std::string dirname(std::string_view path);

// An exclusive lock on a store directory, held through flock(2) on a lock
// file, so two processes (or two stores in one process) never open the same
// directory. Released when destroyed, or when the process exits. Child
// processes created by fork() share the parent's lock; the descriptor is
// close-on-exec.
class FileLock {
 public:
  // Creates `path` if needed, locks it without waiting and writes this
  // process's pid into it. When another holder has it locked:
  // FailedPreconditionError "store <dir> is in use by another process (lock
  // file <path>, pid N)" (or "... is already open in this process ..." when
  // the holder is this process).
  static absl::StatusOr<std::unique_ptr<FileLock>> acquire(const std::string& path);

  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

  const std::string& path() const { return path_; }

 private:
  FileLock(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}

  const int fd_;
  const std::string path_;
};

}  // namespace usagedb::storage

#endif  // USAGEDB_STORAGE_FILE_H_
