#include "lib/storage/file.h"

#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/gen/random.h"
#include "lib/storage/file_system.h"
#include "tests/testutil/fault_injection_fs.h"
#include "tests/testutil/temp_dir.h"
#include "tests/testutil/helpers.h"

namespace usagedb::storage {
namespace {

using ::testing::HasSubstr;
using usagedb::testing::FaultInjectionFileSystem;
using usagedb::testing::ScopedTempDir;

using ::usagedb::testing::message;

std::string random_bytes(size_t n, uint64_t seed) {
  gen::Random random(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(random.uniform(256));
  return s;
}

std::string must_read(const std::string& path) {
  absl::StatusOr<std::string> contents = read_file(path);
  EXPECT_TRUE(contents.ok()) << contents.status();
  return contents.ok() ? *contents : std::string();
}

TEST(WritableFile, BuffersSmallAppendsUntilFlush) {
  ScopedTempDir dir;
  const std::string path = dir.file("f");
  auto file = WritableFile::open_truncate(path);
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_TRUE((*file)->append("hello ").ok());
  ASSERT_TRUE((*file)->append("world").ok());
  EXPECT_EQ((*file)->size(), 11u);
  EXPECT_EQ(must_read(path), "");  // still in the user-space buffer
  ASSERT_TRUE((*file)->flush().ok());
  EXPECT_EQ(must_read(path), "hello world");
  EXPECT_EQ((*file)->path(), path);
}

TEST(WritableFile, WritesLargeAppendsThroughInOrder) {
  ScopedTempDir dir;
  const std::string path = dir.file("f");
  auto file = WritableFile::open_truncate(path);
  ASSERT_TRUE(file.ok()) << file.status();
  std::string expected;
  // Small, buffer-filling and larger-than-buffer appends interleaved.
  for (size_t n : {10, 70000, 3, 65536, 65535, 1, 300000, 0, 5}) {
    const std::string bytes = random_bytes(n, n);
    ASSERT_TRUE((*file)->append(bytes).ok());
    expected += bytes;
    EXPECT_EQ((*file)->size(), expected.size());
  }
  ASSERT_TRUE((*file)->sync().ok());
  EXPECT_EQ(must_read(path), expected);
  ASSERT_TRUE((*file)->close().ok());
  EXPECT_EQ(must_read(path), expected);
}

TEST(WritableFile, OpenAppendCreatesOrContinuesAndOpenTruncateEmpties) {
  ScopedTempDir dir;
  const std::string path = dir.file("f");
  {
    auto file = WritableFile::open_append(path);
    ASSERT_TRUE(file.ok()) << file.status();
    EXPECT_EQ((*file)->size(), 0u);
    ASSERT_TRUE((*file)->append("abc").ok());
    ASSERT_TRUE((*file)->close().ok());
  }
  {
    auto file = WritableFile::open_append(path);
    ASSERT_TRUE(file.ok()) << file.status();
    EXPECT_EQ((*file)->size(), 3u);
    ASSERT_TRUE((*file)->append("def").ok());
    EXPECT_EQ((*file)->size(), 6u);
  }  // the destructor flushes
  EXPECT_EQ(must_read(path), "abcdef");
  {
    auto file = WritableFile::open_truncate(path);
    ASSERT_TRUE(file.ok()) << file.status();
    EXPECT_EQ((*file)->size(), 0u);
  }
  EXPECT_EQ(must_read(path), "");
}

TEST(WritableFile, CallsAfterCloseFail) {
  ScopedTempDir dir;
  const std::string path = dir.file("f");
  auto file = WritableFile::open_truncate(path);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->close().ok());
  for (const absl::Status& s : {(*file)->append("x"), (*file)->flush(), (*file)->sync(), (*file)->close()}) {
    EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
    EXPECT_THAT(message(s), HasSubstr(path));
  }
}

TEST(WritableFile, OpenErrorNamesThePathAndTheErrno) {
  ScopedTempDir dir;
  const std::string path = dir.file("missing/f");
  for (absl::Status s : {WritableFile::open_append(path).status(), WritableFile::open_truncate(path).status()}) {
    EXPECT_TRUE(absl::IsNotFound(s)) << s;
    EXPECT_THAT(message(s), HasSubstr(path));
    EXPECT_THAT(message(s), HasSubstr("No such file or directory"));
  }
}

TEST(WritableFile, AFullDeviceFailsTheWriteWithENOSPC) {
  // /dev/full accepts open(2) and fails every write(2) with ENOSPC.
  auto file = WritableFile::open_append("/dev/full");
  if (!file.ok()) GTEST_SKIP() << "no /dev/full: " << file.status();
  ASSERT_TRUE((*file)->append("buffered").ok());  // nothing written yet
  absl::Status s = (*file)->flush();
  EXPECT_TRUE(absl::IsResourceExhausted(s)) << s;
  EXPECT_THAT(message(s), HasSubstr("/dev/full"));
  EXPECT_THAT(message(s), HasSubstr("No space left on device"));
  // A large append goes straight to write(2) and fails at once.
  s = (*file)->append(std::string(200000, 'x'));
  EXPECT_TRUE(absl::IsResourceExhausted(s)) << s;
  ASSERT_TRUE((*file)->append("more").ok());
  EXPECT_TRUE(absl::IsResourceExhausted((*file)->sync()));
}

TEST(SequentialFile, ReadsInChunksAndShortAtTheEnd) {
  ScopedTempDir dir;
  const std::string path = dir.file("f");
  const std::string contents = random_bytes(100000, 1);
  ASSERT_TRUE(write_file_atomically(path, contents).ok());
  auto from_disk = SequentialFile::open(path);
  ASSERT_TRUE(from_disk.ok()) << from_disk.status();
  auto from_memory = SequentialFile::from_string(contents, "mem");
  EXPECT_EQ(from_memory->path(), "mem");
  for (SequentialFile* file : {from_disk->get(), from_memory.get()}) {
    std::string got;
    std::string buf(30000, '\0');
    std::vector<size_t> sizes;
    for (;;) {
      auto n = file->read(buf.data(), buf.size());
      ASSERT_TRUE(n.ok()) << n.status();
      sizes.push_back(*n);
      if (*n == 0) break;
      got.append(buf.data(), *n);
    }
    EXPECT_EQ(got, contents);
    EXPECT_EQ(sizes, (std::vector<size_t>{30000, 30000, 30000, 10000, 0}));
  }
}

TEST(SequentialFile, OpenMissingFileIsNotFound) {
  ScopedTempDir dir;
  auto file = SequentialFile::open(dir.file("nope"));
  ASSERT_FALSE(file.ok());
  EXPECT_TRUE(absl::IsNotFound(file.status()));
  EXPECT_THAT(message(file.status()), HasSubstr(dir.file("nope")));
}

TEST(ReadFile, WholeFileAndRanges) {
  ScopedTempDir dir;
  const std::string path = dir.file("f");
  const std::string contents = random_bytes(200000, 2);
  ASSERT_TRUE(write_file_atomically(path, contents).ok());
  EXPECT_EQ(must_read(path), contents);
  auto range = read_file_range(path, 150000, 100);
  ASSERT_TRUE(range.ok());
  EXPECT_EQ(*range, contents.substr(150000, 100));
  range = read_file_range(path, 199990, 100);  // short at the end
  ASSERT_TRUE(range.ok());
  EXPECT_EQ(*range, contents.substr(199990));
  range = read_file_range(path, 500000, 10);
  ASSERT_TRUE(range.ok());
  EXPECT_EQ(*range, "");

  ASSERT_TRUE(write_file_atomically(path, "").ok());
  EXPECT_EQ(must_read(path), "");

  for (absl::Status s : {read_file(dir.file("nope")).status(), read_file_range(dir.file("nope"), 0, 1).status()}) {
    EXPECT_TRUE(absl::IsNotFound(s)) << s;
    EXPECT_THAT(message(s), HasSubstr(dir.file("nope")));
  }
}

TEST(WriteFileAtomically, ReplacesTheFileAndLeavesNoTemporary) {
  ScopedTempDir dir;
  const std::string path = dir.file("MANIFEST");
  ASSERT_TRUE(write_file_atomically(path, "first").ok());
  EXPECT_EQ(must_read(path), "first");
  ASSERT_TRUE(write_file_atomically(path, "second, longer").ok());
  EXPECT_EQ(must_read(path), "second, longer");
  ASSERT_TRUE(write_file_atomically(path, "3").ok());
  EXPECT_EQ(must_read(path), "3");
  auto names = list_dir(dir.path());
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, std::vector<std::string>{"MANIFEST"});
}

TEST(WriteFileAtomically, MissingDirectoryFailsNamingThePath) {
  ScopedTempDir dir;
  const std::string path = dir.file("no/such/dir/MANIFEST");
  absl::Status s = write_file_atomically(path, "x");
  EXPECT_TRUE(absl::IsNotFound(s)) << s;
  EXPECT_THAT(message(s), HasSubstr(path));
}

// Crashes the replacement after each of its steps in turn, then loses what
// was not synced: the file holds the old contents or the new, never a mix.
TEST(WriteFileAtomically, ACrashAtAnyStepLeavesOldOrNewContents) {
  ScopedTempDir dir;
  const std::string path = dir.file("MANIFEST");
  const std::string old_contents = "old manifest";
  const std::string new_contents = random_bytes(100000, 3);
  bool saw_old = false, saw_new = false;
  for (uint64_t steps = 0;; ++steps) {
    ASSERT_TRUE(write_file_atomically(path, old_contents).ok());
    FaultInjectionFileSystem fs;
    fs.set_operation_budget(steps);
    const absl::Status s = fs.write_file_atomically(path, new_contents);
    fs.clear_faults();
    ASSERT_TRUE(fs.drop_unsynced_data().ok());
    const std::string now = must_read(path);
    ASSERT_TRUE(now == old_contents || now == new_contents) << "after " << steps << " steps: " << now.size() << " bytes";
    if (s.ok()) {
      EXPECT_EQ(now, new_contents);
      saw_new = true;
      break;
    }
    EXPECT_THAT(message(s), HasSubstr("injected fault"));
    saw_old |= now == old_contents;
    ASSERT_LT(steps, 20u) << "never succeeded";
  }
  EXPECT_TRUE(saw_old);
  EXPECT_TRUE(saw_new);
  EXPECT_FALSE(file_exists(path + ".tmp"));
}

TEST(WriteFileAtomically, AFullDiskOrFailedSyncKeepsTheOldContents) {
  ScopedTempDir dir;
  const std::string path = dir.file("MANIFEST");
  const std::string new_contents(5000, 'n');
  for (uint64_t budget : {0, 1, 4096, 4999}) {
    ASSERT_TRUE(write_file_atomically(path, "old").ok());
    FaultInjectionFileSystem fs;
    fs.set_write_budget(budget);
    absl::Status s = fs.write_file_atomically(path, new_contents);
    EXPECT_TRUE(absl::IsResourceExhausted(s)) << s;
    EXPECT_THAT(message(s), HasSubstr(path + ".tmp"));
    EXPECT_EQ(must_read(path), "old");
    EXPECT_FALSE(file_exists(path + ".tmp"));
  }
  FaultInjectionFileSystem fs;
  fs.set_fail_syncs(true);
  absl::Status s = fs.write_file_atomically(path, new_contents);
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(message(s), HasSubstr("fdatasync " + path + ".tmp"));
  EXPECT_EQ(must_read(path), "old");
  EXPECT_FALSE(file_exists(path + ".tmp"));
}

// The crash model above can tell a correct replacement from one that renames
// before syncing: without the fsync the file is empty after the crash.
TEST(WriteFileAtomically, TheCrashModelCatchesARenameBeforeSync) {
  ScopedTempDir dir;
  const std::string path = dir.file("MANIFEST");
  ASSERT_TRUE(write_file_atomically(path, "old").ok());
  FaultInjectionFileSystem fs;
  auto tmp = fs.open_truncate(path + ".tmp");
  ASSERT_TRUE(tmp.ok());
  ASSERT_TRUE((*tmp)->append("new").ok());
  ASSERT_TRUE((*tmp)->close().ok());  // no sync
  ASSERT_TRUE(fs.rename_file(path + ".tmp", path).ok());
  ASSERT_TRUE(fs.drop_unsynced_data().ok());
  EXPECT_EQ(must_read(path), "");
}

TEST(Directories, CreateListSyncAndErrors) {
  ScopedTempDir dir;
  const std::string nested = dir.file("a/b/c");
  ASSERT_TRUE(create_dir(nested).ok());
  ASSERT_TRUE(create_dir(nested).ok());  // exists: fine
  ASSERT_TRUE(create_dir(nested + "/").ok());
  ASSERT_TRUE(sync_dir(nested).ok());
  for (const char* name : {"z", "a", "m"}) ASSERT_TRUE(write_file_atomically(nested + "/" + name, name).ok());
  auto names = list_dir(nested);
  ASSERT_TRUE(names.ok()) << names.status();
  EXPECT_EQ(*names, (std::vector<std::string>{"a", "m", "z"}));
  names = list_dir(dir.file("a"));
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, (std::vector<std::string>{"b"}));

