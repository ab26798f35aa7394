#include "lib/storage/store_file_names.h"

#include <optional>

#include "gtest/gtest.h"

namespace usagedb::storage {
namespace {

TEST(StoreFileNames, EachKindOfFileAndItsNumber) {
  EXPECT_EQ(log_file_name(7), "log-7.wal");
  EXPECT_EQ(quarantine_file_name(8), "quarantine-8.log");
  EXPECT_EQ(part_file_name(202505, 9), "part-202505-9.udbp");
  EXPECT_EQ(dictionary_file_name(DictionaryColumn::kUser, 10), "dict-user_id-10.udbd");
  EXPECT_EQ(dictionary_file_name(DictionaryColumn::kSession, 11), "dict-session_id-11.udbd");
  EXPECT_EQ(rollup_file_name(202512, 12), "rollup-202512-12.udbr");
  for (const std::string& name : {log_file_name(7), quarantine_file_name(7), part_file_name(202505, 7),
                                  dictionary_file_name(DictionaryColumn::kEventType, 7), rollup_file_name(202505, 7)}) {
    EXPECT_TRUE(is_store_file(name)) << name;
    EXPECT_TRUE(is_store_file(name + ".tmp")) << name;
    EXPECT_EQ(file_number(name), 7u) << name;
    EXPECT_EQ(file_number(name + ".tmp"), 7u) << name;
  }
}

TEST(StoreFileNames, WhatIsNotAStoreFileOrHasNoNumber) {
  EXPECT_FALSE(is_store_file(kManifestFileName));  // replaced, never deleted
  EXPECT_FALSE(is_store_file(kLockFileName));
  EXPECT_TRUE(is_store_file("MANIFEST.tmp"));
  EXPECT_FALSE(is_store_file("notes.txt"));
  EXPECT_EQ(file_number("log-.wal"), std::nullopt);
  EXPECT_EQ(file_number("log-x.wal"), std::nullopt);
  EXPECT_EQ(file_number("log-7"), std::nullopt);
  EXPECT_EQ(file_number("MANIFEST"), std::nullopt);
}

TEST(StoreFileNames, OnlyLogsHaveALogNumber) {
  EXPECT_EQ(log_file_number("log-12.wal"), 12u);
  EXPECT_EQ(log_file_number("log-12.wal.tmp"), std::nullopt);
  EXPECT_EQ(log_file_number("log-.wal"), std::nullopt);
  EXPECT_EQ(log_file_number("log-1x.wal"), std::nullopt);
  EXPECT_EQ(log_file_number("quarantine-12.log"), std::nullopt);
  EXPECT_EQ(log_file_number("part-202505-12.udbp"), std::nullopt);
}

}  // namespace
}  // namespace usagedb::storage
