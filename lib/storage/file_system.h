// FileSystem: the file operations of lib/storage/file.h behind an interface
// (leveldb's Env), so a store's tests can substitute one that fails writes
// and syncs or loses unsynced data (tests/testutil/fault_injection_fs.h).
// Production code takes a FileSystem* and defaults to FileSystem::posix().
//
//   FileSystem* fs = options.file_system ? options.file_system : FileSystem::posix();
//   USAGEDB_ASSIGN_OR_RETURN(auto file, fs->open_append(dir + "/000007.log"));
//   USAGEDB_RETURN_IF_ERROR(fs->write_file_atomically(dir + "/MANIFEST", manifest));
//
// Each method has the contract of the free function of the same name in
// lib/storage/file.h.
//
// Thread-safety: implementations are safe for concurrent use; posix() is.
#ifndef USAGEDB_STORAGE_FILE_SYSTEM_H_
#define USAGEDB_STORAGE_FILE_SYSTEM_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lib/storage/file.h"

namespace usagedb::storage {

class FileSystem {
 public:
  // The real file system. Never destroyed.
  static FileSystem* posix();

  virtual ~FileSystem() = default;

  virtual absl::StatusOr<std::unique_ptr<WritableFile>> open_append(const std::string& path) = 0;
  virtual absl::StatusOr<std::unique_ptr<WritableFile>> open_truncate(const std::string& path) = 0;
  virtual absl::StatusOr<std::unique_ptr<SequentialFile>> open_sequential(const std::string& path) = 0;
  virtual absl::StatusOr<std::string> read_file(const std::string& path) = 0;
  // Bytes [offset, offset + n) of a file (fewer at its end). By default
  // read_file() cut down, so a test file system's faults apply.
  virtual absl::StatusOr<std::string> read_file_range(const std::string& path, uint64_t offset, size_t n);
  // read_file_range() of each of `ranges`, in order, opening the file once.
  // By default read_file() cut down, as read_file_range().
  virtual absl::StatusOr<std::vector<std::string>> read_file_ranges(const std::string& path,
                                                                    std::span<const ByteRange> ranges);
  virtual absl::Status sync_dir(const std::string& dir) = 0;
  virtual absl::Status create_dir(const std::string& dir) = 0;
  virtual absl::StatusOr<std::vector<std::string>> list_dir(const std::string& dir) = 0;
  virtual absl::Status remove_file(const std::string& path) = 0;
  virtual absl::Status rename_file(const std::string& from, const std::string& to) = 0;
  virtual absl::StatusOr<uint64_t> file_size(const std::string& path) = 0;
  virtual bool file_exists(const std::string& path) = 0;
  virtual absl::Status truncate_file(const std::string& path, uint64_t size) = 0;
  virtual absl::StatusOr<std::unique_ptr<FileLock>> lock_file(const std::string& path) = 0;

  // Built from the operations above (open_truncate, append, sync, close,
  // rename_file, sync_dir), so an implementation's faults apply to each step.
  absl::Status write_file_atomically(const std::string& path, std::string_view contents);
};

}  // namespace usagedb::storage

#endif  // USAGEDB_STORAGE_FILE_SYSTEM_H_