  // A file in the way.
  absl::Status s = create_dir(nested + "/a/d");
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(message(s), HasSubstr(nested + "/a"));
  EXPECT_THAT(message(s), HasSubstr("Not a directory"));
  EXPECT_TRUE(absl::IsInvalidArgument(create_dir("")));

  for (absl::Status e : {list_dir(dir.file("nope")).status(), sync_dir(dir.file("nope"))}) {
    EXPECT_TRUE(absl::IsNotFound(e)) << e;
    EXPECT_THAT(message(e), HasSubstr(dir.file("nope")));
  }
}

TEST(Files, RemoveRenameSizeExistsTruncate) {
  ScopedTempDir dir;
  const std::string a = dir.file("a"), b = dir.file("b");
  ASSERT_TRUE(write_file_atomically(a, "0123456789").ok());
  ASSERT_TRUE(write_file_atomically(b, "bb").ok());
  EXPECT_TRUE(file_exists(a));
  EXPECT_FALSE(file_exists(dir.file("c")));
  auto size = file_size(a);
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, 10u);

  ASSERT_TRUE(truncate_file(a, 4).ok());
  EXPECT_EQ(must_read(a), "0123");
  ASSERT_TRUE(truncate_file(a, 6).ok());  // extends with zeros
  EXPECT_EQ(must_read(a), std::string("0123\0\0", 6));

  ASSERT_TRUE(rename_file(a, b).ok());  // replaces b
  EXPECT_FALSE(file_exists(a));
  EXPECT_EQ(must_read(b), std::string("0123\0\0", 6));

  ASSERT_TRUE(remove_file(b).ok());
  EXPECT_FALSE(file_exists(b));

  absl::Status s = remove_file(b);
  EXPECT_TRUE(absl::IsNotFound(s)) << s;
  EXPECT_THAT(message(s), HasSubstr(b));
  s = rename_file(a, b);
  EXPECT_TRUE(absl::IsNotFound(s)) << s;
  EXPECT_THAT(message(s), HasSubstr("rename " + a + " to " + b));
  EXPECT_TRUE(absl::IsNotFound(file_size(a).status()));
  s = truncate_file(a, 0);
  EXPECT_TRUE(absl::IsNotFound(s)) << s;
  EXPECT_THAT(message(s), HasSubstr(a));
}

