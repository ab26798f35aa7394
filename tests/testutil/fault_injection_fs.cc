#include "tests/testutil/fault_injection_fs.h"

#include <algorithm>
#include <cerrno>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "lib/util/status_macros.h"
#include "lib/util/text.h"

namespace usagedb::testing {

using storage::WritableFile;

// A file opened for writing: checks each call against the faults, then
// passes it on.
class FaultInjectionFileSystem::File final : public WritableFile {
 public:
  File(FaultInjectionFileSystem* fs, std::unique_ptr<WritableFile> base) : fs_(fs), base_(std::move(base)) {}

  absl::Status append(std::string_view data) override {
    USAGEDB_RETURN_IF_ERROR(fs_->check_operation("append to", path()));
    const uint64_t allowed = fs_->take_write_budget(data.size());
    if (allowed < data.size()) {
      // The bytes that fit reach the file, as a write(2) cut short would leave them.
      (void)base_->append(data.substr(0, allowed));
      (void)base_->flush();
      return absl::ResourceExhaustedError(absl::StrCat("write ", path(), " at offset ", base_->size(),
                                                       ": No space left on device (injected fault)"));
    }
    return base_->append(data);
  }

  absl::Status flush() override {
    USAGEDB_RETURN_IF_ERROR(fs_->check_operation("flush", path()));
    return base_->flush();
  }

  absl::Status sync() override {
    USAGEDB_RETURN_IF_ERROR(fs_->check_operation("sync", path()));
    if (fs_->fail_syncs()) {
      (void)base_->flush();
      return absl::ErrnoToStatus(EIO, absl::StrCat("fdatasync ", path(), " (injected fault)"));
    }
    USAGEDB_RETURN_IF_ERROR(base_->sync());
    fs_->count_sync();
    fs_->set_synced_size(path(), base_->size());
    return absl::OkStatus();
  }

  absl::Status zero_fill(uint64_t end) override {
    USAGEDB_RETURN_IF_ERROR(fs_->check_operation("zero-fill", path()));
    const uint64_t n = end > base_->size() ? end - base_->size() : 0;
    if (!fs_->take_whole_write_budget(n)) {
      return absl::ResourceExhaustedError(absl::StrCat("write zeros to ", path(), " at offset ", base_->size(),
                                                       ": No space left on device (injected fault)"));
    }
    return base_->zero_fill(end);
  }

  absl::Status close() override {
    absl::Status status = fs_->check_operation("close", path());
    absl::Status closed = base_->close();
    return status.ok() ? closed : status;
  }

  uint64_t size() const override { return base_->size(); }
  const std::string& path() const override { return base_->path(); }

