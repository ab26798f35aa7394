#include "tests/testutil/fault_injection_fs.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/storage/file.h"
#include "tests/testutil/temp_dir.h"
#include "tests/testutil/helpers.h"

namespace usagedb::testing {
namespace {

using ::testing::HasSubstr;

using ::usagedb::testing::message;

std::string must_read(const std::string& path) {
  absl::StatusOr<std::string> contents = storage::read_file(path);
  EXPECT_TRUE(contents.ok()) << contents.status();
  return contents.ok() ? *contents : std::string();
}

TEST(FaultInjectionFileSystem, PassesCallsThroughWithoutFaults) {
  ScopedTempDir dir;
  FaultInjectionFileSystem fs;
  const std::string path = dir.file("f");
  auto file = fs.open_truncate(path);
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_TRUE((*file)->append("abc").ok());
  ASSERT_TRUE((*file)->flush().ok());
  ASSERT_TRUE((*file)->sync().ok());
  ASSERT_TRUE((*file)->close().ok());
  EXPECT_EQ(must_read(path), "abc");
  EXPECT_EQ(fs.bytes_written(), 3u);
  EXPECT_EQ(fs.operations(), 5u);  // open, append, flush, sync, close
}

TEST(FaultInjectionFileSystem, WriteBudgetCutsTheCrossingAppendAndFailsLaterOnes) {
  ScopedTempDir dir;
  FaultInjectionFileSystem fs;
  const std::string path = dir.file("f");
  fs.set_write_budget(10);
  auto file = fs.open_truncate(path);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->append("0123").ok());
  absl::Status s = (*file)->append("456789abcdef");
  EXPECT_TRUE(absl::IsResourceExhausted(s)) << s;
  EXPECT_THAT(message(s), HasSubstr(path));
  EXPECT_THAT(message(s), HasSubstr("No space left on device (injected fault)"));
  EXPECT_EQ(must_read(path), "0123456789");  // exactly the budget reached the file
  EXPECT_TRUE(absl::IsResourceExhausted((*file)->append("x")));
  EXPECT_TRUE((*file)->append("").ok());
  EXPECT_EQ(fs.bytes_written(), 10u);
  fs.clear_faults();
  ASSERT_TRUE((*file)->append("!").ok());
  ASSERT_TRUE((*file)->close().ok());
  EXPECT_EQ(must_read(path), "0123456789!");
}

TEST(FaultInjectionFileSystem, OperationBudgetFailsEveryMutatingCallAfterIt) {
  ScopedTempDir dir;
  FaultInjectionFileSystem fs;
  const std::string path = dir.file("f");
  ASSERT_TRUE(storage::write_file_atomically(path, "x").ok());
  fs.set_operation_budget(2);
  auto file = fs.open_append(path);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->append("y").ok());
  for (absl::Status s : {(*file)->append("z"), (*file)->flush(), (*file)->sync(), fs.sync_dir(dir.path()),
                         fs.create_dir(dir.file("d")), fs.remove_file(path), fs.rename_file(path, dir.file("g")),
                         fs.truncate_file(path, 0), fs.open_truncate(path).status(), fs.open_append(path).status()}) {
    EXPECT_FALSE(s.ok());
    EXPECT_THAT(message(s), HasSubstr("(injected fault)"));
  }
  // Reads and queries still work.
  EXPECT_TRUE(fs.file_exists(path));
  EXPECT_TRUE(fs.list_dir(dir.path()).ok());
  EXPECT_FALSE((*file)->close().ok());  // fails, but closes: the buffered "y" reaches the file
  EXPECT_EQ(must_read(path), "xy");
}

TEST(FaultInjectionFileSystem, FailedSyncsLeaveDataUnsynced) {
  ScopedTempDir dir;
  FaultInjectionFileSystem fs;
  const std::string path = dir.file("f");
  auto file = fs.open_truncate(path);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->append("durable").ok());
  ASSERT_TRUE((*file)->sync().ok());
  fs.set_fail_syncs(true);
  ASSERT_TRUE((*file)->append(" lost").ok());
  absl::Status s = (*file)->sync();
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(message(s), HasSubstr("fdatasync " + path + " (injected fault)"));
  EXPECT_FALSE(fs.sync_dir(dir.path()).ok());
  ASSERT_TRUE((*file)->close().ok());
  EXPECT_EQ(must_read(path), "durable lost");
  ASSERT_TRUE(fs.drop_unsynced_data().ok());
  EXPECT_EQ(must_read(path), "durable");
}

TEST(FaultInjectionFileSystem, DropUnsyncedDataFollowsRenamesAndTruncations) {
  ScopedTempDir dir;
  FaultInjectionFileSystem fs;
  const std::string a = dir.file("a"), b = dir.file("b"), c = dir.file("c");
  ASSERT_TRUE(storage::write_file_atomically(c, "untouched by fs").ok());
  {
    auto file = fs.open_truncate(a);
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE((*file)->append("synced").ok());
    ASSERT_TRUE((*file)->sync().ok());
    ASSERT_TRUE((*file)->append(" unsynced").ok());
    ASSERT_TRUE((*file)->close().ok());
  }
  ASSERT_TRUE(fs.rename_file(a, b).ok());
  {
    auto file = fs.open_append(c);  // what was there at open counts as synced
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE((*file)->append(" appended").ok());
    ASSERT_TRUE((*file)->close().ok());
  }
  ASSERT_TRUE(fs.drop_unsynced_data().ok());
  EXPECT_FALSE(storage::file_exists(a));
  EXPECT_EQ(must_read(b), "synced");
  EXPECT_EQ(must_read(c), "untouched by fs");

  ASSERT_TRUE(fs.truncate_file(b, 3).ok());
  {
    auto file = fs.open_append(b);
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE((*file)->append("XYZ").ok());
    ASSERT_TRUE((*file)->close().ok());
  }
  ASSERT_TRUE(fs.drop_unsynced_data().ok());
  EXPECT_EQ(must_read(b), "syn");
}

}  // namespace
}  // namespace usagedb::testing