TEST(Files, Dirname) {
  EXPECT_EQ(dirname("/var/lib/usage/LOCK"), "/var/lib/usage");
  EXPECT_EQ(dirname("/var/lib/usage/"), "/var/lib");
  EXPECT_EQ(dirname("LOCK"), ".");
  EXPECT_EQ(dirname("/LOCK"), "/");
  EXPECT_EQ(dirname("data/LOCK"), "data");
}

TEST(FileLock, ASecondAcquisitionInTheSameProcessFails) {
  ScopedTempDir dir;
  const std::string path = dir.file("LOCK");
  auto lock = FileLock::acquire(path);
  ASSERT_TRUE(lock.ok()) << lock.status();
  EXPECT_EQ((*lock)->path(), path);
  EXPECT_EQ(must_read(path), absl::StrCat(getpid(), "\n"));

  auto second = FileLock::acquire(path);
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(second.status())) << second.status();
  EXPECT_EQ(message(second.status()), absl::StrCat("store ", dir.path(), " is already open in this process (lock file ",
                                                   path, ", pid ", getpid(), ")"));

  lock->reset();  // released
  auto third = FileLock::acquire(path);
  EXPECT_TRUE(third.ok()) << third.status();
}

TEST(FileLock, MissingDirectoryFailsNamingThePath) {
  ScopedTempDir dir;
  auto lock = FileLock::acquire(dir.file("nope/LOCK"));
  ASSERT_FALSE(lock.ok());
  EXPECT_TRUE(absl::IsNotFound(lock.status()));
  EXPECT_THAT(message(lock.status()), HasSubstr(dir.file("nope/LOCK")));
}