 private:
  FaultInjectionFileSystem* const fs_;
  const std::unique_ptr<WritableFile> base_;
};

void FaultInjectionFileSystem::set_write_budget(uint64_t bytes) {
  MutexLock lock(&mu_);
  write_budget_ = bytes;
}

void FaultInjectionFileSystem::set_operation_budget(uint64_t n) {
  MutexLock lock(&mu_);
  operation_budget_ = n;
}

void FaultInjectionFileSystem::set_fail_syncs(bool fail) {
  MutexLock lock(&mu_);
  fail_syncs_ = fail;
}

void FaultInjectionFileSystem::clear_faults() {
  MutexLock lock(&mu_);
  write_budget_.reset();
  operation_budget_.reset();
  fail_syncs_ = false;
}

absl::Status FaultInjectionFileSystem::drop_unsynced_data() {
  std::map<std::string, uint64_t> synced;
  {
    MutexLock lock(&mu_);
    synced = synced_size_;
  }
  for (const auto& [path, size] : synced) {
    if (!base_->file_exists(path)) continue;
    USAGEDB_ASSIGN_OR_RETURN(const uint64_t now, base_->file_size(path));
    if (now > size) USAGEDB_RETURN_IF_ERROR(base_->truncate_file(path, size));
  }
  return absl::OkStatus();
}

uint64_t FaultInjectionFileSystem::bytes_written() const {
  MutexLock lock(&mu_);
  return bytes_written_;
}

uint64_t FaultInjectionFileSystem::operations() const {
  MutexLock lock(&mu_);
  return operations_;
}

absl::Status FaultInjectionFileSystem::check_operation(std::string_view op, const std::string& path) {
  MutexLock lock(&mu_);
  ++operations_;
  if (operation_budget_.has_value()) {
    if (*operation_budget_ == 0) {
      return absl::ErrnoToStatus(EIO, absl::StrCat(text::absl_view(op), " ", path, " (injected fault)"));
    }
    --*operation_budget_;
  }
  return absl::OkStatus();
}

uint64_t FaultInjectionFileSystem::take_write_budget(uint64_t n) {
  MutexLock lock(&mu_);
  uint64_t allowed = n;
  if (write_budget_.has_value()) {
    allowed = std::min(n, *write_budget_);
    *write_budget_ -= allowed;
  }
  bytes_written_ += allowed;
  return allowed;
}

bool FaultInjectionFileSystem::take_whole_write_budget(uint64_t n) {
  MutexLock lock(&mu_);
  if (write_budget_.has_value()) {
    if (*write_budget_ < n) return false;
    *write_budget_ -= n;
  }
  return true;
}

void FaultInjectionFileSystem::set_sync_delay(std::chrono::milliseconds delay) {
  MutexLock lock(&mu_);
  sync_delay_ = delay;
}

void FaultInjectionFileSystem::count_sync() {
  std::chrono::milliseconds delay;
  {
    MutexLock lock(&mu_);
    ++file_syncs_;
    delay = sync_delay_;
  }
  if (delay.count() > 0) std::this_thread::sleep_for(delay);
}

uint64_t FaultInjectionFileSystem::file_syncs() const {
  MutexLock lock(&mu_);
  return file_syncs_;
}

bool FaultInjectionFileSystem::fail_syncs() const {
  MutexLock lock(&mu_);
  return fail_syncs_;
}

void FaultInjectionFileSystem::set_synced_size(const std::string& path, uint64_t size) {
  MutexLock lock(&mu_);
  synced_size_[path] = size;
}

absl::StatusOr<std::unique_ptr<WritableFile>> FaultInjectionFileSystem::wrap(
    absl::StatusOr<std::unique_ptr<WritableFile>> file, uint64_t synced_size) {
  if (!file.ok()) return file.status();
  set_synced_size((*file)->path(), synced_size);
  return std::make_unique<File>(this, *std::move(file));
}

absl::StatusOr<std::unique_ptr<WritableFile>> FaultInjectionFileSystem::open_append(const std::string& path) {
  USAGEDB_RETURN_IF_ERROR(check_operation("open for appending", path));
  absl::StatusOr<std::unique_ptr<WritableFile>> file = base_->open_append(path);
  const uint64_t size = file.ok() ? (*file)->size() : 0;
  return wrap(std::move(file), size);
}

absl::StatusOr<std::unique_ptr<WritableFile>> FaultInjectionFileSystem::open_truncate(const std::string& path) {
  USAGEDB_RETURN_IF_ERROR(check_operation("open for writing", path));
  return wrap(base_->open_truncate(path), 0);
}

absl::StatusOr<std::unique_ptr<storage::SequentialFile>> FaultInjectionFileSystem::open_sequential(
    const std::string& path) {
  return base_->open_sequential(path);
}

absl::StatusOr<std::string> FaultInjectionFileSystem::read_file(const std::string& path) {
  return base_->read_file(path);
}

absl::Status FaultInjectionFileSystem::sync_dir(const std::string& dir) {
  USAGEDB_RETURN_IF_ERROR(check_operation("sync directory", dir));
  if (fail_syncs()) return absl::ErrnoToStatus(EIO, absl::StrCat("fsync directory ", dir, " (injected fault)"));
  return base_->sync_dir(dir);
}

absl::Status FaultInjectionFileSystem::create_dir(const std::string& dir) {
  USAGEDB_RETURN_IF_ERROR(check_operation("create directory", dir));
  return base_->create_dir(dir);
}

absl::StatusOr<std::vector<std::string>> FaultInjectionFileSystem::list_dir(const std::string& dir) {
  return base_->list_dir(dir);
}

absl::Status FaultInjectionFileSystem::remove_file(const std::string& path) {
  USAGEDB_RETURN_IF_ERROR(check_operation("remove", path));
  USAGEDB_RETURN_IF_ERROR(base_->remove_file(path));
  MutexLock lock(&mu_);
  synced_size_.erase(path);
  return absl::OkStatus();
}

absl::Status FaultInjectionFileSystem::rename_file(const std::string& from, const std::string& to) {
  USAGEDB_RETURN_IF_ERROR(check_operation("rename", from));
  USAGEDB_RETURN_IF_ERROR(base_->rename_file(from, to));
  MutexLock lock(&mu_);
  // `to` is now the file that was `from`, with what of it was synced.
  auto it = synced_size_.find(from);
  if (it == synced_size_.end()) {
    synced_size_.erase(to);
  } else {
    const uint64_t synced = it->second;
    synced_size_.erase(it);
    synced_size_[to] = synced;
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> FaultInjectionFileSystem::file_size(const std::string& path) {
  return base_->file_size(path);
}

bool FaultInjectionFileSystem::file_exists(const std::string& path) { return base_->file_exists(path); }

absl::Status FaultInjectionFileSystem::truncate_file(const std::string& path, uint64_t size) {
  USAGEDB_RETURN_IF_ERROR(check_operation("truncate", path));
  USAGEDB_RETURN_IF_ERROR(base_->truncate_file(path, size));
  MutexLock lock(&mu_);
  if (auto it = synced_size_.find(path); it != synced_size_.end()) it->second = std::min(it->second, size);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<storage::FileLock>> FaultInjectionFileSystem::lock_file(const std::string& path) {
  return base_->lock_file(path);
}

}  // namespace usagedb::testing
