#include "lib/storage/file_system.h"

#include "lib/util/status_macros.h"

namespace usagedb::storage {
namespace {

class PosixFileSystem final : public FileSystem {
 public:
  absl::StatusOr<std::unique_ptr<WritableFile>> open_append(const std::string& path) override {
    return WritableFile::open_append(path);
  }
  absl::StatusOr<std::unique_ptr<WritableFile>> open_truncate(const std::string& path) override {
    return WritableFile::open_truncate(path);
  }
  absl::StatusOr<std::unique_ptr<SequentialFile>> open_sequential(const std::string& path) override {
    return SequentialFile::open(path);
  }
  absl::StatusOr<std::string> read_file(const std::string& path) override { return storage::read_file(path); }
  absl::StatusOr<std::string> read_file_range(const std::string& path, uint64_t offset, size_t n) override {
    return storage::read_file_range(path, offset, n);
  }
  absl::StatusOr<std::vector<std::string>> read_file_ranges(const std::string& path,
                                                            std::span<const ByteRange> ranges) override {
    return storage::read_file_ranges(path, ranges);
  }
  absl::Status sync_dir(const std::string& dir) override { return storage::sync_dir(dir); }
  absl::Status create_dir(const std::string& dir) override { return storage::create_dir(dir); }
  absl::StatusOr<std::vector<std::string>> list_dir(const std::string& dir) override {
    return storage::list_dir(dir);
  }
  absl::Status remove_file(const std::string& path) override { return storage::remove_file(path); }
  absl::Status rename_file(const std::string& from, const std::string& to) override {
    return storage::rename_file(from, to);
  }
  absl::StatusOr<uint64_t> file_size(const std::string& path) override { return storage::file_size(path); }
  bool file_exists(const std::string& path) override { return storage::file_exists(path); }
  absl::Status truncate_file(const std::string& path, uint64_t size) override {
    return storage::truncate_file(path, size);
  }
  absl::StatusOr<std::unique_ptr<FileLock>> lock_file(const std::string& path) override {
    return FileLock::acquire(path);
  }
};

}  // namespace

absl::StatusOr<std::string> FileSystem::read_file_range(const std::string& path, uint64_t offset, size_t n) {
  absl::StatusOr<std::string> bytes = read_file(path);
  if (!bytes.ok()) return bytes.status();
  if (offset >= bytes->size()) return std::string();
  return bytes->substr(offset, n);
}

absl::StatusOr<std::vector<std::string>> FileSystem::read_file_ranges(const std::string& path,
                                                                      std::span<const ByteRange> ranges) {
  absl::StatusOr<std::string> bytes = read_file(path);
  if (!bytes.ok()) return bytes.status();
  std::vector<std::string> out;
  out.reserve(ranges.size());
  for (const ByteRange& r : ranges) {
    out.push_back(r.offset >= bytes->size() ? std::string() : bytes->substr(r.offset, r.size));
  }
  return out;
}

FileSystem* FileSystem::posix() {
  static FileSystem* const fs = new PosixFileSystem;
  return fs;
}

absl::Status FileSystem::write_file_atomically(const std::string& path, std::string_view contents) {
  const std::string tmp = path + ".tmp";
  absl::Status status = [&]() -> absl::Status {
    USAGEDB_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, open_truncate(tmp));
    USAGEDB_RETURN_IF_ERROR(file->append(contents));
    // Durable before the rename: otherwise a crash could leave `path` naming
    // a file whose data never reached the disk.
    USAGEDB_RETURN_IF_ERROR(file->sync());
    USAGEDB_RETURN_IF_ERROR(file->close());
    return rename_file(tmp, path);
  }();
  if (!status.ok()) {
    (void)remove_file(tmp);  // best effort; may not exist
    return status;
  }
  return sync_dir(dirname(path));
}

}  // namespace usagedb::storage