// The child reports through its exit status: 0 when it saw exactly the
// expected error.
int child_try_lock(const std::string& path, pid_t holder) {
  auto lock = FileLock::acquire(path);
  if (lock.ok()) return 1;
  if (!absl::IsFailedPrecondition(lock.status())) return 2;
  const std::string expected = absl::StrCat("store ", dirname(path), " is in use by another process (lock file ",
                                            path, ", pid ", holder, ")");
  return message(lock.status()) == expected ? 0 : 3;
}

TEST(FileLock, AnotherProcessCannotAcquireIt) {
  ScopedTempDir dir;
  const std::string path = dir.file("LOCK");
  auto lock = FileLock::acquire(path);
  ASSERT_TRUE(lock.ok()) << lock.status();
  const pid_t parent = getpid();
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) _exit(child_try_lock(path, parent));
  int wstatus = 0;
  ASSERT_EQ(waitpid(child, &wstatus, 0), child);
  ASSERT_TRUE(WIFEXITED(wstatus));
  EXPECT_EQ(WEXITSTATUS(wstatus), 0) << "1: child got the lock, 2: wrong code, 3: wrong message";
}

TEST(FileLock, ALockHeldByAChildIsReleasedWhenItExits) {
  ScopedTempDir dir;
  const std::string path = dir.file("LOCK");
  int locked[2], release[2];
  ASSERT_EQ(pipe(locked), 0);
  ASSERT_EQ(pipe(release), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto lock = FileLock::acquire(path);
    const char ok = lock.ok() ? 'y' : 'n';
    if (write(locked[1], &ok, 1) != 1) _exit(1);
    char c;
    if (read(release[0], &c, 1) != 1) _exit(1);
    _exit(0);  // exits holding the lock: the kernel releases it
  }
  char ok = 0;
  ASSERT_EQ(read(locked[0], &ok, 1), 1);
  ASSERT_EQ(ok, 'y');
  auto mine = FileLock::acquire(path);
  ASSERT_FALSE(mine.ok());
  EXPECT_EQ(message(mine.status()), absl::StrCat("store ", dir.path(), " is in use by another process (lock file ",
                                                 path, ", pid ", child, ")"));
  ASSERT_EQ(write(release[1], "x", 1), 1);
  int wstatus = 0;
  ASSERT_EQ(waitpid(child, &wstatus, 0), child);
  EXPECT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0);
  mine = FileLock::acquire(path);
  EXPECT_TRUE(mine.ok()) << mine.status();
  for (int fd : {locked[0], locked[1], release[0], release[1]}) close(fd);
}

