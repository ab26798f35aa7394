// FaultInjectionFileSystem: a storage::FileSystem for tests that passes every
// call to a real one (POSIX by default) until told to fail (leveldb's
// db/fault_injection_test.cc). Three faults, each independent:
//
//  - a write budget: a full disk, or a crash in the middle of a write;
//  - an operation budget: every mutating call after the next N fails, to
//    crash a multi-step procedure at each of its steps in turn;
//  - failing syncs (files and directories).
//
// drop_unsynced_data() then simulates a power loss: every file written
// through this file system loses the bytes appended since its last
// successful sync (and any zeros it wrote ahead of them). Directory changes (creations, renames, removals) are
// modelled as durable at once; only file contents are lost.
//
//   testing::FaultInjectionFileSystem fs;
//   fs.set_write_budget(100);                       // the disk fills after 100 bytes
//   auto log = storage::LogWriter::create(path, 1, &fs);
//   EXPECT_TRUE(absl::IsResourceExhausted((*log)->add_record(big)));
//   fs.clear_faults();
//   ASSERT_TRUE(fs.drop_unsynced_data().ok());      // and the machine lost power
//   auto reader = storage::LogReader::open(path, 1);  // recovery sees the synced prefix
//
// Thread-safety: safe for concurrent use, like any FileSystem.
#ifndef USAGEDB_TESTS_TESTUTIL_FAULT_INJECTION_FS_H_
#define USAGEDB_TESTS_TESTUTIL_FAULT_INJECTION_FS_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "lib/storage/file_system.h"
#include "lib/util/mutex.h"

namespace usagedb::testing {

class FaultInjectionFileSystem final : public storage::FileSystem {
 public:
  explicit FaultInjectionFileSystem(storage::FileSystem* base = storage::FileSystem::posix()) : base_(base) {}

  // After `bytes` more bytes appended (to any file opened for writing through
  // this file system), writes fail: the append that crosses the limit hands
  // the bytes that fit to the OS and fails, as does every later non-empty
  // append, with ResourceExhaustedError "... No space left on device
  // (injected fault)". A file's zero_fill() (zeros written ahead of its
  // appends) takes from the budget too, all or nothing: one that does not
  // fit fails and writes no zero, as the POSIX file cuts off the zeros of a
  // fill that failed. Zeros are not counted in bytes_written().
  void set_write_budget(uint64_t bytes);
  // After `n` more mutating calls succeed, every mutating call fails with an
  // injected I/O error. Mutating calls: open_append, open_truncate, a file's
  // append, flush, sync, zero_fill and close, sync_dir, create_dir, remove_file,
  // rename_file, truncate_file. A failing close still closes the file, and
  // bytes a file buffered before the failure reach it when it is closed or
  // destroyed: call drop_unsynced_data() to lose them, as a crash would.
  void set_operation_budget(uint64_t n);
  // While set, a file's sync() (after handing its buffer to the OS) and
  // sync_dir() fail with an injected I/O error.
  void set_fail_syncs(bool fail);
  // Each file sync() that succeeds takes at least this long (a slow disk:
  // concurrent writers queue up behind it). Not a fault: clear_faults()
  // keeps it.
  void set_sync_delay(std::chrono::milliseconds delay);
  // Removes every fault; counters keep counting.
  void clear_faults();

  // Simulates a power loss: truncates every file opened for writing through
  // this file system to its size at its last successful sync (or when it was
  // opened, for open_append; 0 for open_truncate). Close the files first.
  absl::Status drop_unsynced_data();

  // Bytes appended and mutating calls made through this file system so far.
  uint64_t bytes_written() const;
  uint64_t operations() const;
  // Successful file syncs (not directory syncs) so far.
  uint64_t file_syncs() const;

  // storage::FileSystem
  absl::StatusOr<std::unique_ptr<storage::WritableFile>> open_append(const std::string& path) override;
  absl::StatusOr<std::unique_ptr<storage::WritableFile>> open_truncate(const std::string& path) override;
  absl::StatusOr<std::unique_ptr<storage::SequentialFile>> open_sequential(const std::string& path) override;
  absl::StatusOr<std::string> read_file(const std::string& path) override;
  absl::Status sync_dir(const std::string& dir) override;
  absl::Status create_dir(const std::string& dir) override;
  absl::StatusOr<std::vector<std::string>> list_dir(const std::string& dir) override;
  absl::Status remove_file(const std::string& path) override;
  absl::Status rename_file(const std::string& from, const std::string& to) override;
  absl::StatusOr<uint64_t> file_size(const std::string& path) override;
  bool file_exists(const std::string& path) override;
  absl::Status truncate_file(const std::string& path, uint64_t size) override;
  absl::StatusOr<std::unique_ptr<storage::FileLock>> lock_file(const std::string& path) override;

 private:
  class File;
  friend class File;

  // OK, or the injected failure of mutating call `op` on `path`. Counts it.
  absl::Status check_operation(std::string_view op, const std::string& path) ABSL_LOCKS_EXCLUDED(mu_);
  // How many of `n` bytes the write budget allows; counts them.
  uint64_t take_write_budget(uint64_t n) ABSL_LOCKS_EXCLUDED(mu_);
  // Whether the write budget holds `n` more bytes; takes them if so.
  bool take_whole_write_budget(uint64_t n) ABSL_LOCKS_EXCLUDED(mu_);
  bool fail_syncs() const ABSL_LOCKS_EXCLUDED(mu_);
  // Counts a successful file sync, after the sync delay.
  void count_sync() ABSL_LOCKS_EXCLUDED(mu_);
  void set_synced_size(const std::string& path, uint64_t size) ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<std::unique_ptr<storage::WritableFile>> wrap(
      absl::StatusOr<std::unique_ptr<storage::WritableFile>> file, uint64_t synced_size);

  storage::FileSystem* const base_;
  mutable Mutex mu_;
  std::optional<uint64_t> write_budget_ ABSL_GUARDED_BY(mu_);
  std::optional<uint64_t> operation_budget_ ABSL_GUARDED_BY(mu_);
  bool fail_syncs_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t bytes_written_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t operations_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t file_syncs_ ABSL_GUARDED_BY(mu_) = 0;
  std::chrono::milliseconds sync_delay_ ABSL_GUARDED_BY(mu_){0};
  std::map<std::string, uint64_t> synced_size_ ABSL_GUARDED_BY(mu_);  // by path
};

}  // namespace usagedb::testing

#endif  // USAGEDB_TESTS_TESTUTIL_FAULT_INJECTION_FS_H_
