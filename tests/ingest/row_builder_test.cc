#include "lib/ingest/row_builder.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace usagedb {
namespace {

using ::testing::ElementsAre;

TEST(RowBuilder, ColumnNames) {
  EXPECT_EQ(column_name(TableColumn::kProductVersion), "product_version");
  EXPECT_EQ(column_by_name("session_id"), TableColumn::kSessionId);
  EXPECT_EQ(column_by_name("Session_id"), std::nullopt);
  EXPECT_TRUE(is_required(TableColumn::kTimestamp));
  EXPECT_FALSE(is_required(TableColumn::kMetadata));
}

void set_valid(RowBuilder* row) {
  row->set_string(TableColumn::kUserId, "u");
  row->set_string(TableColumn::kFeatureId, "f");
  row->set_string(TableColumn::kProductVersion, "1");
  row->set_string(TableColumn::kEventType, "view");
  row->set_timestamp(Timestamp{std::chrono::seconds{5}});
}

TEST(RowBuilder, ValidRowBecomesAnEvent) {
  RowBuilder row;
  ParsedBatch batch;
  row.start();
  set_valid(&row);
  row.finish(3, "raw", &batch);
  ASSERT_EQ(batch.events.size(), 1u);
  EXPECT_EQ(batch.event_lines[0], 3u);
  EXPECT_EQ(batch.events[0].feature_id, "f");
  EXPECT_EQ(batch.records, 1u);
}

TEST(RowBuilder, ListsEveryFaultWithValidateEventsWords) {
  RowBuilder row;
  ParsedBatch batch;
  row.start();
  set_valid(&row);
  row.set_string(TableColumn::kUserId, "");                  // validate_event: must not be empty
  row.set_string(TableColumn::kSessionId, "\xff");           // validate_event: not UTF-8
  row.fail(TableColumn::kMetadata, "expected a string");     // the reader's own
  row.fail(TableColumn::kMetadata, "a second message");      // the first one is kept
  row.finish(9, "the raw text", &batch);
  ASSERT_EQ(batch.rejected.size(), 1u);
  const RejectedRow& r = batch.rejected[0];
  EXPECT_EQ(r.line, 9u);
  EXPECT_EQ(r.raw, "the raw text");
  EXPECT_THAT(r.columns, ElementsAre("user_id", "session_id", "metadata"));
  EXPECT_EQ(r.error, "user_id: must not be empty; session_id: is not valid UTF-8; metadata: expected a string");
}

TEST(RowBuilder, StartForgetsThePreviousRecord) {
  RowBuilder row;
  ParsedBatch batch;
  row.start();
  row.fail(TableColumn::kUserId, "bad");
  row.finish(1, "", &batch);
  row.start();
  set_valid(&row);
  row.finish(2, "", &batch);
  EXPECT_EQ(batch.rejected.size(), 1u);
  EXPECT_EQ(batch.events.size(), 1u);
  EXPECT_EQ(batch.events[0].event_id, "");
}

TEST(RowBuilder, RejectRecordNamesNoColumn) {
  ParsedBatch batch;
  reject_record(4, "x", "not valid JSON: y", &batch);
  ASSERT_EQ(batch.rejected.size(), 1u);
  EXPECT_TRUE(batch.rejected[0].columns.empty());
  EXPECT_EQ(batch.records, 1u);
}

}  // namespace
}  // namespace usagedb