TEST(FileSystem, PosixForwardsToTheFreeFunctions) {
  ScopedTempDir dir;
  FileSystem* fs = FileSystem::posix();
  EXPECT_EQ(fs, FileSystem::posix());
  const std::string path = dir.file("sub/f");
  ASSERT_TRUE(fs->create_dir(dir.file("sub")).ok());
  ASSERT_TRUE(fs->write_file_atomically(path, "abc").ok());
  auto contents = fs->read_file(path);
  ASSERT_TRUE(contents.ok());
  EXPECT_EQ(*contents, "abc");
  EXPECT_TRUE(fs->file_exists(path));
  EXPECT_EQ(*fs->file_size(path), 3u);
  ASSERT_TRUE(fs->truncate_file(path, 1).ok());
  ASSERT_TRUE(fs->rename_file(path, dir.file("sub/g")).ok());
  EXPECT_EQ(*fs->list_dir(dir.file("sub")), (std::vector<std::string>{"g"}));
  ASSERT_TRUE(fs->sync_dir(dir.file("sub")).ok());
  auto lock = fs->lock_file(dir.file("LOCK"));
  ASSERT_TRUE(lock.ok());
  EXPECT_FALSE(fs->lock_file(dir.file("LOCK")).ok());
  ASSERT_TRUE(fs->remove_file(dir.file("sub/g")).ok());
  EXPECT_FALSE(fs->file_exists(dir.file("sub/g")));
}

}  // namespace
}  // namespace usagedb::storage
