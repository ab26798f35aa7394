#include "lib/ingest/row_builder.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/ingest/validate.h"

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

// The inline verdict readers use agrees with validate_event() on every rule.
TEST(RowBuilder, IsValidEventAgreesWithValidateEvent) {
  const Event valid{"e", "u", "f", "1", "view", Timestamp{std::chrono::seconds{5}}, "s", "m"};
  std::vector<Event> events(12, valid);
  events[1].user_id = "";
  events[2].feature_id = "";
  events[3].product_version = "";
  events[4].event_type = "";
  events[5].timestamp = kMinTimestamp;
  events[6].timestamp = kMinTimestamp - std::chrono::seconds{1};
  events[7].timestamp = kMaxTimestamp;
  events[8].timestamp = kMaxTimestamp + std::chrono::seconds{1};
  events[9].event_id = events[9].session_id = events[9].metadata = "";  // optional
  events[10].user_id = "\xff";                                          // invalid UTF-8
  events[11].metadata = "caf\xc3";
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(is_valid_event(events[i], Utf8::kCheck), !validate_event(events[i]).has_value()) << i;
    if (i < 10) {  // kKnownValid promises valid UTF-8
      EXPECT_EQ(is_valid_event(events[i], Utf8::kKnownValid), !validate_event(events[i], Utf8::kKnownValid).has_value())
          << i;
    }
  }
  EXPECT_TRUE(is_valid_event(valid, Utf8::kKnownValid));
  EXPECT_FALSE(is_valid_event(events[10], Utf8::kCheck));
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
  // Record 1 sets every column, the optional ones too, and has a fault.
  row.start();
  set_valid(&row);
  row.set_string(TableColumn::kEventId, "evt_1");
  row.set_string(TableColumn::kSessionId, "session_1");
  row.set_string(TableColumn::kMetadata, "meta_1");
  row.fail(TableColumn::kUserId, "bad");
  row.finish(1, "", &batch);
  // Record 2 sets only the required columns: none of record 1's strings
  // and not its fault may carry over.
  row.start();
  set_valid(&row);
  row.finish(2, "", &batch);
  // Record 3 sets nothing: record 2's columns do not count as given.
  row.start();
  row.finish(3, "", &batch);

  ASSERT_EQ(batch.events.size(), 1u);
  EXPECT_EQ(batch.event_lines[0], 2u);
  EXPECT_EQ(batch.events[0].user_id, "u");
  EXPECT_EQ(batch.events[0].event_id, "");
  EXPECT_EQ(batch.events[0].session_id, "");
  EXPECT_EQ(batch.events[0].metadata, "");
  ASSERT_EQ(batch.rejected.size(), 2u);
  EXPECT_EQ(batch.rejected[0].line, 1u);
  EXPECT_EQ(batch.rejected[1].line, 3u);
  EXPECT_EQ(batch.rejected[1].error,
            "user_id: missing; feature_id: missing; product_version: missing; event_type: missing; "
            "timestamp: missing");
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
